# shellcheck shell=bash
# Which kernel the tests boot, and where its build of dm-skp.ko lives.

# The Debian kernel linux-image-amd64 pulls in (what a Debian 12 host boots).
skp_default_kver() {
	dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
		sed -n 's/.*linux-image-\([^ ,]*\).*/\1/p'
}

# Every other installed Debian kernel with headers (the 6.12 backport).
skp_extra_kvers() {
	local d v
	for d in /usr/src/linux-headers-6.12.*+deb12-amd64; do
		[ -d "$d" ] || continue
		v=${d#/usr/src/linux-headers-}
		[ -e "/boot/vmlinuz-$v" ] && echo "$v"
	done
}

# The default kernel's module builds in place (kernel/dm-skp.ko); others in build/.
skp_module_path() {
	local repo=$1 kver=$2
	if [ "$kver" = "$(skp_default_kver)" ]; then
		echo "$repo/kernel/dm-skp.ko"
	else
		echo "$repo/build/kernel-$kver/kernel/dm-skp.ko"
	fi
}

# The test build of the module (make kernel-test: fault-injection hooks) for kver.
skp_test_module_path() {
	echo "$1/build/kernel-test-$2/kernel/dm-skp.ko"
}

# The module as dm-skp 1.1 (make kernel-test), for the partial-upgrade test.
skp_old_module_path() {
	echo "$1/build/kernel-old-$2/kernel/dm-skp.ko"
}
