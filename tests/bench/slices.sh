# shellcheck shell=bash
# Many small skp devices for the benches at fleet scale (boot-unlock, fleet-storm; sourced,
# in the VM): dm-linear slices of /dev/vda, each formatted with its own KEK.
#   bench_pki W              the KMS client credentials (identity a) in W/pki, key 0600
#   wait_sock SOCKET         skpd answers on SOCKET (60 s at most)
#   make_slices N MIB        /dev/mapper/s0..s(N-1), MIB each
#   format_slices N PAR W    formats them through the PAR skpd listening on W/fmtK.sock,
#                            in parallel; "formatted ..." lines in W/fmtK.out
bench_pki() {
	mkdir -p "$1/pki"
	cp "$SKP_KMS_CA" "$1/pki/ca.pem"; cp "$SKP_KMS_CERT" "$1/pki/a.pem"; cp "$SKP_KMS_KEY" "$1/pki/a.key"
	chmod 600 "$1/pki/a.key"
}
wait_sock() { for _ in $(seq 1 600); do skpctl status --socket "$1" > /dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
# --concise creates many devices per dmsetup run (a process start costs ~1 s under TCG).
make_slices() {
	local n=$1 mib=$2 c i spec
	for c in $(seq 0 100 $((n - 1))); do
		spec=""
		for i in $(seq "$c" $((c + 99 < n - 1 ? c + 99 : n - 1))); do
			spec+="s$i,,,,0 $((mib * 2048)) linear /dev/vda $((i * mib * 2048));"
		done
		dmsetup create --noudevsync --concise "${spec%;}"
	done
	dmsetup mknodes
}
format_slices() {
	local n=$1 par=$2 w=$3 k i fpids=()
	for k in $(seq 0 $((par - 1))); do
		(
			for i in $(seq "$k" "$par" $((n - 1))); do
				skpctl format "/dev/mapper/s$i" --socket "$w/fmt$k.sock"
			done > "$w/fmt$k.out"
		) &
		fpids[k]=$!
	done
	for k in $(seq 0 $((par - 1))); do wait "${fpids[k]}"; done
}
