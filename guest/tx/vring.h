/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VIRTIO 1.x split virtqueue layout and the virtio-net receive header, as
 * the device side sees them.  Written from the VIRTIO 1.x specification
 * (sections 2.7 "Split Virtqueues" and 5.1.6 "Device Operation"), not
 * taken from any implementation.  Freestanding: only <stdint.h>.
 *
 * All multi-byte fields are little-endian in memory.  eptgate is x86-only,
 * so the accessors are plain loads and stores; they exist so that every
 * read of a field the peer controls is one explicit volatile load (read
 * once into a local, never re-read) and every store is one volatile store.
 */
#ifndef EPTGATE_GUEST_TX_VRING_H
#define EPTGATE_GUEST_TX_VRING_H

/* the guest driver (guest/linux) includes these in the kernel */
#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#if !defined(__x86_64__) || !defined(__BYTE_ORDER__) || \
	__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "eptgate's Tx path is x86-64 (little-endian, TSO) only"
#endif

/*
 * Alignment of the three parts of a split ring (2.7), under the names and
 * with the values of Linux's include/uapi/linux/virtio_ring.h.
 */
#define VRING_DESC_ALIGN_SIZE 16
#define VRING_AVAIL_ALIGN_SIZE 2
#define VRING_USED_ALIGN_SIZE 4

/* The x86-64 cache line, under the kernel's name (<linux/cache.h>). */
#ifdef __KERNEL__
#include <linux/cache.h>
#else
#define L1_CACHE_BYTES		64
#endif

/* Little-endian wire types (identity on x86-64). */
typedef uint16_t eg_le16;
typedef uint32_t eg_le32;
typedef uint64_t eg_le64;

/* Largest queue size the split ring allows (2.7: a power of 2, <= 32768). */
#define VIRTQ_MAX_SIZE		32768u

/* Descriptor flags (2.7.5). */
#define VIRTQ_DESC_F_NEXT	1u	/* the chain continues at .next */
#define VIRTQ_DESC_F_WRITE	2u	/* device-writable buffer */
#define VIRTQ_DESC_F_INDIRECT	4u	/* buffer is a table of descriptors */

/* avail->flags (2.7.7): driver asks for no used-buffer notification. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1u

/* Feature bits this code looks at. */
#define VIRTIO_NET_F_MRG_RXBUF		15	/* mergeable receive buffers */
#define VIRTIO_F_INDIRECT_DESC		28
#define VIRTIO_F_EVENT_IDX		29	/* used_event / avail_event */
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_F_ACCESS_PLATFORM	33
#define VIRTIO_F_RING_PACKED		34
#define VIRTIO_F_IN_ORDER		35
#define VIRTIO_NET_F_HASH_REPORT	57

/* Descriptor table entry: 16 bytes, table aligned to VRING_DESC_ALIGN_SIZE (2.7.5). */
struct virtq_desc {
	eg_le64 addr;	/* guest-physical address of the buffer */
	eg_le32 len;	/* bytes */
	eg_le16 flags;	/* VIRTQ_DESC_F_* */
	eg_le16 next;	/* next descriptor index when F_NEXT */
};

/*
 * Available ring (driver -> device), aligned to VRING_AVAIL_ALIGN_SIZE:
 *	le16 flags; le16 idx; le16 ring[qsize]; le16 used_event;
 * used_event only means something with VIRTIO_F_EVENT_IDX.
 */
struct virtq_avail {
	eg_le16 flags;
	eg_le16 idx;		/* where the driver will put the next entry */
	eg_le16 ring[];		/* head descriptor indices; then used_event */
};

/* Used ring element: the head of a consumed chain, bytes written. */
struct virtq_used_elem {
	eg_le32 id;
	eg_le32 len;
};

/*
 * Used ring (device -> driver), aligned to VRING_USED_ALIGN_SIZE:
 *	le16 flags; le16 idx; struct virtq_used_elem ring[qsize]; le16 avail_event;
 */
struct virtq_used {
	eg_le16 flags;
	eg_le16 idx;
	struct virtq_used_elem ring[];	/* then avail_event */
};

/* Byte sizes of the three parts for a queue of qsize entries (2.7). */
#define VIRTQ_DESC_BYTES(qsize)		(16ull * (qsize))
#define VIRTQ_AVAIL_BYTES(qsize)	(6ull + 2ull * (qsize))
#define VIRTQ_USED_BYTES(qsize)		(6ull + 8ull * (qsize))

_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc is 16 bytes");
_Static_assert(sizeof(struct virtq_avail) == 4, "avail header is 4 bytes");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "used elem is 8 bytes");
_Static_assert(sizeof(struct virtq_used) == 4, "used header is 4 bytes");

/*
 * virtio-net receive header for VIRTIO 1.x (5.1.6): 12 bytes, num_buffers
 * always present (with VERSION_1); it is 1 unless VIRTIO_NET_F_MRG_RXBUF
 * is negotiated, then it counts the buffers the packet was merged over.
 */
struct virtio_net_hdr_v1 {
	uint8_t flags;		/* VIRTIO_NET_HDR_F_* */
	uint8_t gso_type;	/* VIRTIO_NET_HDR_GSO_* */
	eg_le16 hdr_len;
	eg_le16 gso_size;
	eg_le16 csum_start;
	eg_le16 csum_offset;
	eg_le16 num_buffers;
};

#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_V1_NUM_BUFFERS	10	/* byte offset of num_buffers */

_Static_assert(sizeof(struct virtio_net_hdr_v1) == 12, "virtio_net_hdr_v1 is 12 bytes");

/* One load or store of a shared little-endian field (never merged/re-read). */
static inline uint16_t vq_ld16(const void *p)
{
	return *(const volatile uint16_t *)p;
}

static inline uint32_t vq_ld32(const void *p)
{
	return *(const volatile uint32_t *)p;
}

static inline uint64_t vq_ld64(const void *p)
{
	return *(const volatile uint64_t *)p;
}

static inline void vq_st16(void *p, uint16_t v)
{
	*(volatile uint16_t *)p = v;
}

static inline void vq_st32(void *p, uint32_t v)
{
	*(volatile uint32_t *)p = v;
}

/* A used element (id | len << 32): 4-aligned, as the used ring is. */
typedef uint64_t eg_u64_a4 __attribute__((aligned(4)));

static inline uint64_t vq_ld64_a4(const void *p)
{
	return *(const volatile eg_u64_a4 *)p;
}

static inline void vq_st64_a4(void *p, uint64_t v)
{
	*(volatile eg_u64_a4 *)p = v;
}

/*
 * Event suppression (2.7.7.2 / 2.7.10): with VIRTIO_F_EVENT_IDX the driver
 * writes used_event = E and wants a notification when the device moves the
 * used index from old to new such that the entry at index E was among those
 * just made visible, i.e. E lies in the half-open range [old, new) modulo
 * 2^16.  Distances are taken from old: E - old < new - old (both mod 2^16).
 * Same test for avail_event on the driver's side.
 */
static inline int vring_need_event(uint16_t event_idx, uint16_t new_idx,
				   uint16_t old_idx)
{
	return (uint16_t)(event_idx - old_idx) < (uint16_t)(new_idx - old_idx);
}

#endif
