#!/bin/bash
# The root file system on skp (issue 17), in QEMU: a minimal Debian on a disk formatted
# with skp (tests/root/mkroot, cached in build/root), booted with Debian's kernel and an
# initramfs made by mkinitramfs with skp's hook; the KMS (PyKMIP) on the host's loopback,
# reached from the guest only through QEMU's guestfwd (user network, restrict=on).
#  - the KMS down at boot: the initramfs gives up after skp.timeout=, says why on the
#    console and panics (panic=-1: QEMU exits), well before the rig's timeout;
#  - three boots with the KMS up: root from /dev/mapper/root, adopted by the system skpd,
#    a file written in one boot read in the next, a deep rekey of the mounted root, a
#    reboot on the new key, root left open by skpd at each shutdown (guest-boots);
#  - a TPM (swtpm): the client key made in it, key_persistence = tpm, update-initramfs run
#    by the guest (its next boot loads the new initramfs); early boot fetches root's KEK
#    over TLS with the TPM-resident key, then opens root from the sealed KEK set with the
#    KMS down (guest-tpm).
# --dracut: the same root with dracut instead of initramfs-tools (mkroot --dracut, skp's
# module 90skp): the KMS down (dracut's emergency action, rd.shell=0 rd.emergency=reboot:
# QEMU exits), one boot with the KMS up (guest-dracut), and the TPM part (dracut -f for
# update-initramfs); no deep rekey.
# Every run fails on a WARN/BUG/Oops in the guest's kernel log (tests/vm/run).  A part
# that passes prints a TAP line "ok N - ..." (tests/check counts them); one that fails
# stops the script with FAIL and a non-zero status.
# SKP_ROOT_PARTS=13 (say) runs only those parts, for work on one of them.
. tests/lib/common.sh
repo=$PWD
. tests/vm/kver.sh
dracut=
[ "${1:-}" = --dracut ] && dracut=--dracut
kver=${SKP_KVER:-$(skp_default_kver)}
deb=$(compgen -G "$repo/build/deb/skp_*.deb" | head -n 1) || fail "no skp package: make deb"
img=$(tests/root/mkroot $dracut "$kver" "$deb") || fail "could not make the root image"
w=$(mktemp -d "${TMPDIR:-/tmp}/skp-root.XXXXXX")
cleanup() {
	[ -f "$w/kms.env" ] && tests/kms/stop "$w/state/kms" > /dev/null 2>&1
	[ -f "$w/tpm/kms.env" ] && tests/kms/stop "$w/tpm/state/kms" > /dev/null 2>&1
	stop_swtpms
	rm -rf "$w"
}
trap cleanup EXIT
# The runs change the disk and the KMS (deep rekey): a copy of each.
cp --sparse=always "$img/disk.img" "$w/disk.img"
cp -a "$img/state" "$w/state"
port=$((20000 + RANDOM % 20000))
vm=(tests/vm/run --smp 2 --mem 1024 --root-image "$w/disk.img" --initrd "$img/initrd" --kms-host "$port")
parts=${SKP_ROOT_PARTS:-123}
# guest_run OUT WHAT VM-ARGS... -- SCRIPT: boots "${vm[@]}" --quiet VM-ARGS; prints the
# guest's stdout (kept in OUT.out) and fails, with the console (OUT.err), unless vm/run
# says every boot passed.
guest_run() {
	local out=$1 what=$2 rc=0
	shift 2
	"${vm[@]}" --quiet "$@" > "$out.out" 2> "$out.err" || rc=$?
	cat "$out.out"
	[ "$rc" = 0 ] || { cat "$out.err" >&2; fail "$what failed (vm/run $rc)"; }
}

# 1. No KMS listening: bounded, a clear message, no hang.  dracut's emergency shell is
# replaced by a reboot, which ends QEMU (-no-reboot) as initramfs-tools' panic does.
if [[ $parts == *1* ]]; then
	t0=$SECONDS
	rc=0
	"${vm[@]}" --timeout 300 --append "root=/dev/mapper/root skp.timeout=20${dracut:+ rd.shell=0 rd.emergency=reboot}" \
		-- tests/root/guest-boots \
		> "$w/down.out" 2> "$w/down.console" || rc=$?
	took=$((SECONDS - t0))
	assert_eq 125 "$rc" "the boot without a KMS must stop in the initramfs (vm/run 125), not $rc"
	grep -q 'skp: could not open root within 20s' "$w/down.console" ||
		{ tail -n 40 "$w/down.console" >&2; fail "no clear message on the console"; }
	grep -q 'skp: cannot unlock the root file system' "$w/down.console" || fail "no panic message"
	grep -q 'root-test' "$w/down.out" && fail "the guest went past the initramfs without its root"
	# The network is up before the open (dracut: ip= is configured in the same initqueue the
	# open runs from): the failure is the KMS's, not the route's.
	[ -z "$dracut" ] || ! grep -q 'Network is unreachable' "$w/down.console" ||
		fail "the initramfs tried the KMS before the network was up"
	# skpd's log is a file there, not the journal (dracut runs the initqueue under systemd).
	! grep -q 'skp: .*<[0-7]>' "$w/down.console" || fail "journal priority prefixes in skpd's log on the console"
	echo "ok 1 - KMS down: the initramfs gave up with a message, QEMU exited after ${took}s"
	grep 'skp:' "$w/down.console" | sed 's/^/  console: /' | head -n 12
fi

# 2. The KMS up: three boots (dracut: one).
if [[ $parts == *2* ]]; then
	tests/kms/start --pki "$w/state/pki" --dir "$w/state/kms" --port "$port" 1 > "$w/kms.env" ||
		fail "the KMS did not start"
	if [ -n "$dracut" ]; then
		guest_run "$w/up" "the dracut boot with the KMS" --timeout 900 --append "root=/dev/mapper/root" \
			-- tests/root/guest-dracut
		grep -q '^root-test: dracut boot 1: root on /dev/mapper/root, opened by dracut' "$w/up.out" ||
			fail "the dracut boot did not report root opened by its initqueue"
		echo "ok 2 - root on skp with dracut: opened by skp's dracut module, adopted by the system skpd"
	else
		guest_run "$w/up" "the boots with the KMS" --timeout 1500 --append "root=/dev/mapper/root" \
			-- tests/root/guest-boots
		grep -q '^root-test: boot 3: read .written in boot 1' "$w/up.out" || fail "boot 3 did not read boot 1's file"
		w1=$(sed -n "s/^root-test: boot 1: wrote '\(.*\)'$/\1/p" "$w/up.out")
		r2=$(sed -n "s/^root-test: boot 2: read '\(.*\)'$/\1/p" "$w/up.out")
		[ -n "$w1" ] && assert_eq "$w1" "$r2" "boot 2 read another file than boot 1 wrote"
		k1=$(sed -n 's/^root-test: boot 1: kek //p' "$w/up.out")
		k3=$(sed -n 's/^root-test: boot 3: kek //p' "$w/up.out")
		[ -n "$k1" ] && [ -n "$k3" ] && [ "$k1" != "$k3" ] ||
			fail "the deep rekey did not change root's KEK ($k1, $k3)"
		echo "ok 2 - root on skp: 3 boots, a deep rekey of the mounted root ($k1 -> $k3)"
	fi
fi

# 3. A TPM.  The client key is made in it on the host (skpctl tpm-key create on the same
# swtpm state the guest's TPM then uses), for the identity that owns root's KEK.
if [[ $parts == *3* ]]; then
	[ ! -f "$w/kms.env" ] || tests/kms/stop "$w/state/kms" > /dev/null 2>&1
	rm -f "$w/kms.env"
	t=$w/tpm
	mkdir -p "$t"
	cp --sparse=always "$img/disk.img" "$t/disk.img"
	cp -a "$img/state" "$t/state"
	pki=$t/state/pki
	start_swtpm "$t/tpm"
	subj=$(openssl x509 -in "$pki/client-a.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
	build/bin/skpctl tpm-key create "$t/host.tss2" --subject "$subj" --csr "$t/host.csr" \
		--tpm-tcti "swtpm:path=$t/tpm/sock" > /dev/null || fail "tpm-key create failed"
	stop_swtpms
	openssl x509 -req -in "$t/host.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
		-out "$t/host-tpm.pem" -copy_extensions copy 2> /dev/null || fail "cannot sign the TPM key's request"
	{
		echo "TPM_KEY_B64='$(base64 -w0 "$t/host.tss2")'"
		echo "TPM_CERT_B64='$(base64 -w0 "$t/host-tpm.pem")'"
		cat tests/root/guest-tpm
	} > "$t/guest-tpm"
	port=$((20000 + RANDOM % 20000))
	vm=(tests/vm/run --smp 2 --mem 1024 --root-image "$t/disk.img" --kms-host "$port" --tpm "$t/tpm")
	tests/kms/start --pki "$pki" --dir "$t/state/kms" --port "$port" 1 > "$t/kms.env" || fail "the KMS did not start"
	# $t/initrd is the guest's /boot: update-initramfs in the guest replaces it.
	cp "$img/initrd" "$t/initrd"
	# dracut: a failure reboots (QEMU exits) rather than wait in an emergency shell.
	append="root=/dev/mapper/root${dracut:+ rd.shell=0 rd.emergency=reboot}"
	guest_run "$t/up" "the TPM boots with the KMS" --timeout 1500 --initrd "$t/initrd" \
		--append "$append" -- "$t/guest-tpm"
	grep -q '^root-test: tpm boot 2: sealed KEK set in the initramfs' "$t/up.out" || fail "boot 2 did not finish"
	cmp -s "$img/initrd" "$t/initrd" && fail "the guest's new initramfs did not come back"
	tests/kms/stop "$t/state/kms" > /dev/null 2>&1; rm -f "$t/kms.env"
	guest_run "$t/down" "the TPM boot with the KMS down" --timeout 900 --initrd "$t/initrd" \
		--append "$append" -- "$t/guest-tpm"
	grep -q 'KMS down: root opened in early boot from the sealed set' "$t/down.out" || fail "no boot from the sealed set"
	echo "ok 3 - root on skp with a TPM${dracut:+ (dracut)}: the client key in the TPM, root opened from the sealed set with the KMS down"
fi
