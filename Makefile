# SPDX-License-Identifier: GPL-2.0
#
# eptgate top-level build.
#
#   make              eptgate.ko for $(KDIR), the selftests
#   make check        everything that is tested: unit tests (ASan/UBSan),
#                     a bounded fuzz run, checkpatch, the module for both
#                     Debian kernels (W=1), and the selftests inside an
#                     emulated Intel CPU (Bochs) on both kernels
#   make demo         two VMs in the emulated CPU, one writing through a
#                     window into the other, with counters
#   make lint         checkpatch.pl --strict on the kernel sources
#   make unit | fuzz | modules-all | selftests | deps | clean

SHELL := /bin/bash
TOP := $(CURDIR)
B := $(TOP)/build

# The running kernel's build directory, else the newest installed headers.
KDIR ?= $(shell d=/lib/modules/$$(uname -r)/build; [ -d $$d ] && echo $$d || \
	  ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1)

KSRC_TARBALL := /usr/src/linux-source-6.1.tar.xz
CHECKPATCH := $(B)/ksrc-scripts/linux-source-6.1/scripts/checkpatch.pl
KERNEL_SOURCES := $(wildcard kmod/*.[ch]) uapi/linux/eptgate.h

UNIT_TESTS := test_ept_entry test_range test_uarg
UNIT_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -O1 \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-Itests -Ikmod -Iuapi -include tests/kshim.h
FUZZ_SECONDS ?= 300

.PHONY: all module modules-all selftests unit fuzz fuzz-build lint check \
	demo deps clean

all: module selftests

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
		$(MAKE) --no-print-directory module KDIR=/usr/src/linux-headers-$$abi \
			B=$(B)/$$abi >/dev/null || { echo "module build for $$abi failed"; exit 1; }; \
		echo "eptgate.ko for $$abi: $(B)/$$abi/mod-default/eptgate.ko"; \
	done

selftests:
	$(MAKE) -C selftests O=$(B)/selftests

$(B)/unit/%: tests/%.c kmod/range.c kmod/uarg.c kmod/*.h uapi/linux/eptgate.h tests/*.h
	@mkdir -p $(B)/unit
	$(CC) $(UNIT_CFLAGS) -o $@ $< kmod/range.c kmod/uarg.c

unit: $(addprefix $(B)/unit/,$(UNIT_TESTS))
	@for t in $^; do echo "# $${t##*/}"; $$t || exit 1; done

$(B)/fuzz/fuzz_uarg: tests/fuzz_uarg.c kmod/range.c kmod/uarg.c kmod/*.h tests/kshim.h
	@mkdir -p $(B)/fuzz
	clang -std=c11 -Wall -Wextra -Werror -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Itests -Ikmod -Iuapi -include tests/kshim.h -o $@ $< kmod/range.c kmod/uarg.c

fuzz-build: $(B)/fuzz/fuzz_uarg

fuzz: fuzz-build
	@mkdir -p $(B)/fuzz/corpus
	$(B)/fuzz/fuzz_uarg -max_total_time=$(FUZZ_SECONDS) $(B)/fuzz/corpus

$(CHECKPATCH):
	@test -f $(KSRC_TARBALL) || scripts/deps.sh
	mkdir -p $(B)/ksrc-scripts
	tar -C $(B)/ksrc-scripts -xJf $(KSRC_TARBALL) \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	touch $@

lint: $(CHECKPATCH)
	$(CHECKPATCH) --strict --no-tree --show-types --terse \
		-f $(KERNEL_SOURCES)

deps:
	scripts/deps.sh

check:
	scripts/check.sh

demo:
	scripts/demo.sh

clean:
	rm -rf $(B)
