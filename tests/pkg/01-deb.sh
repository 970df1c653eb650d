#!/bin/bash
# make deb builds the two packages from the tree, into build/deb/ (the later tests read them).
. tests/lib/common.sh
make -s --no-print-directory deb > /dev/null
v=$(dkms/version)
for p in "skp_${v}-"*_amd64.deb "skp-dkms_${v}-"*_all.deb; do
	compgen -G "build/deb/$p" > /dev/null || fail "make deb made no $p: $(ls build/deb)"
done
echo "build/deb: $(cd build/deb && ls *.deb | paste -sd ' ' -)"
