# dkms builds the module from the project's dkms.conf in a throwaway DKMS tree, for the
# installed Debian kernel, and the result carries that kernel's vermagic.
source tests/lib/common.sh
. tests/vm/kver.sh
kver=$(skp_default_kver)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ver=$(dkms/version)
mkdir -p "$tmp/tree" "$tmp/src"
dkms/stage "$tmp/src/skp-$ver"
dkms --dkmstree "$tmp/tree" --sourcetree "$tmp/src" add -m skp -v "$ver" >/dev/null
dkms --dkmstree "$tmp/tree" --sourcetree "$tmp/src" build -m skp -v "$ver" -k "$kver" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "dkms build failed"; }
ko=$(find "$tmp/tree/skp/$ver/$kver" -name 'dm-skp.ko*' | head -1)
[ -n "$ko" ] || fail "dkms produced no module"
case "$ko" in *.xz) xz -dk "$ko"; ko=${ko%.xz} ;; *.zst) zstd -qd "$ko"; ko=${ko%.zst} ;; esac
want=$(modinfo -F vermagic "$(find "/lib/modules/$kver/kernel/drivers/md" -name 'dm-crypt.ko*' | head -1)")
got=$(modinfo -F vermagic "$ko")
assert_eq "$got" "$want" "vermagic of the DKMS-built module"
