#!/bin/bash
# Boot time skp adds under systemd: ten skptab devices and one KMS node, the same guest
# booted with skpd enabled and then disabled (tests/vm/run --systemd, three boots).
# vm-args: --systemd --kms 1 --disk 32M --disk 32M --disk 32M --disk 32M --disk 32M --disk 32M --disk 32M --disk 32M --disk 32M --disk 32M
. "$SKP_REPO/tests/systemd/lib.sh"
devs=(/dev/vd{a..j})

times() { # label
	local t
	until systemctl is-system-running --wait > /dev/null 2>&1 ||
		[ "$(systemctl is-system-running)" = degraded ]; do sleep 1; done
	t=$(systemd-analyze time | head -1)
	echo "$1: $t"
	echo "$1: critical chain of multi-user.target:"
	systemd-analyze critical-chain multi-user.target | sed -n '2,$p' | sed 's/^/    /'
	systemd-analyze blame | grep -E 'skpd|skp-vm-kms' | sed "s/^/    $1 blame: /"
	# What skp adds: from the KMS up (its unit started) to multi-user.target; the whole
	# boot under TCG varies by more than that from one boot to the next.
	systemctl show -p ActiveEnterTimestampMonotonic skp-vm-kms.service multi-user.target |
		awk -F= '/=/ { v[n++] = $2 } END { printf "%.2f\n", (v[1] - v[0]) / 1e6 }' > "$T/after-kms-$1"
	echo "$1: multi-user.target $(cat "$T/after-kms-$1") s after the KMS was up"
	# userspace seconds (initramfs hand-over to the end of boot), for the comparison
	systemctl show -p UserspaceTimestampMonotonic -p FinishTimestampMonotonic |
		awk -F= '{ v[$1] = $2 } END { printf "%.2f\n", (v["FinishTimestampMonotonic"] - v["UserspaceTimestampMonotonic"]) / 1e6 }' \
		> "$T/userspace-$1"
}

case "$SKP_BOOT" in
1)
	skp_config false
	systemctl restart skpd.service || exit 1
	: > /etc/skp/skptab
	for i in "${!devs[@]}"; do
		skpctl format "${devs[$i]}" > /dev/null || exit 1
		echo "v$i UUID=$(skpctl dump "${devs[$i]}" | sed -n 's/^uuid: *//p')" >> /etc/skp/skptab
	done
	exit 200
	;;
2)
	n=$(ls /dev/mapper/v* 2>/dev/null | wc -l)
	echo "boot with skpd: $n of ${#devs[@]} skptab devices open"
	[ "$n" -eq "${#devs[@]}" ] || exit 1
	times with-skp
	systemctl disable -q skpd.service
	exit 200
	;;
3)
	systemctl -q is-active skpd.service && { echo "skpd still started"; exit 1; }
	times without-skp
	w=$(cat "$T/userspace-with-skp") wo=$(cat "$T/userspace-without-skp")
	awk -v w="$(cat "$T/after-kms-with-skp")" -v wo="$(cat "$T/after-kms-without-skp")" \
		'BEGIN { printf "added by skp (KMS up to multi-user.target): %.1f s with skp, %.1f s without: +%.1f s\n", w, wo, w - wo }'
	awk -v w="$w" -v wo="$wo" 'BEGIN { printf "userspace boot: %.1f s with skp (10 devices), %.1f s without: +%.1f s, ratio %.2f\n", w, wo, w - wo, w / wo }'
	exit 0
	;;
esac
exit 1
