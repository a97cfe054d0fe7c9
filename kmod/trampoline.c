// SPDX-License-Identifier: GPL-2.0
/*
 * Trampolines: signed code that runs in a protected view.
 *
 * The trampoline is an extension of the hypervisor running in guest
 * mode, so it is signed in advance and verified here: the kernel's module
 * signature format (payload | PKCS#7 | struct module_signature | magic),
 * checked with verify_pkcs7_signature() against the .eptgate keyring,
 * which the administrator fills (keyctl padd asymmetric ... <serial>;
 * the serial is the module parameter "keyring").  The view then maps the
 * module's own copy of the payload execute+read (never write): no
 * time-of-check/time-of-use on guest memory.  Beside it, private pages
 * (read+write, only in that view) hold the canary, the trusted parameters
 * and the trampoline's stack, and a doorbell page turns writes into KVM
 * fast-MMIO exits (an ioeventfd) that resume in the view.
 *
 * Everything here runs under eg_mutex; the leaves are installed under
 * mmu_lock and carry EG_EPT_SW_TRAMP (no page reference: the pages belong
 * to struct eg_trampoline and are freed after the view's last INVEPT).
 */
#include <linux/key.h>
#include <linux/moduleparam.h>
#include <linux/module_signature.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/verification.h>
#include <linux/vmalloc.h>
#include "ept.h"
#include "ept_entry.h"
#include "main.h"
#include "range.h"
#include "trampoline.h"
#include "view.h"
#include "vm.h"

static struct key *eg_keyring;
static int eg_keyring_serial;
module_param_named(keyring, eg_keyring_serial, int, 0444);
MODULE_PARM_DESC(keyring, "serial of the .eptgate keyring (read only)");

int eg_trampoline_init(void)
{
	eg_keyring = keyring_alloc(".eptgate", GLOBAL_ROOT_UID, GLOBAL_ROOT_GID,
				   current_cred(),
				   (KEY_POS_ALL & ~KEY_POS_SETATTR) |
				   KEY_USR_VIEW | KEY_USR_READ |
				   KEY_USR_WRITE | KEY_USR_SEARCH,
				   KEY_ALLOC_NOT_IN_QUOTA, NULL, NULL);
	if (IS_ERR(eg_keyring)) {
		pr_err(EG_NAME ": not loading: cannot allocate the .eptgate keyring (%ld)\n",
		       PTR_ERR(eg_keyring));
		return PTR_ERR(eg_keyring);
	}
	eg_keyring_serial = key_serial(eg_keyring);
	return 0;
}

void eg_trampoline_exit(void)
{
	key_put(eg_keyring);
}

/*
 * Splits a signed blob and verifies it.  Returns the payload length or a
 * negative errno, a different one for each way to fail, with *why.
 */
static long eg_tramp_verify(const u8 *blob, size_t len, const char **why)
{
	const size_t mlen = sizeof(MODULE_SIG_STRING) - 1;
	struct module_signature ms;
	size_t sig_len;
	int r;

	if (len < mlen || memcmp(blob + len - mlen, MODULE_SIG_STRING, mlen)) {
		*why = "blob is not signed (no module signature)";
		return -ENODATA;
	}
	len -= mlen;
	if (len < sizeof(ms)) {
		*why = "signature truncated";
		return -EBADMSG;
	}
	memcpy(&ms, blob + len - sizeof(ms), sizeof(ms));
	len -= sizeof(ms);
	sig_len = be32_to_cpu(ms.sig_len);
	if (ms.id_type != PKEY_ID_PKCS7 || ms.algo || ms.hash ||
	    ms.signer_len || ms.key_id_len) {
		*why = "not a PKCS#7 module signature";
		return -EBADMSG;
	}
	if (!sig_len || sig_len >= len) {
		*why = "signature truncated";
		return -EBADMSG;
	}
	len -= sig_len;
	if (len > EPTGATE_TRAMPOLINE_CODE_MAX) {
		*why = "payload larger than EPTGATE_TRAMPOLINE_CODE_MAX";
		return -EFBIG;
	}
	r = verify_pkcs7_signature(blob, len, blob + len, sig_len, eg_keyring,
				   VERIFYING_MODULE_SIGNATURE, NULL, NULL);
	switch (r) {
	case 0:
		return len;
	case -ENOKEY:
		*why = "signer's key is not in the .eptgate keyring";
		break;
	case -EKEYREJECTED:
		*why = "signature does not match the payload";
		break;
	case -EBADMSG:
		*why = "malformed PKCS#7 signature";
		break;
	default:
		*why = "signature verification failed";
	}
	return r;
}

static void eg_tramp_free_pages(struct page **pages, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (pages[i]) {
			__free_page(pages[i]);
			atomic64_dec(&eg_counters.table_pages);
		}
}

static struct page *eg_tramp_alloc_page(void)
{
	struct page *page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);

	if (page)
		atomic64_inc(&eg_counters.table_pages);
	return page;
}

/*
 * The default view must run the same bytes, unwritable by the guest
 * (Documentation/trampoline.rst, "The gates"): a guest that could write
 * the default view's copy could place a VMFUNC anywhere in it and enter
 * the verified copy at any offset.  So [code_gpa, +ncode pages) must be a
 * read-only memslot holding the payload, zero-padded; and the private
 * pages' addresses must be RAM in the default view, where the exit gate
 * reads the canary without an MMIO exit.  The memslot contents are read
 * through the VMM's mapping: install from the VM's own process.
 */
static int eg_tramp_check_default_view(struct kvm *kvm,
				       const struct eg_trampoline *t,
				       const char **why)
{
	struct kvm_memory_slot *slot;
	unsigned long hva = 0;
	bool ro = false, data = false;
	unsigned int i;
	void *buf;
	int idx, r = 0;

	if (current->mm != kvm->mm) {
		*why = "install the trampoline from the VM's own process";
		return -EINVAL;
	}
	idx = srcu_read_lock(&kvm->srcu);
	slot = gfn_to_memslot(kvm, t->code_gpa >> PAGE_SHIFT);
	if (slot && (slot->flags & KVM_MEM_READONLY) &&
	    (t->code_gpa >> PAGE_SHIFT) + t->ncode <=
	    slot->base_gfn + slot->npages) {
		ro = true;
		hva = __gfn_to_hva_memslot(slot, t->code_gpa >> PAGE_SHIFT);
	}
	slot = gfn_to_memslot(kvm, t->data_gpa >> PAGE_SHIFT);
	data = slot && (t->data_gpa + EPTGATE_TRAMPOLINE_DATA_LEN) >> PAGE_SHIFT <=
	       slot->base_gfn + slot->npages;
	srcu_read_unlock(&kvm->srcu, idx);
	if (!ro) {
		*why = "code_gpa is not in a read-only memslot in the default view";
		return -EINVAL;
	}
	if (!data) {
		*why = "data_gpa is not RAM in the default view";
		return -EINVAL;
	}
	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < t->ncode && !r; i++) {
		if (copy_from_user(buf, (void __user *)(hva + i * PAGE_SIZE),
				   PAGE_SIZE))
			r = -EFAULT;
		else if (memcmp(buf, page_address(t->code[i]), PAGE_SIZE))
			r = -EINVAL;
	}
	kfree(buf);
	if (r)
		*why = "the default view's copy differs from the verified payload";
	return r;
}

/* After the view's leaves are zapped and INVEPT'd. */
void eg_trampoline_free(struct eg_trampoline *t)
{
	if (!t)
		return;
	eg_tramp_free_pages(t->code, t->ncode);
	eg_tramp_free_pages(t->data, ARRAY_SIZE(t->data));
	kfree(t);
}

static int eg_tramp_alloc(struct eg_trampoline *t, const u8 *payload,
			  size_t len, const void __user *param, size_t plen)
{
	unsigned int i;
	u64 *control;

	for (i = 0; i < t->ncode; i++) {
		size_t off = (size_t)i * PAGE_SIZE;

		t->code[i] = eg_tramp_alloc_page();
		if (!t->code[i])
			return -ENOMEM;
		memcpy(page_address(t->code[i]), payload + off,
		       min_t(size_t, PAGE_SIZE, len - off));
	}
	for (i = 0; i < ARRAY_SIZE(t->data); i++) {
		t->data[i] = eg_tramp_alloc_page();
		if (!t->data[i])
			return -ENOMEM;
	}
	control = page_address(t->data[0]);
	control[0] = EPTGATE_TRAMPOLINE_CANARY(t->view);
	if (plen && copy_from_user((u8 *)control + EPTGATE_TRAMPOLINE_PARAM_OFF,
				   param, plen))
		return -EFAULT;
	return 0;
}

/* Installs one leaf; the range is reserved.  mmu_lock not held. */
static int eg_tramp_map(struct eg_vm *vm, struct eg_view *view, u64 gpa,
			u64 leaf)
{
	struct eg_ept_cache cache = { .nr = 0 };
	u64 *sptep;
	int r;

	r = eg_ept_cache_topup(&cache, GFP_KERNEL_ACCOUNT);
	if (r)
		return r;
	raw_spin_lock(&vm->mmu_lock);
	sptep = eg_ept_walk(view->root, gpa, PG_LEVEL_4K, &cache);
	if (sptep && !eg_ept_present(*sptep))
		WRITE_ONCE(*sptep, leaf);
	else
		sptep = NULL;
	raw_spin_unlock(&vm->mmu_lock);
	eg_ept_cache_free(&cache);
	return sptep ? 0 : eg_reject(-EEXIST, "trampoline page collides with a mapping");
}

static int eg_tramp_map_all(struct eg_vm *vm, struct eg_view *view,
			    struct eg_trampoline *t)
{
	unsigned int i;
	int r = 0;

	for (i = 0; i < t->ncode && !r; i++)
		r = eg_tramp_map(vm, view, t->code_gpa + i * PAGE_SIZE,
				 eg_ept_make_leaf(page_to_phys(t->code[i]),
						  EG_EPT_R | EG_EPT_X,
						  PG_LEVEL_4K, EG_EPT_SW_TRAMP));
	for (i = 0; i < ARRAY_SIZE(t->data) && !r; i++)
		r = eg_tramp_map(vm, view, t->data_gpa + i * PAGE_SIZE,
				 eg_ept_make_leaf(page_to_phys(t->data[i]),
						  EG_EPT_R | EG_EPT_W,
						  PG_LEVEL_4K, EG_EPT_SW_TRAMP));
	/* Write without read: an EPT misconfiguration, KVM's MMIO path. */
	if (t->doorbell_gpa && !r)
		r = eg_tramp_map(vm, view, t->doorbell_gpa,
				 EG_EPT_W | EG_EPT_SW_TRAMP);
	return r;
}

/* The gpa ranges of a trampoline: code, private pages, doorbell. */
static unsigned int eg_tramp_ranges(const struct eg_trampoline *t,
				    u64 start[EG_TRAMP_RANGES],
				    u64 len[EG_TRAMP_RANGES],
				    u32 access[EG_TRAMP_RANGES])
{
	unsigned int n = 2;

	/* All of the code area the ABI describes, not only the payload. */
	start[0] = t->code_gpa;
	len[0] = EPTGATE_TRAMPOLINE_CODE_MAX;
	access[0] = EG_EPT_R | EG_EPT_X;
	start[1] = t->data_gpa;
	len[1] = EPTGATE_TRAMPOLINE_DATA_LEN;
	access[1] = EG_EPT_R | EG_EPT_W;
	if (t->doorbell_gpa) {
		start[2] = t->doorbell_gpa;
		len[2] = PAGE_SIZE;
		access[2] = EG_EPT_W;
		n = 3;
	}
	return n;
}

/*
 * Reserves the trampoline's gpa ranges in the view, all or none (a
 * failure removes only what this call inserted).  mmu_lock held.
 */
static int eg_tramp_reserve(struct eg_vm *vm, struct eg_view *view,
			    struct eg_trampoline *t)
{
	u64 start[EG_TRAMP_RANGES], len[EG_TRAMP_RANGES];
	u32 access[EG_TRAMP_RANGES];
	unsigned int n = eg_tramp_ranges(t, start, len, access), i;
	int r = 0;

	lockdep_assert_held(&vm->mmu_lock);
	for (i = 0; i < n; i++) {
		r = eg_range_insert(&view->ranges, start[i], len[i], access[i],
				    EG_RANGE_TRAMP, t);
		if (r)
			break;
	}
	while (r && i--)
		eg_range_remove(&view->ranges, start[i], len[i]);
	return r;
}

static void eg_tramp_unreserve(struct eg_view *view, struct eg_trampoline *t)
{
	u64 start[EG_TRAMP_RANGES], len[EG_TRAMP_RANGES];
	u32 access[EG_TRAMP_RANGES];
	unsigned int n = eg_tramp_ranges(t, start, len, access), i;

	for (i = 0; i < n; i++)
		eg_range_remove(&view->ranges, start[i], len[i]);
}

/* Zaps a trampoline's leaves (installation failed half way). */
void eg_view_zap_tramp(struct eg_vm *vm, struct eg_view *view,
		       struct eg_trampoline *t)
{
	eg_view_zap(vm, view, t->code_gpa,
		    t->code_gpa + (u64)t->ncode * PAGE_SIZE, EG_EPT_SW_TRAMP);
	eg_view_zap(vm, view, t->data_gpa,
		    t->data_gpa + EPTGATE_TRAMPOLINE_DATA_LEN, EG_EPT_SW_TRAMP);
	if (t->doorbell_gpa)
		eg_view_zap(vm, view, t->doorbell_gpa,
			    t->doorbell_gpa + PAGE_SIZE, EG_EPT_SW_TRAMP);
}

int eg_trampoline_install(struct eg_vm *vm, const struct eptgate_trampoline *a)
{
	struct eg_view *view = eg_vm_view(vm, a->view);
	struct eg_trampoline *t;
	const char *why = NULL;
	long len;
	u8 *blob;
	int r;

	lockdep_assert_held(&eg_mutex);
	if (!view)
		return eg_reject(-ENOENT, "no such view");
	if (view->tramp)
		return eg_reject(-EEXIST, "view has a trampoline");
	blob = kvmalloc(a->blob_len, GFP_KERNEL_ACCOUNT);
	if (!blob)
		return -ENOMEM;
	if (copy_from_user(blob, u64_to_user_ptr(a->blob), a->blob_len)) {
		kvfree(blob);
		return -EFAULT;
	}
	len = eg_tramp_verify(blob, a->blob_len, &why);
	if (len < 0) {
		kvfree(blob);
		return eg_reject((int)len, why);
	}

	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t) {
		kvfree(blob);
		return -ENOMEM;
	}
	t->view = a->view;
	t->ncode = DIV_ROUND_UP(len, PAGE_SIZE);
	t->code_gpa = a->code_gpa;
	t->data_gpa = a->data_gpa;
	t->doorbell_gpa = a->doorbell_gpa;
	r = eg_tramp_alloc(t, blob, len, u64_to_user_ptr(a->param),
			   a->param_len);
	kvfree(blob);
	if (r)
		goto err_free;
	r = eg_tramp_check_default_view(vm->kvm, t, &why);
	if (r) {
		r = eg_reject(r, why);
		goto err_free;
	}

	raw_spin_lock(&vm->mmu_lock);
	r = eg_tramp_reserve(vm, view, t);
	raw_spin_unlock(&vm->mmu_lock);
	if (r) {
		r = eg_reject(r, r == -EEXIST ?
			      "trampoline overlaps a range or window of the view" :
			      "too many ranges in the view");
		goto err_free;
	}
	r = eg_tramp_map_all(vm, view, t);
	if (r)
		goto err_unmap;
	raw_spin_lock(&vm->mmu_lock);
	view->tramp = t;
	raw_spin_unlock(&vm->mmu_lock);
	pr_info(EG_NAME ": view %u: trampoline of %ld bytes verified and mapped at %#llx\n",
		a->view, len, a->code_gpa);
	return 0;

err_unmap:
	eg_view_zap_tramp(vm, view, t);
	raw_spin_lock(&vm->mmu_lock);
	eg_tramp_unreserve(view, t);
	raw_spin_unlock(&vm->mmu_lock);
err_free:
	eg_trampoline_free(t);
	return r;
}
