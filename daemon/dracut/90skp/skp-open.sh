#!/bin/sh
# skp's dracut hook (initqueue/settled): open the skptab entries module-setup.sh put here
# (the root file system) with keys from the KMS, through the script the initramfs-tools
# integration uses too.  dracut's initqueue sources this in each round once udev has
# settled, by when ip= (rd.neednet=1) has brought the network up; one attempt is enough,
# as skpd retries the KMS itself within the entries' timeout.
type emergency_shell > /dev/null 2>&1 || . /lib/dracut-lib.sh

if [ ! -e /tmp/skp.tried ] && /usr/lib/skp/initramfs-open pending; then
	: > /tmp/skp.tried
	# On stderr: the initqueue's goes to the console (and to the journal under systemd).
	if ! /usr/lib/skp/initramfs-open open >&2; then
		# A rescue shell, or with rd.shell=0 what rd.emergency= says (halt by default).
		emergency_shell -n skp "skp: cannot unlock the root file system"
		# Back from the shell: the next round tries again.
		rm -f /tmp/skp.tried
	fi
fi
