# shellcheck shell=bash
# Helpers for skpd/skpctl system tests (sourced after tests/lib/common.sh).
# Each test gets a private work dir, copies of the KMS client credentials with safe
# modes, and skpd instances it starts itself; skp_cleanup (an EXIT trap) stops them
# and closes their mappings whatever happened.
[ -n "${SKP_KMS_SERVERS:-}" ] || fail "no KMS: run under tests/vm/run --kms N"
W=$(mktemp -d /tmp/skp-sys.XXXXXX)
mkdir -p "$W/pki"
cp "$SKP_KMS_CA" "$W/pki/ca.pem"
cp "$SKP_KMS_CERT" "$W/pki/a.pem"; cp "$SKP_KMS_KEY" "$W/pki/a.key"
cp "$SKP_KMS_CERT_B" "$W/pki/b.pem"; cp "$SKP_KMS_KEY_B" "$W/pki/b.key"
chmod 600 "$W"/pki/*.key
SKPD_PIDS=()
MAPPINGS=()

skp_cleanup() {
	local m p
	for m in "${MAPPINGS[@]}"; do
		umount "/dev/mapper/$m" 2>/dev/null || true
		dmsetup remove --noudevsync "$m" 2>/dev/null || true
	done
	# CONT: a test-build skpd stopped at an SKP_TEST_STOP_AT point would hold the TERM forever.
	for p in "${SKPD_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		kill -CONT "$p" 2>/dev/null || true
	done
	for p in "${SKPD_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	stop_swtpms
}
trap skp_cleanup EXIT

# provider_section NAME IDENTITY(a|b) DEFAULT(true|false) SERVER...
provider_section() {
	local name=$1 id=$2 def=$3 s
	shift 3
	echo "[provider \"$name\"]"
	for s in "$@"; do echo "server = $s"; done
	echo "ca = $W/pki/ca.pem"
	echo "cert = $W/pki/$id.pem"
	echo "key = $W/pki/$id.key"
	echo "default = $def"
	echo "timeout = 5"
}

# Every test's skpd listens on $S; skpctl reaches it with "${C[@]}".
S=$W/skpd.sock
# shellcheck disable=SC2034
C=(--socket "$S")

# write_conf FILE SOCKET [extra skpd lines] ; then append provider sections to FILE.
write_conf() {
	cat > "$1" <<CONF
[skpd]
socket = $2
skptab = ${SKPTAB:-$W/skptab-none}
health_interval = ${HEALTH_INTERVAL:-60}
remediation_interval = ${REMEDIATION_INTERVAL:-300}
CONF
}

# default_conf: $W/skpd.conf with one provider, corp-kms (default), on every KMS node.
default_conf() {
	write_conf "$W/skpd.conf" "$S"
	# shellcheck disable=SC2086
	provider_section corp-kms a true $SKP_KMS_SERVERS >> "$W/skpd.conf"
}

# The skpd that start_skpd runs: the production build (build/bin, first on PATH).  A test
# that needs the test switches (SKP_TEST_*, docs/deep-rekey.md "Testing") sets
# SKPD=$SKPD_TEST, the test build; nothing else runs it.
SKPD=skpd
SKPD_TEST=${SKP_REPO:-$PWD}/build/test-bin/skpd

# start_skpd CONF LOG: starts $SKPD, waits for its socket to answer.
start_skpd() {
	local conf=$1 log=$2 sock i v
	sock=$(sed -n 's/^socket = //p' "$conf")
	# A switch given to the production build would be ignored: say so rather than time out.
	for v in $(compgen -v SKP_TEST_); do
		[ -z "${!v}" ] || [ "$SKPD" = "$SKPD_TEST" ] ||
			fail "$v is set but SKPD is not the test build: set SKPD=\$SKPD_TEST"
	done
	[ "$SKPD" != "$SKPD_TEST" ] || [ -x "$SKPD_TEST" ] || fail "$SKPD_TEST is not built (make all)"
	# glibc fills freed memory with garbage: a use after free crashes here rather than
	# pass on memory that still looks right (a health worker's TLS context did, 76).
	MALLOC_PERTURB_=165 "$SKPD" --config "$conf" > "$log" 2>&1 &
	SKPD_PIDS+=($!)
	SKPD_PID=$!
	for i in $(seq 1 300); do
		[ -S "$sock" ] && skpctl status --socket "$sock" > /dev/null 2>&1 && return 0
		[ "$(skpctl status --socket "$sock" > /dev/null 2>&1; echo $?)" = 3 ] && return 0
		kill -0 "$SKPD_PID" 2>/dev/null || { cat "$log" >&2; fail "skpd exited at start"; }
		sleep 0.1
	done
	cat "$log" >&2
	fail "skpd did not come up on $sock"
}

# stop_skpd PID: SIGTERM, as systemd stops it; skpd must be gone within 20 s (its own
# bound for a health check in flight is 3 s) and must not die of a signal on the way.
stop_skpd() { # pid
	local i rc=0
	kill "$1" 2>/dev/null || return 0
	for i in $(seq 1 200); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1"
		fail "skpd (pid $1) did not exit within 20 s of SIGTERM: killed"
	fi
	wait "$1" 2>/dev/null || rc=$?
	[ "$rc" -lt 128 ] || [ "$rc" = 143 ] || fail "skpd (pid $1) died of signal $((rc - 128)) when stopped"
}

# sha256 of N MiB at the start of a device
sum_mib() { dd if="$1" bs=1M count="$2" iflag=direct status=none | sha256sum | cut -d' ' -f1; }

# fresh DEV...: erase skp headers left by an earlier test
fresh() { local d; for d in "$@"; do dd if=/dev/zero of="$d" bs=64K count=2 conv=fsync status=none; done; }

# wait_status CODE SECONDS [TEXT...]: poll skpctl status (its output in $W/status.out)
# until it exits CODE with every TEXT in its output; fail after SECONDS.
wait_status() {
	local code=$1 secs=$2 rc ok t
	shift 2
	for _ in $(seq 1 "$secs"); do
		rc=0; skpctl status "${C[@]}" > "$W/status.out" 2>&1 || rc=$?
		ok=; [ "$rc" != "$code" ] || ok=1
		for t in "$@"; do grep -qF -- "$t" "$W/status.out" || ok=; done
		[ -z "$ok" ] || return 0
		sleep 1
	done
	cat "$W/status.out"
	fail "status exit $rc, wanted $code${*:+ with: $*}"
}

# restart_node INDEX...: start KMS nodes INDEX... again (stopped with tests/kms/stop DIR
# INDEX), same configuration and database, and wait until each accepts connections.
# Together, not one after the other: each takes ~13 s to start under TCG.
restart_node() { # index...
	local i port
	for i in "$@"; do
		setsid /usr/bin/pykmip-server -f "$SKP_KMS_DIR/server$i.conf" -l "$SKP_KMS_DIR/server$i.log" \
			> "$SKP_KMS_DIR/server$i.out" 2>&1 < /dev/null &
		echo $! > "$SKP_KMS_DIR/server$i.pid"
	done
	for i in "$@"; do
		port=$(sed -n 's/^port=//p' "$SKP_KMS_DIR/server$i.conf")
		for _ in $(seq 1 600); do
			(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue 2
			sleep 0.2
		done
		fail "KMS node $i did not come back"
	done
}
