# Shared by the kernel benchmarks (kernel.sh, kernel-ab), sourced in the guest.

# bench_key NAME: a random 64-byte key as logon key NAME in the session keyring; prints
# it in hex (for the dm-crypt reference's table).
bench_key() {
	local hex
	hex=$(head -c 64 /dev/urandom | od -An -tx1 -v | tr -d ' \n')
	printf '%s' "$hex" | xxd -r -p | keyctl padd logon "$1" @s > /dev/null
	echo "$hex"
}

# fio_mbs DEV RW BS QD SECONDS MIB: fio direct libaio on DEV, prints MB/s.
fio_mbs() {
	# terse v3: field 7 = read KiB/s, field 48 = write KiB/s
	fio --name=b --filename="$1" --rw="$2" --bs="$3" --iodepth="$4" --ioengine=libaio \
		--direct=1 --size="$6M" --runtime="$5" --time_based --group_reporting \
		--minimal --terse-version=3 |
		awk -F';' -v rw="$2" '{printf "%.1f", ((rw ~ /read/) ? $7 : $48) * 1024 / 1e6}'
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
