// SPDX-License-Identifier: GPL-2.0
/*
 * egchan IFACE [N] -- show, or set to N, the "combined" channel count of a
 * network interface (what `ethtool -L IFACE combined N` does), through the
 * SIOCETHTOOL ioctl (ETHTOOL_GCHANNELS / ETHTOOL_SCHANNELS).  Static, for
 * the L2 initramfs of scripts/qemu/pair-test.sh, which has no libc for
 * Debian's ethtool.  Prints "IFACE combined C max M" after the change.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

static int channels(int s, const char *ifname, struct ethtool_channels *ch,
		    unsigned int cmd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ch->cmd = cmd;
	ifr.ifr_data = (void *)ch;
	return ioctl(s, SIOCETHTOOL, &ifr);
}

int main(int argc, char **argv)
{
	struct ethtool_channels ch = { 0 };
	unsigned long want = 0;
	char *end;
	int s;

	if (argc < 2 || argc > 3 || strlen(argv[1]) >= IFNAMSIZ) {
		fprintf(stderr, "usage: egchan IFACE [COMBINED]\n");
		return 2;
	}
	if (argc == 3) {
		errno = 0;
		want = strtoul(argv[2], &end, 0);
		if (errno || *end || !want || want > UINT_MAX) {
			fprintf(stderr, "egchan: bad channel count '%s'\n", argv[2]);
			return 2;
		}
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0) {
		perror("egchan: socket");
		return 1;
	}
	if (channels(s, argv[1], &ch, ETHTOOL_GCHANNELS) < 0) {
		fprintf(stderr, "egchan: ETHTOOL_GCHANNELS on %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	if (want) {
		ch.combined_count = want;
		if (channels(s, argv[1], &ch, ETHTOOL_SCHANNELS) < 0) {
			fprintf(stderr, "egchan: ETHTOOL_SCHANNELS combined %lu on %s (max %u): %s\n",
				want, argv[1], ch.max_combined, strerror(errno));
			return 1;
		}
		memset(&ch, 0, sizeof(ch));
		if (channels(s, argv[1], &ch, ETHTOOL_GCHANNELS) < 0) {
			fprintf(stderr, "egchan: ETHTOOL_GCHANNELS on %s: %s\n",
				argv[1], strerror(errno));
			return 1;
		}
	}
	printf("%s combined %u max %u\n", argv[1], ch.combined_count, ch.max_combined);
	close(s);
	return want && ch.combined_count != want;
}
