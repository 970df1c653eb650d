# vm-args: --kms 1 --disk 1200M --disk 1200M --mem 2048
#!/bin/bash
# Deep rekey (skpd + dm-skp) against cryptsetup's online reencrypt (LUKS2, --resilience
# checksum, --active-name) of a device of the same size, idle and under fio load, in one
# VM run.  Prints MiB/s, the ratio, and fio's throughput during each rekey as a share of
# its idle throughput.  SKP_BENCH_MB sets the size (default 1024).
. tests/lib/common.sh
. tests/system/lib/skp.sh
MB=${SKP_BENCH_MB:-1024}
SECT=$(((MB + 16) * 2048))
default_conf
start_skpd "$W/skpd.conf" "$W/skpd.log"
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

idle_skp=$(fio_idle /dev/mapper/bskp skp-idle)
idle_luks=$(fio_idle /dev/mapper/luksb luks-idle)
r_skp=$(skp_rekey)
r_luks=$(luks_rekey)
fio_bg /dev/mapper/bskp skp-load; r_skp_load=$(skp_rekey); kill -INT $FIO; wait $FIO || true
fio_bg /dev/mapper/luksb luks-load; r_luks_load=$(luks_rekey); kill -INT $FIO; wait $FIO || true
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
cryptsetup close luksb
skpctl close bskp "${C[@]}" > /dev/null
