#!/bin/bash
# make install DESTDIR PREFIX=/usr installs exactly what the packages skp and skp-dkms hold
# together (the same files, the same text; programs differ by dh_strip, man pages by gzip),
# apart from what only the packaging adds (/usr/share/doc, lintian overrides), and no
# @SBINDIR@ or @SKPLIBDIR@ is left unfilled.
. tests/lib/common.sh
debs=(build/deb/skp_*.deb build/deb/skp-dkms_*.deb)
[ -e "${debs[0]}" ] && [ -e "${debs[1]}" ] || fail "no packages in build/deb (01-deb.sh)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -s --no-print-directory install DESTDIR="$tmp/inst" PREFIX=/usr > "$tmp/log" 2>&1 ||
	{ cat "$tmp/log"; fail "make install failed"; }
for d in "${debs[@]}"; do dpkg-deb -x "$d" "$tmp/deb"; done
rm -rf "$tmp/deb/usr/share/doc" "$tmp/deb/usr/share/lintian"
files() { (cd "$1" && find . ! -type d | sed 's|^\./|/|; s|\(/usr/share/man/.*\)\.gz$|\1|' | sort); }
files "$tmp/inst" > "$tmp/inst.list"
files "$tmp/deb" > "$tmp/deb.list"
diff -u "$tmp/inst.list" "$tmp/deb.list" || fail "make install and the packages differ (-install +packages)"
while read -r f; do
	case $f in
	/usr/sbin/* | /lib/systemd/system-generators/*) ;;
	/usr/share/man/*) zcat "$tmp/deb$f.gz" | cmp -s - "$tmp/inst$f" || fail "$f differs" ;;
	*) cmp -s "$tmp/inst$f" "$tmp/deb$f" || fail "$f differs" ;;
	esac
done < "$tmp/inst.list"
hits=$(grep -rlE '@(SBINDIR|SKPLIBDIR)@' "$tmp/inst" "$tmp/deb" || true)
[ -z "$hits" ] || fail "@SBINDIR@ or @SKPLIBDIR@ left in: $hits"
echo "$(wc -l < "$tmp/inst.list") files, the same in both"
