# Shared by the benchmarks that run in the guest (kernel.sh, kernel-ab, reencrypt.sh).

# bench_key NAME: a random 64-byte key as logon key NAME in the session keyring; prints
# it in hex (for the dm-crypt reference's table).
bench_key() {
	local hex
	hex=$(head -c 64 /dev/urandom | od -An -tx1 -v | tr -d ' \n')
	printf '%s' "$hex" | xxd -r -p | keyctl padd logon "$1" @s > /dev/null
	echo "$hex"
}

# fio_mbs DEV RW BS QD SECONDS MIB [FIO-OPTION...]: fio direct libaio on DEV, prints MB/s.
fio_mbs() {
	local dev=$1 rw=$2 bs=$3 qd=$4 secs=$5 mib=$6
	shift 6
	# terse v3: field 7 = read KiB/s, field 48 = write KiB/s
	fio --name=b --filename="$dev" --rw="$rw" --bs="$bs" --iodepth="$qd" --ioengine=libaio \
		--direct=1 --size="${mib}M" --runtime="$secs" --time_based --group_reporting \
		--minimal --terse-version=3 "$@" |
		awk -F';' -v rw="$rw" '{printf "%.1f", ((rw ~ /read/) ? $7 : $48) * 1024 / 1e6}'
}

# The middle value of awk array m[1..n] (sorts it; mawk has no asort).
AWK_MEDIAN='function median(m, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && m[j - 1] > m[j]; j--) { t = m[j]; m[j] = m[j - 1]; m[j - 1] = t }
	return m[int((n + 1) / 2)]
}'

# median "v1 v2 ..": the median of a list of numbers (one per round)
median() {
	awk -v a="$1" "$AWK_MEDIAN"'BEGIN { n = split(a, m, " "); print median(m, n) }'
}

# median_ratio "a1 a2 .." "b1 b2 ..": the median of a_i / b_i (same round), two decimals
median_ratio() {
	awk -v a="$1" -v b="$2" "$AWK_MEDIAN"'BEGIN {
		n = split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= n; i++) m[i] = y[i] > 0 ? x[i] / y[i] : 0
		printf "%.2f", median(m, n)
	}'
}

# The kernel's own xts(aes) through AF_ALG, the crypto limit of the benchmarks.
# MB/s of one process: request size $1, seconds $2, enc or dec $3.
XTS_PY='
import os, socket, sys, time
bs, secs = int(sys.argv[1]), float(sys.argv[2])
opcode = socket.ALG_OP_ENCRYPT if sys.argv[3] == "enc" else socket.ALG_OP_DECRYPT
alg = socket.socket(socket.AF_ALG, socket.SOCK_SEQPACKET, 0)
alg.bind(("skcipher", "xts(aes)"))
alg.setsockopt(socket.SOL_ALG, socket.ALG_SET_KEY, os.urandom(64))
op, _ = alg.accept()
# A request must fit in the socket buffers (SO_SNDBUFFORCE, SO_RCVBUFFORCE: root), or
# sendmsg waits for a recv that never comes.
op.setsockopt(socket.SOL_SOCKET, 32, 4 * bs)
op.setsockopt(socket.SOL_SOCKET, 33, 4 * bs)
buf, out, iv = os.urandom(bs), memoryview(bytearray(bs)), bytes(16)
n, t0 = 0, time.monotonic()
while time.monotonic() - t0 < secs:
    op.sendmsg_afalg([buf], op=opcode, iv=iv)
    got = 0
    while got < bs:
        got += op.recv_into(out[got:], bs - got)
    n += 1
print("%.1f" % (n * bs / (time.monotonic() - t0) / 1e6))
'
XTS_BS=$((4 << 20))

# xts_setup: what AF_ALG needs for 4 MiB requests, then an untimed warm-up (the first
# use of the cipher after boot measured 25% slow: TCG translates its code).
# xts_restore undoes it.
xts_setup() {
	modprobe algif_skcipher 2>/dev/null || true	# AF_ALG would load it too
	# A 4 MiB request's scatterlists are charged to the socket's option memory (20 KiB).
	OPTMEM=$(cat /proc/sys/net/core/optmem_max)
	echo $((16 << 20)) > /proc/sys/net/core/optmem_max
	xts_speed enc "$(nproc)" 1 > /dev/null
}
xts_restore() {
	[ -z "${OPTMEM:-}" ] || echo "$OPTMEM" > /proc/sys/net/core/optmem_max || true
}

# xts_speed enc|dec PROCESSES SECONDS: the sum of their MB/s.  No wait: awk's end of
# input is the end of the last process (and a wait would also wait for the caller's
# own background jobs, e.g. skpd).
xts_speed() {
	local i
	for ((i = 0; i < $2; i++)); do
		timeout $(($3 + 30)) /usr/bin/python3 -c "$XTS_PY" "$XTS_BS" "$3" "$1" &
	done | awk '{s += $1} END {printf "%.1f", s}'
}

# CPU time since cpu_mark, over all vCPUs (/proc/stat: under TCG, perf in the guest sees
# only the idle loop, so this is the profile there is): cpu_mark; ...; then cpu_split
# prints "user U% nice N% sys S% idle I% iowait W%", cpu_idle the share idle or in
# iowait (two decimals).
cpu_mark() { CPU_MARK=$(awk '/^cpu / {print $2, $3, $4, $5, $6, $7, $8, $9}' /proc/stat); }
cpu_since() { # awk program run with d[2..9], the ticks of /proc/stat's fields since the mark, and t their sum
	awk -v a="$CPU_MARK" '/^cpu / {
		split(a, x, " "); t = 0
		for (i = 2; i <= 9; i++) { d[i] = $i - x[i - 1]; t += d[i] }
		if (t <= 0) t = 1
		'"$1"'
	}' /proc/stat
}
cpu_split() {
	cpu_since 'printf "user %.0f%% nice %.0f%% sys %.0f%% idle %.0f%% iowait %.0f%%\n",
		100 * d[2] / t, 100 * d[3] / t, 100 * (d[4] + d[7] + d[8]) / t, 100 * d[5] / t, 100 * d[6] / t'
}
cpu_idle() { cpu_since 'printf "%.2f", (d[5] + d[6]) / t'; }
