# SPDX-License-Identifier: GPL-2.0
#
# eptgate top-level build.
#
#   make              eptgate.ko for $(KDIR), the selftests, eptgatectl
#   make check        everything that is tested: unit tests (ASan/UBSan),
#                     a bounded fuzz run, checkpatch, the module for both
#                     Debian kernels (W=1), and the selftests inside an
#                     emulated Intel CPU (Bochs) on both kernels
#   make demo         two VMs in the emulated CPU, one writing through a
#                     window into the other, with counters
#   make lint         checkpatch.pl --strict on the kernel sources
#   make dkms-install DKMS: the source into /usr/src/eptgate-VERSION, dkms install
#                     (rebuilt for every kernel installed later)
#   make dkms-check   dkms build against both kernels' headers, in build/dkms only
#   make eptgatectl   the operator's tool (tools/eptgatectl) and its man page (rst2man)
#   make install      eptgatectl and its man page into $(DESTDIR)$(PREFIX)
#                     (PREFIX /usr/local: sbin/, share/man/man8/)
#   make unit | fuzz | modules-all | selftests | deps | clean

SHELL := /bin/bash
TOP := $(CURDIR)
B := $(TOP)/build

# The running kernel's build directory, else the newest installed headers, else
# Debian's 6.1 headers unpacked (never installed) under build/ by headers.sh.
# (Recursive: evaluated, and the headers fetched, only by targets that use it.)
KDIR ?= $(shell d=/lib/modules/$$(uname -r)/build; [ -d $$d ] && echo $$d || \
	  ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1 | grep . || \
	  scripts/bochs/headers.sh 6.1 $(B)/headers-6.1)
# The selftests sign trampoline blobs with the kernel's scripts/sign-file: the one of the
# unpacked linux-kbuild-6.1 (guest/sign/eptgate-sign reads SIGN_FILE first).
SIGN_FILE ?= $(firstword $(wildcard $(B)/headers-6.1/root/usr/lib/linux-kbuild-6.1/scripts/sign-file \
	/usr/lib/linux-kbuild-6.1/scripts/sign-file))
ifneq ($(SIGN_FILE),)
export SIGN_FILE
endif

KSRC_TARBALL := /usr/src/linux-source-6.1.tar.xz
CHECKPATCH := $(B)/ksrc-scripts/linux-source-6.1/scripts/checkpatch.pl
# The unit tests print TAP with the kernel's kselftest.h, from the same tarball.
KSELFTEST_H := $(B)/ksrc-scripts/linux-source-6.1/tools/testing/selftests/kselftest.h
KERNEL_SOURCES := $(wildcard kmod/*.[ch]) uapi/linux/eptgate.h

UNIT_TESTS := test_ept_entry test_range test_uarg test_tx test_tramp
UNIT_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -O1 \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-Itests -I$(dir $(KSELFTEST_H)) -Ikmod -Iuapi -include tests/kshim.h
FUZZ_SECONDS ?= 300

# eptgatectl (tools/eptgatectl, Documentation/eptgatectl.rst)
ECTL_LIB_SRC := tools/eptgatectl/cmd.c tools/eptgatectl/format.c
ECTL_SRC := $(ECTL_LIB_SRC) tools/eptgatectl/dev.c tools/eptgatectl/main.c
ECTL_HDRS := tools/eptgatectl/eptgatectl.h uapi/linux/eptgate.h
ECTL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O2 -g \
	-Iuapi -Itools/eptgatectl
PREFIX ?= /usr/local
DESTDIR ?=
RST2MAN ?= $(firstword $(shell command -v rst2man rst2man.py 2>/dev/null))

.PHONY: all module modules-all selftests unit fuzz fuzz-build lint check check-smp \
	demo demo-views deps clean bench bench-ir dkms-install dkms-check eptgatectl install

all: module selftests $(B)/eptgatectl/eptgatectl

# Kbuild writes objects next to the sources: each kernel gets its own copy.
define build_module
	rm -rf $(2) && mkdir -p $(2) && cp -r Kbuild kmod uapi $(2)/
	$(MAKE) -C $(1) M=$(2) W=1 modules 2>&1 | tee $(2)/build.log
	@! grep -E 'warning:|error:' $(2)/build.log
	@test -f $(2)/eptgate.ko
endef

module:
	@test -n "$(KDIR)" || { echo "no kernel headers: make deps" >&2; exit 1; }
	$(call build_module,$(KDIR),$(B)/mod-default)

modules-all:
	@for s in 6.1 6.12; do \
		abi=$$(scripts/bochs/kver.sh $$s) || exit 1; \
		kdir=$$(scripts/bochs/headers.sh $$s $(B)/headers-$$s) || exit 1; \
		$(MAKE) --no-print-directory module KDIR=$$kdir \
			B=$(B)/$$abi >/dev/null || { echo "module build for $$abi failed"; exit 1; }; \
		echo "eptgate.ko for $$abi: $(B)/$$abi/mod-default/eptgate.ko"; \
	done

selftests:
	$(MAKE) -C selftests O=$(B)/selftests

$(B)/unit/%: tests/%.c kmod/range.c kmod/uarg.c kmod/*.h uapi/linux/eptgate.h tests/*.h \
		$(KSELFTEST_H)
	@mkdir -p $(B)/unit
	$(CC) $(UNIT_CFLAGS) -o $@ $< kmod/range.c kmod/uarg.c

# The Tx path: one source for the trampoline (freestanding, PIE, no libc,
# no relocations but PC-relative ones: checked here) and for the tests.
TX_SRC := guest/tx/eg_tx.c guest/tx/eg_tx.h guest/tx/vring.h
$(B)/unit/eg_tx-freestanding.o: $(TX_SRC)
	@mkdir -p $(B)/unit
	gcc -std=c11 -Wall -Wextra -Werror -ffreestanding -fno-builtin -nostdlib \
		-fPIE -O2 -mno-red-zone -c -o $@ guest/tx/eg_tx.c
	@! nm -u $@ | grep . || { echo "eg_tx.c: undefined symbols" >&2; exit 1; }
	@! readelf -rW $@ | awk '/^ *[0-9a-f]+ +[0-9a-f]+ R_X86_64_/ {print $$3}' | \
		grep -Ev '^R_X86_64_(PC32|PLT32)$$' || { echo "eg_tx.c: absolute relocations" >&2; exit 1; }

$(B)/unit/test_tx: tests/test_tx.c $(TX_SRC) tests/*.h $(KSELFTEST_H) \
		$(B)/unit/eg_tx-freestanding.o
	$(CC) $(UNIT_CFLAGS) -Iguest/tx -pthread -o $@ $< guest/tx/eg_tx.c

# The trampoline's body on the host, with the same Tx path.
$(B)/unit/test_tramp: tests/test_tramp.c guest/trampoline/tramp.c $(TX_SRC) \
		guest/trampoline/*.h tests/ksft_check.h $(KSELFTEST_H)
	$(CC) $(filter-out -include tests/kshim.h,$(UNIT_CFLAGS)) -Iguest/trampoline \
		-Iguest/tx -o $@ $< guest/trampoline/tramp.c guest/tx/eg_tx.c

# eptgatectl's commands and output on a fake source; its JSON against the schema.
$(B)/unit/test_eptgatectl: tests/test_eptgatectl.c $(ECTL_LIB_SRC) $(ECTL_HDRS) \
		tests/ksft_check.h $(KSELFTEST_H)
	@mkdir -p $(B)/unit
	$(CC) $(filter-out -include tests/kshim.h,$(UNIT_CFLAGS)) -Itools/eptgatectl \
		-o $@ $< $(ECTL_LIB_SRC)

unit: $(addprefix $(B)/unit/,$(UNIT_TESTS)) $(B)/unit/test_eptgatectl
	@for t in $(addprefix $(B)/unit/,$(UNIT_TESTS)); do echo "# $${t##*/}"; $$t || exit 1; done
	@echo "# test_eptgatectl"; rm -rf $(B)/unit/eptgatectl-json && \
		$(B)/unit/test_eptgatectl $(B)/unit/eptgatectl-json
	@echo "# eptgatectl --json against Documentation/eptgatectl.schema.json"; \
		python3 scripts/json-schema-check.py Documentation/eptgatectl.schema.json \
		$(B)/unit/eptgatectl-json/*.json

# ---- eptgatectl (tools/eptgatectl, Documentation/eptgatectl.rst) ----------
$(B)/eptgatectl/eptgatectl: $(ECTL_SRC) $(ECTL_HDRS)
	@mkdir -p $(@D)
	$(CC) $(ECTL_CFLAGS) -o $@ $(ECTL_SRC)

$(B)/eptgatectl/eptgatectl.8: Documentation/eptgatectl.rst
	@test -n "$(RST2MAN)" || { echo "rst2man not found: apt-get install python3-docutils" >&2; exit 1; }
	@mkdir -p $(@D)
	$(RST2MAN) --strict $< $@

eptgatectl: $(B)/eptgatectl/eptgatectl $(B)/eptgatectl/eptgatectl.8

install: eptgatectl
	install -D -m 0755 $(B)/eptgatectl/eptgatectl $(DESTDIR)$(PREFIX)/sbin/eptgatectl
	install -D -m 0644 $(B)/eptgatectl/eptgatectl.8 \
		$(DESTDIR)$(PREFIX)/share/man/man8/eptgatectl.8

$(B)/fuzz/fuzz_uarg: tests/fuzz_uarg.c kmod/range.c kmod/uarg.c kmod/*.h tests/kshim.h
	@mkdir -p $(B)/fuzz
	clang -std=c11 -Wall -Wextra -Werror -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Itests -Ikmod -Iuapi -include tests/kshim.h -o $@ $< kmod/range.c kmod/uarg.c

$(B)/fuzz/fuzz_tx: tests/fuzz_tx.c $(TX_SRC)
	@mkdir -p $(B)/fuzz
	clang -std=c11 -Wall -Wextra -Werror -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Iguest/tx -o $@ $< guest/tx/eg_tx.c

fuzz-build: $(B)/fuzz/fuzz_uarg $(B)/fuzz/fuzz_tx

# Each target for FUZZ_SECONDS, its own corpus.
fuzz: fuzz-build
	@mkdir -p $(B)/fuzz/corpus $(B)/fuzz/corpus_tx
	$(B)/fuzz/fuzz_uarg -max_total_time=$(FUZZ_SECONDS) $(B)/fuzz/corpus
	$(B)/fuzz/fuzz_tx -max_total_time=$(FUZZ_SECONDS) $(B)/fuzz/corpus_tx

$(CHECKPATCH) $(KSELFTEST_H) &:
	@test -f $(KSRC_TARBALL) || scripts/deps.sh
	mkdir -p $(B)/ksrc-scripts
	tar -C $(B)/ksrc-scripts -xJf $(KSRC_TARBALL) \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch \
		linux-source-6.1/tools/testing/selftests/kselftest.h
	touch $(CHECKPATCH) $(KSELFTEST_H)

lint: $(CHECKPATCH)
	$(CHECKPATCH) --strict --no-tree --show-types --terse \
		-f $(KERNEL_SOURCES)
	scripts/lint/nospec.py kmod/*.c kmod/*.h

deps:
	scripts/deps.sh

check:
	scripts/check.sh

# Two emulated CPUs for stock 6.1 too (make check runs 6.1-rt with two, 6.1
# and 6.12 with one), without the QEMU stage.
check-smp:
	CHECK_KERNELS="6.1:2 6.1-rt:2" CHECK_QEMU=0 scripts/check.sh

demo:
	scripts/demo.sh

# The first demo: two VMs written into each other through a window by VMFUNC,
# with no QEMU (the selftests' library plays the VMM).
demo-views:
	scripts/demo-views.sh

# DKMS (Documentation/operations.rst).  dkms-install changes the host: it is for
# the host that runs eptgate, never part of check.
DKMS_VERSION := $(shell cat scripts/dkms/VERSION)
dkms-install:
	scripts/dkms/mksrc.sh /usr/src >/dev/null
	dkms install -m eptgate -v $(DKMS_VERSION)

dkms-check:
	scripts/dkms/dkms-check.sh

# A benchmark, not a test (not part of check): eg_tx.c against DPDK
# vhost-user, memif and a copy ring; bench/README.rst.
bench:
	EG_TX_CFLAGS="$(TRAMP_CFLAGS)" bench/run.sh

# Only the instructions per packet (callgrind), a minute: bench/README.rst.
bench-ir:
	EG_TX_CFLAGS="$(TRAMP_CFLAGS)" bench/ir.sh

clean:
	rm -rf $(B)

# ---- the trampoline blob (guest/trampoline) --------------------------------
# Freestanding, position independent, no data, no relocations (tramp.ld
# asserts it); the same guest/tx/eg_tx.c as the unit tests and the bench.
# Exactly two VMFUNC byte sequences (0f 01 d4): the two gates of entry.S.
TRAMP_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -ffreestanding \
	-fno-builtin -nostdlib -fPIE -fvisibility=hidden -mno-red-zone \
	-mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fcf-protection=none -Iguest/trampoline -Iguest/tx -Iuapi
TRAMP_SRC := guest/trampoline/entry.S guest/trampoline/tramp.c guest/tx/eg_tx.c
TRAMP_DEPS := $(TRAMP_SRC) guest/trampoline/*.h guest/tx/*.h \
	guest/trampoline/tramp.ld uapi/linux/eptgate.h uapi/linux/eptgate_tramp.h

$(B)/guest/tramp.bin: $(TRAMP_DEPS)
	@mkdir -p $(B)/guest
	$(CC) $(TRAMP_CFLAGS) -c guest/trampoline/entry.S -o $(B)/guest/entry.o
	$(CC) $(TRAMP_CFLAGS) -c guest/trampoline/tramp.c -o $(B)/guest/tramp.o
	$(CC) $(TRAMP_CFLAGS) -c guest/tx/eg_tx.c -o $(B)/guest/eg_tx.o
	$(CC) -E -P -undef -x c -D__ASSEMBLER__ -DLINKER_SCRIPT -Iguest/trampoline \
		-o $(B)/guest/tramp.ld guest/trampoline/tramp.ld
	ld -T $(B)/guest/tramp.ld -nostdlib -static --no-dynamic-linker \
		-o $(B)/guest/tramp.elf $(B)/guest/entry.o $(B)/guest/tramp.o \
		$(B)/guest/eg_tx.o
	objcopy -O binary -j .text $(B)/guest/tramp.elf $@
	@n=$$(od -An -v -tx1 -w1 $@ | awk '{ b[NR] = $$1 } END { for (i = 3; i <= NR; i++) \
		if (b[i-2] == "0f" && b[i-1] == "01" && b[i] == "d4") n++; print n + 0 }'); \
	[ "$$n" = 2 ] || { echo "tramp.bin: $$n VMFUNC byte sequences, expected 2" >&2; rm -f $@; exit 1; }

.PHONY: guest
guest: $(B)/guest/tramp.bin
all: guest

# ---- eptgate's QEMU (scripts/qemu, Documentation/qemu.rst) -----------------
# `make qemu`: KVM-only qemu-system-x86_64 from Debian's source + qemu/patches,
# cached in build/qemu.  `make check-qemu`: that build, then two L2 Linux VMs
# (q35, virtio-net-pci) inside the emulated CPU: ping + a counted UDP stream.
.PHONY: qemu check-qemu check-chain
qemu:
	scripts/qemu/build.sh

check-qemu:
	scripts/qemu/check.sh

# A service chain A -> B -> C of three L2 VMs: A's stream through B's IP
# forwarding to C over two eptgate links (scripts/qemu/chain-test.sh).
check-chain:
	scripts/qemu/chain-test.sh

# ---- the sending guest's driver (guest/linux, Documentation/guest.rst) -----
# eptgate_net.ko for the L2 guests' kernel (Debian 6.1), W=1, no warnings,
# checkpatch --strict.  Built in a copy, as the module is.
GUEST_KDIR = $(shell scripts/bochs/headers.sh 6.1 $(B)/headers-6.1)
GL := $(B)/guest-linux
.PHONY: guest-linux
guest-linux: $(CHECKPATCH)
	@kdir="$(GUEST_KDIR)"; test -d "$$kdir" || { echo "no 6.1 headers" >&2; exit 1; }; \
	rm -rf $(GL) && mkdir -p $(GL)/trampoline $(GL)/tx && \
	cp guest/linux/Kbuild guest/linux/*.c $(GL)/ && cp -r uapi $(GL)/ && \
	cp guest/trampoline/*.h $(GL)/trampoline/ && cp guest/tx/*.h $(GL)/tx/ && \
	$(MAKE) -C "$$kdir" M=$(GL) W=1 modules 2>&1 | tee $(GL)/build.log
	@! grep -E 'warning:|error:' $(GL)/build.log
	@test -f $(GL)/eptgate_net.ko
	$(CHECKPATCH) --strict --no-tree --show-types --terse -f guest/linux/*.c
	@modinfo $(GL)/eptgate_net.ko | grep -E '^(alias|vermagic|firmware|parm):'
