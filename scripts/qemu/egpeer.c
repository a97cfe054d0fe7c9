// SPDX-License-Identifier: GPL-2.0
/*
 * egpeer SOCKET TIMEOUT MAC -- a stand-in eptgate sender for the pair test
 * (scripts/qemu/l1run.sh, in L1).  It connects to the receiver's peer
 * socket (virtio-net-pci,...,eptgate=ID of guest B, a -chardev socket
 * server), speaks the peer protocol (include/hw/misc/eptgate-peer.h of the
 * QEMU patches) and checks what the receiver's QEMU does while guest B's
 * init changes its queues:
 *
 *   hello   the receiver's HELLO (version 1, role receiver)
 *   ringup  RING_UP gen 1 with exactly 3 fds, after B's `egchan eth0 2`
 *   grant   EPTGATE_GRANT_INFO on the grant fd: 1 range, not revoked,
 *           no windows; fd 2 is an eventfd; the window is page aligned
 *   rings   desc/avail/used of qsize entries inside the granted range;
 *           qsize a power of 2; VERSION_1, MQ, CTRL_VQ negotiated, not
 *           RING_PACKED; the MAC is MAC, the MTU 1500
 *   down1   RING_DOWN gen 1 (reason "queues") after B's `egchan eth0 1`,
 *           and the grant is revoked when it arrives
 *   up2     RING_UP gen 2 after `egchan eth0 2` again, a live grant
 *   down2   RING_DOWN gen 2 (reason "reset") after `rmmod virtio_net`,
 *           the grant revoked
 *
 * While a ring is up it writes the call eventfd every 200 ms: B's init
 * checks that its eptgate RX queue's interrupt count grows.
 * Results: "EGPEER <id> ok|fail <text>" lines; diagnostics otherwise.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/eptgate.h>
#include "hw/misc/eptgate-peer.h"

#define VIRTIO_NET_F_CTRL_VQ	17
#define VIRTIO_NET_F_MQ		22
#define VIRTIO_F_VERSION_1	32
#define VIRTIO_F_RING_PACKED	34
#define MAX_FDS			4

static int sock = -1;
static int timeout_s;
static uint8_t mac[6];

static void res(const char *id, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("EGPEER %s %s ", id, ok ? "ok" : "fail");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* read exactly len bytes, collecting SCM_RIGHTS fds; 0, or -1 with errno */
static int recv_all(void *buf, size_t len, int *fds, int *nfds)
{
	size_t got = 0;

	while (got < len) {
		union {
			char b[CMSG_SPACE(MAX_FDS * sizeof(int))];
			struct cmsghdr align;
		} cbuf;
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf.b, .msg_controllen = sizeof(cbuf.b),
		};
		struct cmsghdr *c;
		ssize_t r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			return -1;
		}
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			int i, n;

			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < n; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
				if (*nfds < MAX_FDS)
					fds[(*nfds)++] = fd;
				else
					close(fd);
			}
		}
		got += r;
	}
	return 0;
}

/*
 * Wait up to timeout_s for the next message; while waiting, write
 * kick_fd (if >= 0) every 200 ms.  Returns the payload size, or -1.
 */
static int next_msg(uint32_t *type, void *payload, size_t max, int *fds,
		    int *nfds, int kick_fd, unsigned long *kicks)
{
	double end = now() + timeout_s;
	EgPeerHdr h;

	*nfds = 0;
	for (;;) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		int r = poll(&p, 1, 200);

		if (r < 0 && errno != EINTR) {
			perror("egpeer: poll");
			return -1;
		}
		if (r > 0)
			break;
		if (now() > end) {
			fprintf(stderr, "egpeer: no message in %d s\n", timeout_s);
			return -1;
		}
		if (kick_fd >= 0) {
			uint64_t one = 1;

			if (write(kick_fd, &one, sizeof(one)) == sizeof(one))
				(*kicks)++;
		}
	}
	if (recv_all(&h, sizeof(h), fds, nfds) < 0) {
		fprintf(stderr, "egpeer: reading a message header: %s\n", strerror(errno));
		return -1;
	}
	if (h.size > max) {
		fprintf(stderr, "egpeer: message type %u of %u bytes (at most %zu)\n",
			h.type, h.size, max);
		return -1;
	}
	if (recv_all(payload, h.size, fds, nfds) < 0) {
		fprintf(stderr, "egpeer: reading a payload: %s\n", strerror(errno));
		return -1;
	}
	*type = h.type;
	printf("# egpeer: message type %u, %u bytes, %d fds\n", h.type, h.size, *nfds);
	fflush(stdout);
	return h.size;
}

static int grant_info(int fd, struct eptgate_grant_info *gi)
{
	memset(gi, 0, sizeof(*gi));
	gi->size = sizeof(*gi);
	return ioctl(fd, EPTGATE_GRANT_INFO, gi);
}

static bool is_eventfd(int fd)
{
	char path[64], link[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = 0;
	return strstr(link, "eventfd") != NULL;
}

static bool inside(uint64_t a, uint64_t size, uint64_t gpa, uint64_t len)
{
	return a >= gpa && size <= len && a - gpa <= len - size;
}

/* RING_UP number gen: ringup (+ grant, rings for the first) checks */
static bool ring_up(const char *id, uint64_t gen, EgPeerRingUp *ru, int *fds)
{
	struct eptgate_grant_info gi;
	uint32_t type;
	int nfds, n, i;
	uint64_t f;
	bool ok;

	n = next_msg(&type, ru, sizeof(*ru), fds, &nfds, -1, NULL);
	if (n < 0) {
		res(id, false, "no RING_UP gen %llu", (unsigned long long)gen);
		return false;
	}
	ok = type == EG_PEER_RING_UP && n == sizeof(*ru) && nfds == 3 && ru->gen == gen;
	res(id, ok, "RING_UP: type %u, %d bytes (want %zu), %d fds (want 3), gen %llu (want %llu)",
	    type, n, sizeof(*ru), nfds, (unsigned long long)ru->gen, (unsigned long long)gen);
	if (!ok) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		return false;
	}
	if (grant_info(fds[0], &gi) < 0) {
		res(gen == 1 ? "grant" : "up2-grant", false, "EPTGATE_GRANT_INFO: %s",
		    strerror(errno));
		return gen != 1;
	}
	if (gen == 1) {
		ok = gi.nr_ranges == 1 && !gi.revoked && !gi.windows && is_eventfd(fds[1]) &&
		     is_eventfd(fds[2]) &&
		     ru->win_len && !(ru->win_gpa & 4095) && !(ru->win_len & 4095);
		res("grant", ok, "GRANT_INFO ranges %u revoked %u windows %llu; fds 2, 3 %s eventfds; "
		    "window [0x%llx, 0x%llx) RW (as RING_UP says: GRANT_INFO has no access field)",
		    gi.nr_ranges, gi.revoked, (unsigned long long)gi.windows,
		    is_eventfd(fds[1]) && is_eventfd(fds[2]) ? "are" : "are NOT",
		    (unsigned long long)ru->win_gpa,
		    (unsigned long long)(ru->win_gpa + ru->win_len));
		f = ru->features;
		ok = ru->qsize && ru->qsize <= 32768 && !(ru->qsize & (ru->qsize - 1)) &&
		     inside(ru->desc_gpa, 16ULL * ru->qsize, ru->win_gpa, ru->win_len) &&
		     inside(ru->avail_gpa, 6 + 2ULL * ru->qsize, ru->win_gpa, ru->win_len) &&
		     inside(ru->used_gpa, 6 + 8ULL * ru->qsize, ru->win_gpa, ru->win_len) &&
		     (f >> VIRTIO_F_VERSION_1 & 1) && (f >> VIRTIO_NET_F_MQ & 1) &&
		     (f >> VIRTIO_NET_F_CTRL_VQ & 1) && !(f >> VIRTIO_F_RING_PACKED & 1) &&
		     !memcmp(ru->mac, mac, 6) && ru->mtu == 1500;
		res("rings", ok, "qsize %u desc 0x%llx avail 0x%llx used 0x%llx features 0x%llx "
		    "mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u", ru->qsize,
		    (unsigned long long)ru->desc_gpa, (unsigned long long)ru->avail_gpa,
		    (unsigned long long)ru->used_gpa, (unsigned long long)f, ru->mac[0],
		    ru->mac[1], ru->mac[2], ru->mac[3], ru->mac[4], ru->mac[5], ru->mtu);
	} else if (gi.revoked || gi.nr_ranges != 1) {
		res("up2-grant", false, "the new grant: ranges %u revoked %u", gi.nr_ranges,
		    gi.revoked);
	}
	return true;
}

/* wait for RING_DOWN gen, ringing fds[1]; the grant must be revoked by then */
static void ring_down(const char *id, uint64_t gen, uint32_t reason, int *fds)
{
	struct eptgate_grant_info gi;
	unsigned long kicks = 0;
	EgPeerRingDown rd = { 0 };
	int rfds[MAX_FDS], nfds, n, i, gr;
	uint32_t type;
	bool ok;

	n = next_msg(&type, &rd, sizeof(rd), rfds, &nfds, fds[1], &kicks);
	gr = grant_info(fds[0], &gi);
	for (i = 0; i < nfds; i++)
		close(rfds[i]);
	if (n < 0) {
		res(id, false, "no RING_DOWN gen %llu (after %lu doorbells)",
		    (unsigned long long)gen, kicks);
	} else {
		ok = type == EG_PEER_RING_DOWN && n == sizeof(rd) && rd.gen == gen &&
		     rd.reason == reason && gr == 0 && gi.revoked == 1;
		res(id, ok, "type %u gen %llu reason %u (want %u); GRANT_INFO then: %s revoked %u "
		    "windows_revoked %llu; %lu doorbells written before", type,
		    (unsigned long long)rd.gen, rd.reason, reason, gr ? strerror(errno) : "ok",
		    gi.revoked, (unsigned long long)gi.windows_revoked, kicks);
	}
	close(fds[0]);
	close(fds[1]);
	close(fds[2]);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	EgPeerHello hello = { .version = EG_PEER_VERSION, .role = EG_PEER_ROLE_SENDER };
	struct { EgPeerHdr h; EgPeerHello p; } out = {
		{ EG_PEER_HELLO, sizeof(EgPeerHello) }, hello,
	};
	EgPeerRingUp ru;
	EgPeerHello in = { 0 };
	int fds[MAX_FDS], nfds, n;
	uint32_t type;
	double end;

	if (argc != 4 || strlen(argv[1]) >= sizeof(sa.sun_path) ||
	    sscanf(argv[3], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2],
		   &mac[3], &mac[4], &mac[5]) != 6 || (timeout_s = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: egpeer SOCKET TIMEOUT_S MAC\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	end = now() + timeout_s;
	for (;;) {
		sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (sock < 0) {
			perror("egpeer: socket");
			return 1;
		}
		if (!connect(sock, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		close(sock);
		if (now() > end) {
			fprintf(stderr, "egpeer: connect %s: %s\n", argv[1], strerror(errno));
			res("hello", false, "cannot connect to %s", argv[1]);
			return 1;
		}
		usleep(200000);
	}
	printf("# egpeer: connected to %s\n", argv[1]);
	if (write(sock, &out, sizeof(out)) != sizeof(out)) {
		perror("egpeer: write HELLO");
		return 1;
	}
	n = next_msg(&type, &in, sizeof(in), fds, &nfds, -1, NULL);
	res("hello", n == sizeof(in) && type == EG_PEER_HELLO && nfds == 0 &&
	    in.version == EG_PEER_VERSION && in.role == EG_PEER_ROLE_RECEIVER,
	    "type %u, %d bytes, version %u, role %u (want %u, %zu, %u, %u)", type, n,
	    in.version, in.role, EG_PEER_HELLO, sizeof(in), EG_PEER_VERSION,
	    EG_PEER_ROLE_RECEIVER);
	if (n < 0)
		return 1;

	if (!ring_up("ringup", 1, &ru, fds))
		return 1;
	ring_down("down1", 1, EG_PEER_DOWN_QUEUES, fds);
	if (!ring_up("up2", 2, &ru, fds))
		return 1;
	ring_down("down2", 2, EG_PEER_DOWN_RESET, fds);
	close(sock);
	return 0;
}
