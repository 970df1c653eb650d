#!/bin/bash
# skp installed from its packages and booted by a real systemd (tests/vm/run --systemd):
# one guest, four boots, TAP across them.  Disks: vda, vdb, vdc hold volumes a, b, c
# (skptab: a waits up to 20 s, b and c nofail; fstab: all _netdev, b and c nofail); d is
# on a loop image, attached only in boot 2 (hot-plug).
#   boot 1  install checks, configure, format, fstab; reload and restart skpd under fio
#           and during a deep rekey
#   boot 2  mounted at boot, data intact, READY after the mappings, clean shutdown of
#           boot 1; hot-plug of d; key_persistence = tpm, with c's KEK left out
#   boot 3  the KMS down: a and b from the persisted KEKs, c waits (nofail: no emergency
#           mode, its mount gives up at its device timeout); the KMS started (at once, or
#           SKP_KMS_AT seconds after boot): c unlocks and mounts without a command
#   boot 4  (make check-all only) the KMS still down: all three from the persisted KEKs;
#           clean shutdown of 3
. "$SKP_REPO/tests/systemd/lib.sh"

SUMS=$T/sums
LOOPIMG=$T/d.img

sums_ok() {
	sha256sum --quiet -c "$SUMS"
}
mounted_from() { # dir mapping
	[ "$(findmnt -no SOURCE "$1")" = "/dev/mapper/$2" ]
}
all_mounted() {
	mounted_from /srv/a a && mounted_from /srv/b b && mounted_from /srv/c c
}
# Every boot: the parts of a good boot.
common_checks() {
	check "no ordering cycle in the journal" journal_lacks 0 "ordering cycle"
	check "not in emergency or rescue mode" \
		bash -c '! systemctl -q is-active emergency.target && ! systemctl -q is-active rescue.target'
	check "skpd.service active" systemctl -q is-active skpd.service
}
# The previous boot's shutdown (the journal after its test command ended): the volumes
# were unmounted, then closed by skpd, and nothing failed to stop.
shutdown_checks() {
	local j
	j=$(journalctl --no-pager -b -1 -o short-monotonic | sed -n '/skp-vm: boot [0-9]*: command exited/,$p')
	check "boot $((SKP_BOOT - 1)) shutdown: /srv/a unmounted, then a closed by skpd" \
		awk '/Unmounted srv-a.mount/ { u = NR } /system shutdown: [1-9][0-9]* mapping\(s\) closed, 0 left open/ { c = NR }
		     END { exit !(u && c && u < c) }' <<< "$j"
	check "boot $((SKP_BOOT - 1)) shutdown: nothing failed to stop or deactivate" \
		bash -c '! grep -Ei "failed to deactivate|failed with result|Failed unmounting|timed out|left open:" <<< "$1"' _ "$j"
}
ready_after_mappings() {
	journalctl --no-pager -b 0 -o short-monotonic |
		awk '/skpd\[[0-9]+\]: opened .* as a / { o = NR } /Started skpd.service/ { s = NR }
		     END { exit !(o && s && o < s) }'
}
no_failed_units() {
	[ -z "$(systemctl --failed --no-legend)" ]
}

case "$SKP_BOOT" in
1)
	need "packages skp and skp-dkms installed" dpkg-query -W skp skp-dkms
	need "dm-skp built by DKMS for $(uname -r)" bash -c 'modinfo -n dm-skp | grep -q /updates/'
	units=$(dpkg -L skp | grep -E '/systemd/system/[^/]+\.(service|target|socket|timer|path)$')
	check "systemd-analyze verify: every shipped unit clean ($(echo $units | wc -w))" \
		bash -c 'out=$(systemd-analyze verify "$@" 2>&1); echo "$out"; ! grep -q . <<< "$out"' _ $units
	skp_config false 5
	# The package enabled skpd and this boot started it with the example configuration.
	need "skpd enabled by the package and running" systemctl -q is-enabled skpd.service
	need "systemctl restart skpd: the new configuration" systemctl restart skpd.service
	need "format vda, vdb, vdc" bash -c 'for d in /dev/vda /dev/vdb /dev/vdc; do skpctl format $d > /dev/null || exit 1; done'
	uuid() { skpctl dump "$1" | sed -n 's/^uuid: *//p'; }
	ua=$(uuid /dev/vda) ub=$(uuid /dev/vdb) uc=$(uuid /dev/vdc)
	udevadm settle
	check "lsblk -f and /dev/disk/by-uuid know an skp device" \
		bash -c '[ "$(lsblk -no FSTYPE /dev/vda)" = skp ] && [ -L "/dev/disk/by-uuid/$1" ]' _ "$ua"
	need "open a: /dev/mapper/a exists and udev knows it when skpctl returns" \
		bash -c 'skpctl open /dev/vda a > /dev/null && [ -b /dev/mapper/a ] &&
		       udevadm info -q property /dev/mapper/a | grep -qx DM_NAME=a'
	need "open b and c" bash -c 'skpctl open /dev/vdb b && skpctl open /dev/vdc c'
	# d: on a loop image, detached now; attached in boot 2 (hot-plug).
	truncate -s 32M "$LOOPIMG"
	lo=$(losetup -f --show "$LOOPIMG")
	need "format the loop volume d" skpctl format "$lo"
	ud=$(uuid "$lo")
	losetup -d "$lo"
	cat > /etc/skp/skptab <<TAB
a UUID=$ua timeout=20
b UUID=$ub nofail
c UUID=$uc nofail
d UUID=$ud nofail
TAB
	for v in a b c; do mkfs.ext4 -q "/dev/mapper/$v"; mkdir -p "/srv/$v"; done
	# c gives up on its device after 10 s: in boot 3 the KMS comes back long after that.
	cat >> /etc/fstab <<FSTAB
/dev/mapper/a /srv/a ext4 _netdev 0 2
/dev/mapper/b /srv/b ext4 _netdev,nofail 0 2
/dev/mapper/c /srv/c ext4 _netdev,nofail,x-systemd.device-timeout=10s 0 2
FSTAB
	systemctl daemon-reload
	need "mount /srv/a, /srv/b, /srv/c from fstab" bash -c 'mount /srv/a && mount /srv/b && mount /srv/c'
	for v in a b c; do head -c 4M /dev/urandom > "/srv/$v/data"; done
	sha256sum /srv/a/data /srv/b/data /srv/c/data > "$SUMS"
	sync

	# reload and restart under I/O: fio writes and verifies while skpd goes and comes.
	ta=$(dmsetup table a)
	fio --name=io --filename=/srv/a/fio --size=16M --rw=randrw --bs=4k --direct=1 \
		--ioengine=psync --time_based --runtime=7 --verify=crc32c --verify_fatal=1 \
		--output="$T/fio.out" &
	fio_pid=$!
	sleep 2
	check "systemctl reload skpd under I/O" systemctl reload skpd.service
	sleep 1
	check "systemctl restart skpd under I/O" systemctl restart skpd.service
	wait "$fio_pid"
	check "fio through reload and restart: no error, data verified" test $? -eq 0
	check "the table of a is untouched by the restart" test "$(dmsetup table a)" = "$ta"
	check "skpd adopted a, b, c after the restart" \
		bash -c 'l=$(skpctl list); for v in a b c; do grep -qw $v <<< "$l" || exit 1; done'

	# A deep rekey across a restart: it resumes by itself and finishes.
	g0=$(skpctl dump /dev/vdb | sed -n 's/^ *generation: *//p' | head -1)
	check "deep rekey of b started (8 MiB/s)" skpctl rekey b --deep --rate 8
	sleep 2
	check "systemctl restart skpd during the deep rekey" systemctl restart skpd.service
	check "the deep rekey resumed after the restart and finished" \
		timeout 300 skpctl rekey b --status --wait
	g1=$(skpctl dump /dev/vdb | sed -n 's/^ *generation: *//p' | head -1)
	check "b has a new DEK generation ($g0 -> $g1)" test "$g1" != "$g0"
	check "data intact after the rekey" sums_ok
	reboot_now
	;;
2)
	common_checks
	shutdown_checks
	check "/srv/a, /srv/b, /srv/c mounted from their mappings at boot" \
		bash -c "$(declare -f mounted_from all_mounted); all_mounted"
	check "data intact" sums_ok
	check "systemctl --failed is empty" no_failed_units
	check "READY=1 only after the mappings exist (journal order)" ready_after_mappings
	# skp-generator's order, as systemd loaded it: /srv/a waits for skpd (and is
	# unmounted before skpd stops), through blockdev@dev-mapper-a.target.
	check "skp-generator: skpd.service is before blockdev@dev-mapper-a.target, /srv/a after it" \
		bash -c 'systemctl show -p Before --value skpd.service | grep -qw "blockdev@dev-mapper-a.target" &&
			systemctl show -p After --value srv-a.mount | grep -qw "blockdev@dev-mapper-a.target"'
	check "d is pending: its disk is not there" bash -c 'skpctl status | grep -w d'
	lo=$(losetup -f --show "$LOOPIMG")
	check "hot-plug: d unlocks by itself when its disk appears ($lo)" wait_for 30 test -b /dev/mapper/d
	# Next boot: the KMS down, KEKs persisted for a and b only (c closed after the restart
	# that wrote them all: the set follows what is open).
	# Sealed by the guest's TPM (vm.args: --tpm new, one swtpm across the boots).
	skp_config tpm 5
	check "restart skpd with key_persistence = tpm" systemctl restart skpd.service
	check "unmount /srv/c" umount /srv/c
	check "close c: its KEK leaves the persisted set" bash -c 'skpctl close c && skpctl close d'
	check "persisted and sealed: the KEKs of a and b, nothing in clear" \
		bash -c 'journalctl -b 0 -u skpd | grep "KEK(s) of open devices written to /var/lib/skp/keks.sealed" |
			tail -1 | grep -q "key_persistence: 2 KEK" && ! [ -e /var/lib/skp/keks ]'
	systemctl disable -q skp-vm-kms.service
	reboot_now
	;;
3)
	common_checks
	shutdown_checks
	check "the KMS is down" bash -c '! (exec 3<>/dev/tcp/127.0.0.1/5696) 2>/dev/null'
	check "key_persistence: /srv/a and /srv/b mounted at boot without the KMS" \
		bash -c "$(declare -f mounted_from); mounted_from /srv/a a && mounted_from /srv/b b"
	check "the KEKs came from the set sealed by the TPM" \
		bash -c 'journalctl -b 0 -u skpd | grep -q "key_persistence: 2 KEK(s) loaded from /var/lib/skp/keks.sealed"'
	check "c (nofail) waits for the KMS: not open, listed as pending" \
		bash -c '! [ -e /dev/mapper/c ] && skpctl status | grep -w c'
	# SKP_KMS_AT=60: the KMS starts 60 s after boot (the issue's measurement); by default
	# at once, long after c's device timeout all the same.
	up=$(cut -d. -f1 /proc/uptime)
	[ "$up" -ge "${SKP_KMS_AT:-0}" ] || sleep $((SKP_KMS_AT - up))
	systemctl start skp-vm-kms.service
	t0=$SECONDS
	check "the KMS back: c unlocks and /srv/c mounts without a command" \
		wait_for 120 bash -c "$(declare -f mounted_from); mounted_from /srv/c c"
	note "KMS up (listening at $(cut -d' ' -f1 /proc/uptime | cut -d. -f1) s uptime) to /srv/c mounted: $((SECONDS - t0)) s"
	check "data intact" sums_ok
	check "systemctl --failed is empty" no_failed_units
	# A fourth boot only in make check-all (SKP_CHECK_ALL): CI's time is counted.
	[ -n "${SKP_CHECK_ALL:-}" ] || finish
	systemctl disable -q skp-vm-kms.service
	reboot_now
	;;
4)
	common_checks
	shutdown_checks
	check "the KMS still down: /srv/a, /srv/b, /srv/c mounted at boot from persisted KEKs" \
		bash -c "$(declare -f mounted_from all_mounted); all_mounted"
	check "data intact" sums_ok
	check "systemctl --failed is empty" no_failed_units
	finish
	;;
*)
	echo "not ok - unexpected boot $SKP_BOOT"
	exit 1
	;;
esac
