#!/bin/sh
# skp's dracut hook (initqueue/settled): open the skptab entries module-setup.sh put here
# (the root file system) with keys from the KMS, through the script the initramfs-tools
# integration uses too.  dracut's initqueue sources this in each round once udev has
# settled.  The open runs in the background: the interface may still be coming up in
# this same loop (network-legacy's dhclient is an initqueue job), and skpd retries the
# KMS within the entries' bound.  skp-done.sh holds the initqueue until it succeeded.
type emergency_shell > /dev/null 2>&1 || . /lib/dracut-lib.sh

if [ -e /tmp/skp.done ]; then
	:
elif [ ! -e /tmp/skp.started ]; then
	if /usr/lib/skp/initramfs-open pending; then
		: > /tmp/skp.started
		# On stderr: the initqueue's goes to the console (and to the journal under systemd).
		{
			/usr/lib/skp/initramfs-open open >&2
			echo $? > /tmp/skp.rc.new
			mv -f /tmp/skp.rc.new /tmp/skp.rc
		} &
	else
		: > /tmp/skp.done
	fi
elif [ -e /tmp/skp.rc ]; then
	read -r skp_rc < /tmp/skp.rc
	rm -f /tmp/skp.rc /tmp/skp.started
	if [ "$skp_rc" = 0 ]; then
		: > /tmp/skp.done
	else
		# A rescue shell, or with rd.shell=0 what rd.emergency= says (halt by default).
		# Back from the shell, the next round tries again.
		emergency_shell -n skp "skp: cannot unlock the root file system"
	fi
fi
