// SPDX-License-Identifier: GPL-2.0
/*
 * egudp - a counted UDP stream between two hosts: every datagram is sent once,
 * the receiver checks that each arrives exactly once and intact.
 *
 *   egudp recv [-p PORT] [-t SECS]                   (prints a summary, exit 0 iff clean)
 *   egudp send [-p PORT] [-t SECS] [-n COUNT] [-w WINDOW] [-m MAXLEN] DEST_IPV4
 *                                                  (-t: the HELLO and the whole stream)
 *
 * Protocol (all fields little endian, struct eg_hdr first in every datagram):
 *   HELLO  sender -> receiver until the receiver answers ACK (it learns the peer);
 *   DATA   seq 0..COUNT-1, total length len(seq) (mixed: 32..MAXLEN bytes),
 *          payload byte i = pattern(seq, i); never retransmitted;
 *   ACK    receiver -> sender every WINDOW/4 new datagrams, carrying the highest
 *          seq seen + 1; the sender stays within WINDOW of it (flow control, so
 *          that a slow receiver does not overflow socket buffers), and goes on
 *          after a 1 s stall (a lost datagram is then reported, not hidden);
 *   END    sender -> receiver every 200 ms with COUNT until SUMMARY comes back;
 *   SUMMARY receiver -> sender: unique, duplicate, bad, missing counts.
 * Built static (gcc -static -O2); the L2 guests of scripts/qemu/pair-test.sh
 * run it over virtio-net, the eptgate fast path will run it later.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EG_MAGIC 0x44554745u /* "EGUD" */
#define EG_MAXLEN 65507
#define EG_MINLEN ((int)sizeof(struct eg_hdr))

enum { EG_HELLO = 1, EG_DATA, EG_ACK, EG_END, EG_SUMMARY };

struct eg_hdr {
	uint32_t magic;
	uint32_t type;
	uint32_t seq;	/* DATA: sequence; ACK: highest seq seen + 1 */
	uint32_t count;	/* DATA/END: stream length; SUMMARY: unique */
	uint32_t len;	/* DATA: datagram length; SUMMARY: duplicates */
	uint32_t aux;	/* SUMMARY: bad; DATA: 0 */
	uint32_t aux2;	/* SUMMARY: missing */
	uint32_t maxlen;	/* HELLO/DATA: the sender's -m */
};

static const char *prog = "egudp";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t mix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

/* datagram length for seq: a few fixed sizes around the usual edges, else random */
static int dg_len(uint32_t seq, int maxlen)
{
	static const int fixed[] = { 32, 60, 64, 128, 255, 256, 511, 1000, 1024, 1400, 1472 };
	uint32_t r = mix(seq * 2 + 1);
	int n = sizeof(fixed) / sizeof(fixed[0]);

	if (seq % 2 == 0 && fixed[(seq / 2) % n] <= maxlen)
		return fixed[(seq / 2) % n];
	return EG_MINLEN + r % (maxlen - EG_MINLEN + 1);
}

static uint8_t pattern(uint32_t seq, uint32_t i)
{
	return (uint8_t)(mix(seq) >> (8 * (i & 3))) ^ (uint8_t)(i * 7 + (i >> 8));
}

static void fill(uint8_t *buf, const struct eg_hdr *h)
{
	memcpy(buf, h, sizeof(*h));
	for (uint32_t i = sizeof(*h); i < h->len; i++)
		buf[i] = pattern(h->seq, i);
}

static int intact(const uint8_t *buf, ssize_t n, const struct eg_hdr *h, int maxlen)
{
	if (h->len != (uint32_t)n || n < EG_MINLEN || n > maxlen ||
	    (int)h->len != dg_len(h->seq, maxlen) || h->aux || h->aux2)
		return 0;
	for (uint32_t i = sizeof(*h); i < h->len; i++)
		if (buf[i] != pattern(h->seq, i))
			return 0;
	return 1;
}

static void hdr(struct eg_hdr *h, uint32_t type, uint32_t seq, uint32_t count)
{
	memset(h, 0, sizeof(*h));
	h->magic = EG_MAGIC;
	h->type = type;
	h->seq = seq;
	h->count = count;
	h->len = sizeof(*h);
}

static int wait_in(int fd, double secs)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ms = secs <= 0 ? 0 : (int)(secs * 1000) + 1;

	return poll(&p, 1, ms) > 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: %s recv [-p PORT] [-t SECS]\n"
		"       %s send [-p PORT] [-t SECS] [-n COUNT] [-w WINDOW] [-m MAXLEN] DEST_IPV4\n",
		prog, prog);
	exit(2);
}

static int do_recv(int fd, double tmo)
{
	static uint8_t buf[EG_MAXLEN + 1];
	uint8_t *seen = NULL;
	uint32_t count = 0, unique = 0, dup = 0, bad = 0, hi = 0, since_ack = 0, missing = 0;
	uint64_t bytes = 0;
	int minl = EG_MAXLEN, maxl = 0, have_peer = 0, maxlen = 0;
	double t_end = 0, t_first = 0, t_last = 0, deadline = now() + tmo;
	struct sockaddr_in peer;
	socklen_t plen;
	struct eg_hdr h, r;

	for (;;) {
		double left = deadline - now();

		if (t_end && now() - t_end > 1.0)
			break;	/* answered END; 1 s for repeats and late duplicates */
		if (left <= 0)
			break;	/* -t ran out: report what came */
		if (!wait_in(fd, t_end ? 0.2 : left))
			continue;
		plen = sizeof(peer);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("recvfrom");
			return 1;
		}
		if (n < EG_MINLEN) {
			bad++;
			continue;
		}
		memcpy(&h, buf, sizeof(h));
		if (h.magic != EG_MAGIC) {
			bad++;
			continue;
		}
		if (h.type == EG_HELLO || (h.type == EG_DATA && !have_peer)) {
			if (!have_peer) {
				count = h.count;
				maxlen = h.maxlen;
				if (!count || count > (1u << 24) || maxlen < EG_MINLEN ||
				    maxlen > EG_MAXLEN) {
					fprintf(stderr, "%s: bad count %u / maxlen %d\n", prog,
						count, maxlen);
					return 1;
				}
				seen = calloc(count, 1);
				if (!seen)
					return 1;
				have_peer = 1;
				deadline = now() + tmo;
			}
			hdr(&r, EG_ACK, hi, count);
			sendto(fd, &r, sizeof(r), 0, (struct sockaddr *)&peer, plen);
			if (h.type == EG_HELLO)
				continue;
		}
		if (h.type == EG_DATA) {
			if (h.count != count || h.seq >= count || (int)h.maxlen != maxlen ||
			    !intact(buf, n, &h, maxlen)) {
				bad++;
				continue;
			}
			if (seen[h.seq]++) {
				dup++;
				continue;
			}
			if (!unique)
				t_first = now();
			t_last = now();
			unique++;
			bytes += n;
			minl = n < minl ? n : minl;
			maxl = n > maxl ? n : maxl;
			if (h.seq + 1 > hi)
				hi = h.seq + 1;
			if (++since_ack >= 8) {
				since_ack = 0;
				hdr(&r, EG_ACK, hi, count);
				sendto(fd, &r, sizeof(r), 0, (struct sockaddr *)&peer, plen);
			}
		} else if (h.type == EG_END && have_peer) {
			missing = 0;
			for (uint32_t i = 0; i < count; i++)
				missing += !seen[i];
			hdr(&r, EG_SUMMARY, hi, unique);
			r.len = dup;
			r.aux = bad;
			r.aux2 = missing;
			sendto(fd, &r, sizeof(r), 0, (struct sockaddr *)&peer, plen);
			if (!t_end)
				t_end = now();
		}
	}
	if (!have_peer) {
		printf("egudp recv: no sender within %.0f s\n", tmo);
		return 1;
	}
	missing = 0;
	for (uint32_t i = 0; i < count; i++)
		missing += !seen[i];
	printf("egudp recv: count=%u unique=%u dup=%u bad=%u missing=%u bytes=%llu len=%d..%d "
	       "%.2f s %s\n", count, unique, dup, bad, missing, (unsigned long long)bytes,
	       unique ? minl : 0, maxl, unique ? t_last - t_first : 0.0,
	       t_end ? "end seen" : "no END (timeout)");
	return !(t_end && unique == count && !dup && !bad && !missing);
}

static int do_send(int fd, const struct sockaddr_in *dst, uint32_t count, uint32_t window,
		   double tmo, int maxlen)
{
	static uint8_t buf[EG_MAXLEN + 1];
	uint32_t acked = 0, stalls = 0;
	uint64_t bytes = 0;
	double deadline = now() + tmo, t0, t1, last = 0;
	struct eg_hdr h, r;
	int got = 0;

	/* HELLO until the receiver answers */
	while (!got) {
		if (now() > deadline) {
			printf("egudp send: no answer to HELLO within %.0f s\n", tmo);
			return 1;
		}
		hdr(&h, EG_HELLO, 0, count);
		h.maxlen = maxlen;
		sendto(fd, &h, sizeof(h), 0, (const struct sockaddr *)dst, sizeof(*dst));
		while (wait_in(fd, 0.2)) {
			if (recv(fd, &r, sizeof(r), 0) == sizeof(r) && r.magic == EG_MAGIC &&
			    r.type == EG_ACK)
				got = 1;
		}
	}
	t0 = now();
	for (uint32_t seq = 0; seq < count; seq++) {
		/* -t bounds the whole stream, not only the HELLO */
		if (now() > deadline) {
			printf("egudp send: stopped at %u of %u after %.0f s (stalls=%u)\n", seq,
			       count, tmo, stalls);
			return 1;
		}
		/* flow control: stay within window of what the receiver has seen */
		while (seq >= acked + window) {
			if (!wait_in(fd, 1.0)) {
				stalls++;
				acked = seq - window / 2;
				break;
			}
			if (recv(fd, &r, sizeof(r), 0) == sizeof(r) && r.magic == EG_MAGIC &&
			    r.type == EG_ACK && r.seq > acked)
				acked = r.seq;
		}
		while (wait_in(fd, 0)) {
			if (recv(fd, &r, sizeof(r), 0) == sizeof(r) && r.magic == EG_MAGIC &&
			    r.type == EG_ACK && r.seq > acked)
				acked = r.seq;
		}
		hdr(&h, EG_DATA, seq, count);
		h.len = dg_len(seq, maxlen);
		h.maxlen = maxlen;
		fill(buf, &h);
		while (sendto(fd, buf, h.len, 0, (const struct sockaddr *)dst, sizeof(*dst)) < 0) {
			if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
				perror("sendto");
				return 1;
			}
			usleep(1000);
		}
		bytes += h.len;
	}
	t1 = now();
	/* END until SUMMARY */
	for (got = 0; !got;) {
		if (now() > deadline + 5) {
			printf("egudp send: sent=%u bytes=%llu stalls=%u, no SUMMARY\n", count,
			       (unsigned long long)bytes, stalls);
			return 1;
		}
		if (now() - last >= 0.2) {
			hdr(&h, EG_END, count, count);
			sendto(fd, &h, sizeof(h), 0, (const struct sockaddr *)dst, sizeof(*dst));
			last = now();
		}
		if (wait_in(fd, 0.2) && recv(fd, &r, sizeof(r), 0) == sizeof(r) &&
		    r.magic == EG_MAGIC && r.type == EG_SUMMARY)
			got = 1;
	}
	printf("egudp send: sent=%u bytes=%llu stalls=%u %.2f s; receiver: unique=%u dup=%u "
	       "bad=%u missing=%u\n", count, (unsigned long long)bytes, stalls, t1 - t0,
	       r.count, r.len, r.aux, r.aux2);
	return !(r.count == count && !r.len && !r.aux && !r.aux2);
}

int main(int argc, char **argv)
{
	uint32_t count = 1000, window = 32;
	int port = 7777, maxlen = 1472, opt, fd, rcvbuf = 4 << 20;
	double tmo = 60;
	struct sockaddr_in a = { .sin_family = AF_INET };
	const char *mode;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "p:t:n:w:m:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 't': tmo = atof(optarg); break;
		case 'n': count = strtoul(optarg, NULL, 0); break;
		case 'w': window = strtoul(optarg, NULL, 0); break;
		case 'm': maxlen = atoi(optarg); break;
		default: usage();
		}
	}
	if (maxlen < EG_MINLEN || maxlen > EG_MAXLEN || !count || window < 8 || port <= 0)
		usage();
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	/* past rmem_max as root: a receiver stopped for seconds gets a ring's worth at once */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (!strcmp(mode, "recv")) {
		if (optind != argc)
			usage();
		a.sin_port = htons(port);
		a.sin_addr.s_addr = htonl(INADDR_ANY);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			perror("bind");
			return 1;
		}
		return do_recv(fd, tmo);
	}
	if (!strcmp(mode, "send")) {
		if (optind != argc - 1 || inet_pton(AF_INET, argv[optind], &a.sin_addr) != 1)
			usage();
		a.sin_port = htons(port);
		return do_send(fd, &a, count, window, tmo, maxlen);
	}
	usage();
	return 2;
}
