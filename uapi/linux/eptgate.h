/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * eptgate: alternate EPT views for KVM guests, switched by VMFUNC leaf 0.
 *
 * Userspace ABI. See Documentation/api.rst for the semantics of every
 * ioctl, its capability, parameters, return values and errors.
 *
 * Every argument structure starts with "size" (the caller's sizeof) and
 * "flags".  The module accepts any size from the first published layout
 * up to PAGE_SIZE: bytes it does not know must be zero on input, and on
 * output it writes min(size, its own size).  Unknown flags are -EINVAL.
 */
#ifndef _UAPI_LINUX_EPTGATE_H
#define _UAPI_LINUX_EPTGATE_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define EPTGATE_API_VERSION	1
#define EPTGATE_DEVICE		"/dev/eptgate"

/*
 * View ids are EPTP-list indexes: 0 is KVM's own EPT (the default view),
 * 1 .. EPTGATE_MAX_VIEWS - 1 are alternate views.
 */
#define EPTGATE_MAX_VIEWS	16

/* Access bits: the same bit positions as an EPT entry's R/W/X. */
#define EPTGATE_ACCESS_R	_BITUL(0)
#define EPTGATE_ACCESS_W	_BITUL(1)
#define EPTGATE_ACCESS_X	_BITUL(2)
#define EPTGATE_ACCESS_MASK	(EPTGATE_ACCESS_R | EPTGATE_ACCESS_W | EPTGATE_ACCESS_X)

/* eptgate_info.caps */
#define EPTGATE_CAP_EPT			_BITULL(0)  /* CPU has EPT (VMX capability MSRs) */
#define EPTGATE_CAP_VMFUNC_EPTP		_BITULL(1)  /* VMFUNC leaf 0 */
#define EPTGATE_CAP_VE			_BITULL(2)  /* #VE (not used yet) */
#define EPTGATE_CAP_EPT_4LEVEL		_BITULL(3)
#define EPTGATE_CAP_EPT_5LEVEL		_BITULL(4)
#define EPTGATE_CAP_EPT_2M		_BITULL(5)
#define EPTGATE_CAP_EPT_AD		_BITULL(6)
#define EPTGATE_CAP_EPT_X_ONLY		_BITULL(7)
#define EPTGATE_CAP_INVEPT_SINGLE	_BITULL(8)
#define EPTGATE_CAP_EPT_WB		_BITULL(9)
/* Bits 32..63: what the module offers, whatever the CPU. */
#define EPTGATE_CAP_LIST_VMS		_BITULL(32) /* EPTGATE_LIST_VMS, EPTGATE_QUERY_VM */

struct eptgate_info {
	__u32 size;
	__u32 flags;		/* in: must be 0 */
	__u32 api_version;	/* out: EPTGATE_API_VERSION */
	__u32 max_views;	/* out: EPTGATE_MAX_VIEWS */
	__u64 caps;		/* out: EPTGATE_CAP_* */
	__u64 vmx_ept_vpid_cap;	/* out: raw IA32_VMX_EPT_VPID_CAP */
	__u64 vmx_vmfunc;	/* out: raw IA32_VMX_VMFUNC */
	__u64 vmx_procbased2;	/* out: raw IA32_VMX_PROCBASED_CTLS2 */
	/* module-wide counters, for leak checks */
	__u64 bindings;		/* live VM bindings */
	__u64 table_pages;	/* EPT table, EPTP-list, trampoline pages */
	__u64 pages_ref;	/* guest pages referenced by views (own RAM) */
	__u64 pages_pinned;	/* peer pages pinned (FOLL_PIN) for windows */
};

/* Bind a KVM VM: returns a new binding fd (close-on-exec). */
struct eptgate_bind {
	__u32 size;
	__u32 flags;		/* in: must be 0 */
	__s32 vm_fd;		/* in: fd returned by KVM_CREATE_VM */
	__u32 pad;		/* must be 0 */
};

/* Create / destroy a view: on a binding fd. */
struct eptgate_view {
	__u32 size;
	__u32 flags;		/* in: must be 0 */
	__u32 view;		/* in: 0 = lowest free id; out: the id */
	__u32 pad;		/* must be 0 */
};

/*
 * Set the access of guest-physical [gpa, gpa + len) in a view, mirroring
 * the VM's own RAM (the same host pages as KVM's default view).  gpa and
 * len are 4 KiB aligned, the range lies inside memslots, and it does not
 * overlap another range or window of the view.  access = 0 removes it.
 */
struct eptgate_access {
	__u32 size;
	__u32 flags;		/* in: must be 0 */
	__u32 view;
	__u32 access;		/* EPTGATE_ACCESS_* */
	__u64 gpa;
	__u64 len;
};

/*
 * Map [peer_gpa, peer_gpa + len) of another bound VM at window address
 * [gpa, gpa + len) of a view; len is at most 1 GiB.  peer_fd is a grant
 * fd of the peer (EPTGATE_CREATE_GRANT): the range must lie inside one of
 * the grant's ranges, with no more access.  With
 * EPTGATE_WINDOW_PEER_BINDING, peer_fd is the peer's binding fd instead
 * (full authority over the peer: for tests and single-process VMMs).  The
 * peer's pages are pinned until the window is unmapped, the view
 * destroyed, the grant revoked or closed, or either binding closed.
 * flags = EPTGATE_WINDOW_UNMAP unmaps the window that starts at gpa and
 * is len long; access, peer_fd and peer_gpa are then ignored.
 */
#define EPTGATE_WINDOW_UNMAP		_BITUL(0)
#define EPTGATE_WINDOW_PEER_BINDING	_BITUL(1)
struct eptgate_window {
	__u32 size;
	__u32 flags;		/* in: EPTGATE_WINDOW_* */
	__u32 view;
	__u32 access;		/* EPTGATE_ACCESS_*, not X */
	__u64 gpa;		/* window address in this VM */
	__u64 len;
	__s32 peer_fd;		/* grant fd (or binding fd) of the peer VM */
	__u32 pad;		/* must be 0 */
	__u64 peer_gpa;
};

/*
 * A grant: what another process may map of this VM, as a file descriptor
 * that passes over a UNIX socket (SCM_RIGHTS).  Created on the granting
 * VM's binding fd; up to EPTGATE_GRANT_MAX_RANGES guest-physical ranges,
 * each with R or RW access.  Revoked by EPTGATE_REVOKE_GRANT, by closing
 * every fd of it, or when the granting binding goes away: every window
 * made from it is unmapped first.
 */
#define EPTGATE_GRANT_MAX_RANGES	16
struct eptgate_grant_range {
	__u64 gpa;
	__u64 len;
	__u32 access;		/* EPTGATE_ACCESS_R, or R | W */
	__u32 pad;		/* must be 0 */
};

struct eptgate_grant {
	__u32 size;
	__u32 flags;		/* in: must be 0 */
	__u32 nr_ranges;	/* 1 .. EPTGATE_GRANT_MAX_RANGES */
	__u32 pad;		/* must be 0 */
	struct eptgate_grant_range ranges[EPTGATE_GRANT_MAX_RANGES];
};

/* On a grant fd: its state, readable after revocation too. */
struct eptgate_grant_info {
	__u32 size;
	__u32 flags;		/* in: must be 0 */
	__u32 revoked;		/* out: 1 once revoked */
	__u32 nr_ranges;	/* out */
	__u64 windows;		/* out: live windows made from the grant */
	__u64 windows_revoked;	/* out: windows the revocation unmapped */
};

/* On a grant fd. */
struct eptgate_revoke {
	__u32 size;
	__u32 flags;		/* in: must be 0 */
};

/* Enable / disable VMFUNC view switching on every vCPU of the VM. */
struct eptgate_switching {
	__u32 size;
	__u32 flags;		/* in: must be 0 */
};

struct eptgate_view_stats {
	__u32 size;
	__u32 flags;		/* in: must be 0 */
	__u32 view;		/* in: 1 .. EPTGATE_MAX_VIEWS - 1 (0: -EINVAL) */
	__u32 pad;
	__u64 switches;		/* vCPU found in this view at an exit, not before */
	__u64 exits;		/* exits taken while in this view */
	__u64 ept_violations;	/* EPT violations taken in this view */
	__u64 lazy_fills;	/* own-RAM entries filled on a violation */
	__u64 fallbacks;	/* vCPU put back into the default view */
	__u64 zaps;		/* entries removed (host invalidation, unmap) */
	__u64 event_fallbacks;	/* fallbacks before injecting an event */
	__u64 doorbells;	/* doorbell writes that resumed in the view */
	__u64 fill_retries;	/* lazy fills retried after KVM's own fault */
};

struct eptgate_vcpu_stats {
	__u32 size;
	__u32 flags;		/* in: must be 0 */
	__u32 vcpu_idx;		/* in */
	__u32 view;		/* out: view the vCPU was in at its last exit */
	__u64 entries;		/* VM entries seen by the hook */
	__u64 exits;		/* VM exits seen by the hook */
	__u64 exits_alt;	/* ... of which taken in an alternate view */
	__u64 vmfunc_ud;	/* VMFUNC exits answered with #UD */
};

/*
 * Install a signed trampoline in a view.  The blob is in the kernel's
 * module-signature format (payload | PKCS#7 | struct module_signature |
 * "~Module signature appended~\n", as scripts/sign-file writes it) and is
 * verified against the .eptgate keyring (its serial is in
 * /sys/module/eptgate/parameters/keyring).  The module maps its own copy
 * of the payload execute+read at code_gpa, EPTGATE_TRAMPOLINE_DATA_LEN
 * bytes of private memory read+write at data_gpa (first qword: the view's
 * canary, EPTGATE_TRAMPOLINE_CANARY(view); then param_len bytes of
 * trusted parameters copied from param, at offset
 * EPTGATE_TRAMPOLINE_PARAM_OFF), and, if doorbell_gpa is nonzero, a
 * doorbell page whose writes exit to KVM's fast MMIO path (an ioeventfd)
 * and resume in the view.  The view reserves the whole code area,
 * [code_gpa, +EPTGATE_TRAMPOLINE_CODE_MAX), past the payload too.
 *
 * The default view must run the same code, unwritable by the guest:
 * [code_gpa, + payload pages) is a KVM_MEM_READONLY memslot holding the
 * payload, zero-padded to whole pages; [data_gpa, +DATA_LEN) is RAM in
 * the default view; the VMM registers an ioeventfd of length 0 at
 * doorbell_gpa.  Install from the VM's own process.
 */
#define EPTGATE_TRAMPOLINE_CODE_MAX	(16 * 1024)
#define EPTGATE_TRAMPOLINE_BLOB_MAX	(64 * 1024)
#define EPTGATE_TRAMPOLINE_DATA_LEN	(16 * 1024)
#define EPTGATE_TRAMPOLINE_PARAM_OFF	64
#define EPTGATE_TRAMPOLINE_PARAM_MAX	(4096 - 64)
#define EPTGATE_TRAMPOLINE_CANARY(view) \
	((0x45505447415445ULL << 8) | (__u64)(view))

struct eptgate_trampoline {
	__u32 size;
	__u32 flags;		/* in: must be 0 */
	__u32 view;
	__u32 pad;		/* must be 0 */
	__u64 blob;		/* user address of the signed blob */
	__u64 blob_len;
	__u64 code_gpa;		/* page aligned; the payload's pages */
	__u64 data_gpa;		/* page aligned; EPTGATE_TRAMPOLINE_DATA_LEN */
	__u64 param;		/* user address of the trusted parameters */
	__u64 param_len;	/* <= EPTGATE_TRAMPOLINE_PARAM_MAX */
	__u64 doorbell_gpa;	/* page aligned, or 0 */
};

/*
 * Module-wide, read-only view of the bindings (EPTGATE_LIST_VMS and
 * EPTGATE_QUERY_VM on /dev/eptgate; CAP_SYS_ADMIN).  Results come back in
 * arrays of records described by struct eptgate_array: the caller says
 * how many records its buffer holds (nr) and how long its records are
 * (entry_size, at least the first published layout, at most 4096); the
 * module writes min(entry_size, its own size) bytes of each record,
 * entry_size bytes apart, sets every record's "size" to the bytes it
 * wrote, and sets nr to the number of records that exist.  If that is
 * more than the buffer holds, nothing is written to the buffer and the
 * ioctl fails with ENOSPC (nr then tells how many to make room for).
 */
struct eptgate_array {
	__u32 nr;		/* in: records the buffer holds; out: that exist */
	__u32 entry_size;	/* in: the caller's sizeof(record) */
	__u64 addr;		/* in: user address of the buffer */
};

/* eptgate_vm_info.flags */
#define EPTGATE_VM_ENABLED	_BITUL(0)	/* switching is on */
#define EPTGATE_VM_SUSPENDED	_BITUL(1)	/* views paused (memslots changed) */
#define EPTGATE_VM_DIRTY_LOG	_BITUL(2)	/* a memslot logs dirty pages */
#define EPTGATE_VM_DYING	_BITUL(3)	/* binding being torn down */

/* One bound VM. */
struct eptgate_vm_info {
	__u32 size;		/* out: bytes of this record written */
	__u32 flags;		/* out: EPTGATE_VM_* */
	__u64 vm_id;		/* out: module-wide id, from 1, never reused */
	__s32 pid;		/* out: binder's process, 0 if not in our pid ns */
	__u32 nr_vcpus;		/* out: KVM's online vCPUs */
	__u32 nr_vcpu_stats;	/* out: vCPUs with eptgate state (counters) */
	__u32 nr_views;		/* out: alternate views */
	__u32 nr_ranges;	/* out: ranges of all views, every kind */
	__u32 nr_windows;	/* out: windows in its views */
	__u32 nr_trampolines;	/* out: views with a trampoline */
	__u32 nr_grants;	/* out: live grants of this VM */
	__u32 nr_peer_windows;	/* out: windows of other VMs onto this VM */
	__u32 pad;
};

struct eptgate_vm_list {
	__u32 size;
	__u32 flags;		/* in: must be 0 */
	struct eptgate_array vms;	/* struct eptgate_vm_info, by vm_id */
};

/* eptgate_view_info.flags */
#define EPTGATE_VIEW_TRAMPOLINE	_BITUL(0)	/* a trampoline is installed */

/* One alternate view of a VM. */
struct eptgate_view_info {
	__u32 size;		/* out */
	__u32 flags;		/* out: EPTGATE_VIEW_* */
	__u32 view;		/* out: 1 .. EPTGATE_MAX_VIEWS - 1 */
	__u32 nr_ranges;	/* out: ranges of this view, every kind */
	__u64 tramp_code_gpa;	/* out: trampoline, if EPTGATE_VIEW_TRAMPOLINE */
	__u64 tramp_code_len;	/*      payload bytes, whole pages */
	__u64 tramp_data_gpa;
	__u64 tramp_doorbell_gpa;	/* 0: none */
};

/* eptgate_range_info.kind */
#define EPTGATE_RANGE_RAM	1	/* the VM's own RAM (EPTGATE_SET_ACCESS) */
#define EPTGATE_RANGE_WINDOW	2	/* a peer's memory (EPTGATE_MAP_WINDOW) */
#define EPTGATE_RANGE_TRAMPOLINE 3	/* trampoline code, data or doorbell */
#define EPTGATE_RANGE_REVOKED	4	/* a window its peer revoked: a sink */

/* eptgate_range_info.flags */
#define EPTGATE_RANGE_GRANT	_BITUL(0)	/* window made from a grant fd */

/* One range of a view. */
struct eptgate_range_info {
	__u32 size;		/* out */
	__u32 flags;		/* out: EPTGATE_RANGE_GRANT */
	__u32 view;		/* out */
	__u32 kind;		/* out: EPTGATE_RANGE_* */
	__u32 access;		/* out: EPTGATE_ACCESS_* */
	__s32 peer_pid;		/* out: window: the peer's binder, as pid */
	__u64 gpa;		/* out */
	__u64 len;		/* out */
	__u64 peer_vm_id;	/* out: window: the peer's vm_id; else 0 */
	__u64 peer_gpa;		/* out: window: peer address of gpa */
};

/*
 * One VM in detail, as one snapshot: its eptgate_vm_info (vm, one
 * record), its views, each view's counters (struct eptgate_view_stats,
 * same order as views), the ranges of every view (by view, then gpa) and
 * the counters of its vCPUs with eptgate state (struct
 * eptgate_vcpu_stats, by vcpu_idx).
 */
struct eptgate_vm_query {
	__u32 size;
	__u32 flags;		/* in: must be 0 */
	__u64 vm_id;		/* in: from EPTGATE_LIST_VMS */
	struct eptgate_array vm;
	struct eptgate_array views;
	struct eptgate_array view_stats;
	struct eptgate_array ranges;
	struct eptgate_array vcpus;
};

#define EPTGATE_IO		0xE9

/* /dev/eptgate */
#define EPTGATE_GET_INFO	_IOWR(EPTGATE_IO, 0x00, struct eptgate_info)
#define EPTGATE_BIND_VM		_IOW(EPTGATE_IO, 0x01, struct eptgate_bind)
#define EPTGATE_LIST_VMS	_IOWR(EPTGATE_IO, 0x02, struct eptgate_vm_list)
#define EPTGATE_QUERY_VM	_IOWR(EPTGATE_IO, 0x03, struct eptgate_vm_query)
/* binding fd */
#define EPTGATE_CREATE_VIEW	_IOWR(EPTGATE_IO, 0x10, struct eptgate_view)
#define EPTGATE_DESTROY_VIEW	_IOW(EPTGATE_IO, 0x11, struct eptgate_view)
#define EPTGATE_SET_ACCESS	_IOW(EPTGATE_IO, 0x12, struct eptgate_access)
#define EPTGATE_MAP_WINDOW	_IOW(EPTGATE_IO, 0x13, struct eptgate_window)
#define EPTGATE_ENABLE		_IOW(EPTGATE_IO, 0x14, struct eptgate_switching)
#define EPTGATE_DISABLE		_IOW(EPTGATE_IO, 0x15, struct eptgate_switching)
#define EPTGATE_GET_VIEW_STATS	_IOWR(EPTGATE_IO, 0x16, struct eptgate_view_stats)
#define EPTGATE_GET_VCPU_STATS	_IOWR(EPTGATE_IO, 0x17, struct eptgate_vcpu_stats)
#define EPTGATE_INSTALL_TRAMPOLINE _IOW(EPTGATE_IO, 0x18, struct eptgate_trampoline)
#define EPTGATE_CREATE_GRANT	_IOW(EPTGATE_IO, 0x19, struct eptgate_grant)
/* grant fd */
#define EPTGATE_GRANT_INFO	_IOWR(EPTGATE_IO, 0x20, struct eptgate_grant_info)
#define EPTGATE_REVOKE_GRANT	_IOW(EPTGATE_IO, 0x21, struct eptgate_revoke)

#endif /* _UAPI_LINUX_EPTGATE_H */
