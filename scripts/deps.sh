#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# deps.sh [SERIES...] -- install, from Debian's packages, everything eptgate's
# build and tests need.  Idempotent: apt-get runs only when something is missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

wanted=(
	make gcc libc6-dev binutils       # module, tools, selftests
	clang libclang-rt-14-dev          # libFuzzer and sanitizer runtimes
	linux-source                      # KVM selftests library, checkpatch.pl (6.1)
	openssl libssl-dev keyutils       # trampoline signing, keyring management
	kmod                              # modinfo
	dkms                              # the DKMS check (dkms build into build/dkms only)
	python3 python3-docutils          # JSON schema check, patch 0002's header copy; rst2man
	python3-jsonschema                # the schema check's second opinion
	libvirt-clients libxml2-utils     # virt-xml-validate (and its xmllint): libvirt/*.xml
)
missing=()
for p in "${wanted[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps.sh: installing: ${missing[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# the emulator, its boot chain, and the headers (unpacked under build/, not installed) of
# the kernels given (default: 6.1 6.12); sign-file comes from the unpacked linux-kbuild-6.1
exec "$here/bochs/deps.sh" "$@"
