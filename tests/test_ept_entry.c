// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the EPT entry encoding (kmod/ept_entry.h). */
#include "kshim.h"
#include "ksft_check.h"
#include "ept_entry.h"

int main(void)
{
	u64 e;

	/* SDM 29.3.2: PML4 index = gpa[47:39], PT index = gpa[20:12]. */
	TAP_CHECK(eg_ept_index(0x0000ff8000000000ULL, 4) == 511, "PML4 index of 0xff8000000000");
	TAP_CHECK(eg_ept_index(0x40000000ULL, 3) == 1, "PDPT index of 1 GiB");
	TAP_CHECK(eg_ept_index(0x200000ULL, 2) == 1, "PD index of 2 MiB");
	TAP_CHECK(eg_ept_index(0x1fff000ULL, 1) == 511, "PT index of 0x1fff000");
	TAP_CHECK(eg_ept_index(0x1fff000ULL, 2) == 15, "PD index of 0x1fff000");
	TAP_CHECK(eg_ept_level_size(2) == 2ULL << 20, "a PDE covers 2 MiB");
	TAP_CHECK(eg_ept_level_size(4) == 512ULL << 30, "a PML4E covers 512 GiB");

	e = eg_ept_make_table(0x1234567000ULL | 0xfff);
	TAP_CHECK(e == (0x1234567000ULL | 7), "table entry: address and RWX, low bits dropped");
	TAP_CHECK(!eg_ept_is_leaf(e, 2) && eg_ept_is_leaf(e, 1), "table entry is a leaf only at level 1");

	e = eg_ept_make_leaf(0xabcdef000ULL, EG_EPT_R | EG_EPT_X, 1, EG_EPT_SW_REF);
	TAP_CHECK(eg_ept_addr(e) == 0xabcdef000ULL, "4K leaf keeps the address");
	TAP_CHECK(eg_ept_access(e) == (EG_EPT_R | EG_EPT_X), "4K leaf keeps R-X");
	TAP_CHECK(((e >> 3) & 7) == 6, "leaf memory type is WB (6)");
	TAP_CHECK(e & EG_EPT_IPAT, "leaf ignores guest PAT");
	TAP_CHECK((e & (EG_EPT_A | EG_EPT_D)) == (EG_EPT_A | EG_EPT_D), "leaf has A and D preset");
	TAP_CHECK(!(e & EG_EPT_LEAF_LARGE), "4K leaf has no large bit");
	TAP_CHECK(e & EG_EPT_SW_REF, "software bit kept");
	TAP_CHECK(!(e & (1ULL << 63)), "suppress-#VE bit clear");

	e = eg_ept_make_leaf(0x40200000ULL, EG_EPT_RWX, 2, EG_EPT_SW_WINDOW);
	TAP_CHECK(e & EG_EPT_LEAF_LARGE, "2M leaf has bit 7");
	TAP_CHECK(eg_ept_is_leaf(e, 2), "2M leaf is a leaf at level 2");
	TAP_CHECK(eg_ept_addr(e) == 0x40200000ULL, "2M leaf keeps the address");
	TAP_CHECK(eg_ept_addr(eg_ept_make_leaf(1ULL << 52, EG_EPT_R, 1, 0)) == 0,
		  "addresses above bit 51 cannot leak into software bits");

	e = eg_make_eptp(0x5000ULL, EG_MT_WB);
	TAP_CHECK(e == (0x5000ULL | (3 << 3) | 6), "EPTP: WB, 4-level walk, A/D off");
	TAP_CHECK(eg_make_eptp(0x5000ULL | (1ULL << 52), EG_MT_UC) == (0x5000ULL | (3 << 3)),
		  "EPTP: UC, and no address bit above 51");

	TAP_CHECK(eg_access_encodable(EG_EPT_R, false), "R is encodable");
	TAP_CHECK(eg_access_encodable(EG_EPT_RWX, false), "RWX is encodable");
	TAP_CHECK(!eg_access_encodable(EG_EPT_W, true), "W without R is a misconfiguration");
	TAP_CHECK(!eg_access_encodable(EG_EPT_W | EG_EPT_X, true), "WX without R is a misconfiguration");
	TAP_CHECK(!eg_access_encodable(EG_EPT_X, false), "X-only needs the capability");
	TAP_CHECK(eg_access_encodable(EG_EPT_X, true), "X-only with the capability");
	TAP_CHECK(!eg_access_encodable(8, true), "bit 3 is not an access bit");
	TAP_CHECK(!eg_ept_present(0) && eg_ept_present(EG_EPT_X), "present means any of RWX");
	return tap_done();
}
