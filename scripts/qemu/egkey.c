// SPDX-License-Identifier: GPL-2.0
/*
 * egkey CERT.der - add an X.509 certificate to eptgate's trampoline keyring
 * (its serial is /sys/module/eptgate/parameters/keyring), as an administrator
 * does with `keyctl padd asymmetric eptgate-pair SERIAL < CERT.der`; L1 of the
 * pair test has no keyctl.  Prints the new key's serial.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *param = "/sys/module/eptgate/parameters/keyring";
	static unsigned char der[16384];
	long ring = 0, key;
	size_t len;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: egkey CERT.der\n");
		return 2;
	}
	f = fopen(param, "r");
	if (!f || fscanf(f, "%ld", &ring) != 1 || ring <= 0) {
		fprintf(stderr, "egkey: %s: no keyring serial (is eptgate.ko loaded?)\n", param);
		return 1;
	}
	fclose(f);
	f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "egkey: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	len = fread(der, 1, sizeof(der), f);
	fclose(f);
	if (len == 0 || len == sizeof(der)) {
		fprintf(stderr, "egkey: %s: empty, or larger than %zu bytes\n", argv[1], sizeof(der));
		return 1;
	}
	key = syscall(__NR_add_key, "asymmetric", "eptgate-pair", der, len, ring);
	if (key < 0) {
		fprintf(stderr, "egkey: add_key(asymmetric, %zu bytes, keyring %ld): %s\n", len, ring,
			strerror(errno));
		return 1;
	}
	printf("%ld\n", key);
	return 0;
}
