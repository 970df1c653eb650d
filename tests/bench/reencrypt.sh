# vm-args: --kms 1 --disk 1200M --disk 1200M --mem 2048
#!/bin/bash
# Deep rekey (skpd + dm-skp) against cryptsetup's online reencrypt (LUKS2, --resilience
# checksum, --active-name) of a device of the same size, idle and under fio load, in one
# VM run.  Prints MiB/s, the ratio, and fio's throughput during each rekey as a share of
# its idle throughput.  SKP_BENCH_MB sets the size (default 1024).
# The limit of a rekey, measured in the same run: one pass that reads, decrypts, encrypts
# and writes each byte, one step after the other, each at its own rate here (the disk in
# 4 MiB requests, the kernel's xts(aes) through AF_ALG on every vCPU).  Also printed: how
# the CPU time was spent during each run.
. tests/lib/common.sh
. tests/system/lib/skp.sh
. tests/bench/lib-kernel.sh
MB=${SKP_BENCH_MB:-1024}
SECT=$(((MB + 16) * 2048))
SPARE=$((MB + 64))	# MiB: past both mappings, on disks of MB + 176 MiB
default_conf
start_skpd "$W/skpd.conf" "$W/skpd.log"
# The limit's parts, on the spare end of the first disk (written once first: the
# image file's first write to a block costs more) and on every vCPU.
fio_mbs /dev/vda write 4M 1 600 96 --offset="${SPARE}M" --time_based=0 > /dev/null
lim_w=$(fio_mbs /dev/vda write 4M 1 5 96 --offset="${SPARE}M" --sync=1)
lim_r=$(fio_mbs /dev/vda read 4M 1 5 96 --offset="${SPARE}M")
xts_setup
lim_d=$(xts_speed dec "$(nproc)" 5)
lim_e=$(xts_speed enc "$(nproc)" 5)
xts_restore
# MB/s to MiB/s
limit=$(awk -v r="$lim_r" -v d="$lim_d" -v e="$lim_e" -v w="$lim_w" \
	'BEGIN { printf "%.1f", 1e6 / 1048576 / (1 / r + 1 / d + 1 / e + 1 / w) }')
fresh /dev/vda /dev/vdb
dmsetup create --noudevsync benchA --table "0 $SECT linear /dev/vda 0"
dmsetup create --noudevsync benchB --table "0 $SECT linear /dev/vdb 0"
dmsetup mknodes
MAPPINGS+=(bskp luksb benchA benchB)
skpctl format /dev/mapper/benchA "${C[@]}" > /dev/null
skpctl open /dev/mapper/benchA bskp "${C[@]}" > /dev/null
head -c 64 /dev/urandom > "$W/pass"
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --sector-size 4096 \
	--key-file "$W/pass" /dev/mapper/benchB
cryptsetup open --key-file "$W/pass" /dev/mapper/benchB luksb
dmsetup mknodes
# Same content on both: random, written once.
dd if=/dev/urandom of=/dev/mapper/bskp bs=4M count=$((MB / 4)) oflag=direct status=none
dd if=/dev/urandom of=/dev/mapper/luksb bs=4M count=$((MB / 4)) oflag=direct status=none

now() { date +%s.%N; }
# fio_bg DEV: 4k random read/write mix until SIGINT; MiB/s in $W/fio-<name>.json
fio_bg() {
	fio --name=load --filename="$1" --rw=randrw --bs=4k --size=256M --direct=1 --ioengine=libaio \
		--iodepth=8 --time_based --runtime=3600 --output-format=json --output="$W/fio-$2.json" &
	FIO=$!
	sleep 2
}
# fio may put notices (e.g. "fio: terminating on signal 2") before the JSON document.
fio_mibs() { /usr/bin/python3 -c 'import json,sys; t=open(sys.argv[1]).read(); j=json.loads(t[t.index("{"):])["jobs"][0]; print("%.1f" % ((j["read"]["bw"]+j["write"]["bw"])/1024))' "$1"; }
fio_idle() {
	fio --name=idle --filename="$1" --rw=randrw --bs=4k --size=256M --direct=1 --ioengine=libaio \
		--iodepth=8 --time_based --runtime=15 --output-format=json --output="$W/fio-$2.json"
	fio_mibs "$W/fio-$2.json"
}
skp_rekey() {
	local t0 t1
	t0=$(now)
	skpctl rekey bskp --deep --chunk 4M "${C[@]}" > /dev/null
	skpctl rekey bskp --status --wait "${C[@]}" > /dev/null
	t1=$(now)
	echo "$t0 $t1" | awk -v mb="$MB" '{printf "%.1f", mb / ($2 - $1)}'
}
luks_rekey() {
	local t0 t1
	t0=$(now)
	cryptsetup reencrypt -q --resilience checksum --active-name luksb --key-file "$W/pass" > /dev/null
	t1=$(now)
	echo "$t0 $t1" | awk -v mb="$MB" '{printf "%.1f", mb / ($2 - $1)}'
}

declare -A CPU
cpu_mark; idle_skp=$(fio_idle /dev/mapper/bskp skp-idle); CPU[fio-skp]=$(cpu_split)
cpu_mark; idle_luks=$(fio_idle /dev/mapper/luksb luks-idle); CPU[fio-luks]=$(cpu_split)
cpu_mark; r_skp=$(skp_rekey); CPU[skp]=$(cpu_split)
cpu_mark; r_luks=$(luks_rekey); CPU[luks]=$(cpu_split)
fio_bg /dev/mapper/bskp skp-load
cpu_mark; r_skp_load=$(skp_rekey); CPU[skp-load]=$(cpu_split)
kill -INT $FIO; wait $FIO || true
fio_bg /dev/mapper/luksb luks-load
cpu_mark; r_luks_load=$(luks_rekey); CPU[luks-load]=$(cpu_split)
kill -INT $FIO; wait $FIO || true
f_skp=$(fio_mibs "$W/fio-skp-load.json")
f_luks=$(fio_mibs "$W/fio-luks-load.json")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "deep rekey of $MB MiB (TCG VM; chunk 4 MiB; skp keeps 16-byte samples of each 512-byte sector,"
echo "cryptsetup $(cryptsetup --version | awk '{print $2}') LUKS2 --resilience checksum, SHA-256 of each 4 KiB sector)"
printf '%-34s %12s %12s %8s\n' "" "skp" "cryptsetup" "ratio"
printf '%-34s %12s %12s %8s\n' "rekey idle, MiB/s" "$r_skp" "$r_luks" "$(ratio "$r_skp" "$r_luks")"
printf '%-34s %12s %12s %8s\n' "rekey under fio, MiB/s" "$r_skp_load" "$r_luks_load" "$(ratio "$r_skp_load" "$r_luks_load")"
printf '%-34s %12s %12s\n' "fio idle, MiB/s" "$idle_skp" "$idle_luks"
printf '%-34s %12s %12s\n' "fio during rekey, MiB/s" "$f_skp" "$f_luks"
printf '%-34s %12s %12s\n' "fio during rekey, share of idle" "$(ratio "$f_skp" "$idle_skp")" "$(ratio "$f_luks" "$idle_luks")"
echo
echo "limit of a read+decrypt+encrypt+write pass: $limit MiB/s (MB/s: read $lim_r, decrypt $lim_d, encrypt $lim_e, write $lim_w)"
printf '%-34s %12s %12s\n' "rekey idle, share of the limit" "$(ratio "$r_skp" "$limit")" "$(ratio "$r_luks" "$limit")"
echo
echo "CPU time during each run ($(nproc) vCPUs; skp's rekey runs at nice 10 in skpd):"
for k in fio-skp fio-luks skp luks skp-load luks-load; do
	printf '  %-10s %s\n' "$k" "${CPU[$k]}"
done
cryptsetup close luksb
skpctl close bskp "${C[@]}" > /dev/null
