# Helpers for the DNS system tests (tests/system/test-dns-*.sh); source
# after lib.sh. Only functions.

# q GROUP SERVER NAME [TYPE] [DIG OPTIONS...]: the answer data, one per
# line (dig +short), asked from inside GROUP's netns.
q() {
	local group=$1 server=$2 name=$3 type=${4:-A}
	shift 3
	[ $# -gt 0 ] && shift
	in_ns "$group" dig +time=2 +tries=1 +short "@$server" "$name" "$type" "$@"
}

# qstatus GROUP SERVER NAME [TYPE] [DIG OPTIONS...]: the rcode (NOERROR,
# NXDOMAIN, ...).
qstatus() {
	local group=$1 server=$2 name=$3 type=${4:-A}
	shift 3
	[ $# -gt 0 ] && shift
	in_ns "$group" dig +time=2 +tries=1 "@$server" "$name" "$type" "$@" |
		sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
}

# wait_answer GROUP SERVER NAME TYPE EXPECTED: polls (up to ~10 s) until
# the answer is EXPECTED (e.g. for dnsd to get netd's snapshot).
wait_answer() {
	for _ in $(seq 100); do
		[ "$(q "$1" "$2" "$3" "$4" 2>/dev/null)" == "$5" ] && return 0
		sleep 0.1
	done
	fail "$3 $4 from $1 did not become '$5' (is '$(q "$1" "$2" "$3" "$4" 2>&1)')"
}

# dnsd_stat PATH: one member of `podwire stats dns --json` (python path
# such as ["cache"]["hits"]).
dnsd_stat() {
	pw stats dns --json | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"
}
