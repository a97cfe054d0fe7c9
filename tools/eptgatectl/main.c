// SPDX-License-Identifier: GPL-2.0
/*
 * eptgatectl: the module-wide view of eptgate (Documentation/eptgatectl.rst).
 */
#include <stdlib.h>
#include <string.h>

#include "eptgatectl.h"

int main(int argc, char **argv)
{
	const char *dev = EPTGATE_DEVICE;
	struct ectl_source src;
	int i, j;

	/* --device PATH, anywhere; the rest is cmd.c's */
	for (i = j = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--device") || !strcmp(argv[i], "-d")) {
			if (i + 1 == argc) {
				fputs("eptgatectl: --device needs a path; try 'eptgatectl help'\n",
				      stderr);
				return 2;
			}
			dev = argv[++i];
			continue;
		}
		argv[j++] = argv[i];
	}
	argv[j] = NULL;
	ectl_dev_source(&src, dev);
	return ectl_main(j, argv, &src, stdout, stderr);
}
