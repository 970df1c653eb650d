#!/bin/bash
# Every man page in docs/man/ formats without a groff warning.
. tests/lib/common.sh
for m in docs/man/*.[1-8]; do
	out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$m" 2>&1)
	[ -z "$out" ] || fail "$m: $out"
	echo "ok: $m"
done
