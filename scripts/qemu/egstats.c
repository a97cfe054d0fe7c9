// SPDX-License-Identifier: GPL-2.0
/*
 * egstats IFACE [NAME] -- what `ethtool -S IFACE` prints ("name: value" lines), through
 * SIOCETHTOOL (ETHTOOL_GSSET_INFO, ETHTOOL_GSTRINGS, ETHTOOL_GSTATS); with NAME, only
 * that counter's value.  Static, for the L2 initramfs of scripts/qemu/pair-test.sh, which
 * has no libc for Debian's ethtool.  Exit 1 if NAME is not among the counters.
 */
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

static int eth(int s, const char *ifname, void *cmd)
{
	struct ifreq ifr = { 0 };

	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	ifr.ifr_data = cmd;
	return ioctl(s, SIOCETHTOOL, &ifr);
}

int main(int argc, char **argv)
{
	struct ethtool_sset_info *si;
	struct ethtool_gstrings *gs;
	struct ethtool_stats *st;
	uint32_t n, i;
	int s, found = 0;

	if (argc < 2 || argc > 3 || strlen(argv[1]) >= IFNAMSIZ) {
		fprintf(stderr, "usage: egstats IFACE [NAME]\n");
		return 2;
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0) {
		perror("egstats: socket");
		return 1;
	}
	si = calloc(1, sizeof(*si) + sizeof(uint32_t));
	si->cmd = ETHTOOL_GSSET_INFO;
	si->sset_mask = 1ULL << ETH_SS_STATS;
	if (eth(s, argv[1], si) < 0 || !(si->sset_mask & (1ULL << ETH_SS_STATS))) {
		fprintf(stderr, "egstats: ETHTOOL_GSSET_INFO on %s: %s\n", argv[1],
			errno ? strerror(errno) : "no statistics");
		return 1;
	}
	n = si->data[0];
	gs = calloc(1, sizeof(*gs) + (size_t)n * ETH_GSTRING_LEN);
	st = calloc(1, sizeof(*st) + (size_t)n * sizeof(uint64_t));
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_STATS;
	gs->len = n;
	st->cmd = ETHTOOL_GSTATS;
	st->n_stats = n;
	if (eth(s, argv[1], gs) < 0 || eth(s, argv[1], st) < 0) {
		fprintf(stderr, "egstats: ETHTOOL_GSTRINGS/GSTATS on %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		char name[ETH_GSTRING_LEN + 1] = { 0 };

		memcpy(name, gs->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		if (argc == 3) {
			if (!strcmp(name, argv[2])) {
				printf("%llu\n", (unsigned long long)st->data[i]);
				found = 1;
			}
			continue;
		}
		printf("%s: %llu\n", name, (unsigned long long)st->data[i]);
	}
	close(s);
	return argc == 3 && !found;
}
