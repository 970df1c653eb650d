#!/bin/bash
# The boot transaction of a host with the skp package, skpd enabled and skp volumes in
# fstab has no ordering cycle, whatever the layout: root and /var local, on NFS or on an
# iSCSI disk (_netdev).  systemd's own fstab generator and the packaged skp-generator
# make the units from each layout's fstab and skptab, as at boot; systemd-analyze verify
# then builds the start transaction of multi-user.target (a cycle shows as "Found
# ordering cycle").  The units systemd ships come from this host.
. tests/lib/common.sh
deb=$(ls build/deb/skp_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no skp package in build/deb (01-deb.sh)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp/pkg"
gen=$tmp/pkg/lib/systemd/system-generators/skp-generator
[ -x "$gen" ] || fail "the package ships no skp-generator"

# layout NAME FSTAB_TEXT: a root tree with the package, the host's units and the
# generated ones; $root and $out (systemd-analyze's words) are left for the caller.
layout() {
	local name=$1 fstab=$2
	root=$tmp/$name
	rm -rf "$root" "$tmp/etc-up" "$tmp/etc-work"
	cp -a "$tmp/pkg" "$root"
	cp -an /lib/systemd/system/. "$root/lib/systemd/system/"
	mkdir -p "$root/etc/systemd/system/multi-user.target.wants" "$tmp/etc-up/skp" "$tmp/etc-work"
	ln -s /lib/systemd/system/skpd.service "$root/etc/systemd/system/multi-user.target.wants/"
	printf '%s\n' "$fstab" > "$tmp/etc-up/fstab"
	# A provider whose password file is missing: skpd reports it at start, but the mounts'
	# order comes from skptab alone, so the generator must not read it (nor fail on it).
	printf '[skpd]\nskptab = /etc/skp/skptab\n[provider "k"]\nserver = kms\nusername = u\npassword_file = %s\n' \
		"$tmp/no-such-password" > "$tmp/etc-up/skp/skpd.conf"
	printf 'data UUID=0f8e8e52-6f3e-4c57-9a55-3a1c2b7d9e01\nlogs /dev/vdc nofail\n' \
		> "$tmp/etc-up/skp/skptab"
	mkdir -p "$tmp/$name.gen"
	SYSTEMD_FSTAB=$tmp/etc-up/fstab /lib/systemd/system-generators/systemd-fstab-generator \
		"$tmp/$name.gen" "$tmp/$name.gen" "$tmp/$name.gen" || fail "$name: systemd-fstab-generator"
	# skp-generator reads /etc as at boot: this layout's /etc/fstab and /etc/skp over the host's.
	unshare -m sh -c 'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1,workdir=$2" /etc &&
		exec "$3" "$4" "$4" "$4"' sh "$tmp/etc-up" "$tmp/etc-work" "$gen" "$tmp/$name.gen" ||
		fail "$name: skp-generator failed"
	cp -a "$tmp/$name.gen/." "$root/etc/systemd/system/"
	out=$(systemd-analyze verify --root="$root" --man=no \
		"$root/lib/systemd/system/multi-user.target" 2>&1)
}

no_cycle() { # name
	if grep -q 'ordering cycle' <<< "$out"; then
		fail "$1: ordering cycle:
$out"
	fi
	echo "ok: $1: no ordering cycle"
}

dropin() { cat "$root/etc/systemd/system/skpd.service.d/50-skp-mounts.conf" 2>/dev/null; }

skp_mounts='/dev/mapper/data /srv/data ext4 _netdev 0 2
/dev/mapper/logs /srv/logs ext4 _netdev,nofail 0 2'

layout local "/dev/vda1 / ext4 defaults 0 1
/dev/vda2 /var ext4 defaults 0 2
$skp_mounts"
no_cycle local
# skpd comes before the mounts of its mappings (and is stopped after them).
d=$(dropin)
for u in 'blockdev@dev-mapper-data.target' 'blockdev@dev-mapper-logs.target'; do
	grep -qx "Before=$u" <<< "$d" && grep -qx "Wants=$u" <<< "$d" ||
		fail "local: skpd.service is not ordered before $u: $d"
done

layout nfs-root "srv:/export/root / nfs defaults,_netdev 0 0
$skp_mounts"
no_cycle nfs-root

# A /var on the network (which skpd, with StateDirectory=, comes after) is mounted before skpd.
layout nfs-var "/dev/vda1 / ext4 defaults 0 1
srv:/export/var /var nfs defaults,_netdev 0 0
$skp_mounts"
no_cycle nfs-var

layout iscsi-var "/dev/vda1 / ext4 defaults 0 1
UUID=8d2e7c1a-4b3f-4e0d-9c5b-6a7f8e9d0c1b /var ext4 defaults,_netdev 0 2
$skp_mounts"
no_cycle iscsi-var

# A mapping mounted without _netdev (skpd warns at start): left out of the order, which
# would be a cycle with local-fs.target; the other mapping keeps its order.
layout local-mount "/dev/vda1 / ext4 defaults 0 1
/dev/mapper/data /srv/data ext4 defaults 0 2
/dev/mapper/logs /srv/logs ext4 _netdev,nofail 0 2"
no_cycle local-mount
d=$(dropin)
! grep -q 'dev-mapper-data' <<< "$d" || fail "local-mount: data is ordered, which is a cycle: $d"
grep -qx 'Before=blockdev@dev-mapper-logs.target' <<< "$d" || fail "local-mount: logs lost its order: $d"

# The check can fail: the same layout with data's order forced is a cycle.
printf 'Wants=blockdev@dev-mapper-data.target\nBefore=blockdev@dev-mapper-data.target\n' >> "$root/etc/systemd/system/skpd.service.d/50-skp-mounts.conf"
out=$(systemd-analyze verify --root="$root" --man=no "$root/lib/systemd/system/multi-user.target" 2>&1)
grep -q 'ordering cycle' <<< "$out" || fail "a forced cycle went unseen: $out"
echo "ok: a forced cycle is seen"
