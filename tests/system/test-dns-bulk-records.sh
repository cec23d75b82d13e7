#!/usr/bin/env bash
# Bulk records (issue 12, item 10): `podwire dns record add VNET --file F`
# adds 20,000 records in one call, in seconds; dnsd gets all 20,000 events
# without losing one (no sequence gap, no reconnect) and answers them; a
# file with one bad record (a bad address, a CNAME beside an A, a CNAME
# loop, a zone that does not exist) fails naming its line and adds nothing;
# a file too big for one call is checked whole before any of it is added;
# the records survive a netd restart; removing one record of a bulk file
# removes it alone, for good.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns-lib.sh"
. "$(dirname "$0")/netd-lib.sh"

make_host_ns
start_netd
start_dnsd
pw vnet create prod --subnet 10.1.0.0/16 >/dev/null
web=$(make_group_ns web)
pw group attach web --netns "$web" --vnet prod >/dev/null
GW=10.1.0.1
wait_answer web $GW web.prod.internal A 10.1.0.2
reconnects=$(dnsd_stat '["state"]["netd_reconnects"]')

python3 - "$T/records.txt" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("# 20,000 A records, a TXT, an MX and a CNAME\n\n")
    for i in range(20000):
        f.write("r%d A 10.1.%d.%d\n" % (i, 100 + i // 250, 1 + i % 250))
    f.write("txt 60 TXT \"hello bulk world\"\n")
    f.write("@ MX 10 mail.prod.internal.\n")
    f.write("alias CNAME r7.prod.internal.\n")
EOF

log "20,000 records from one file"
start=$(date +%s%N)
out=$(pw dns record add prod --file "$T/records.txt")
ms=$((($(date +%s%N) - start) / 1000000))
log "bulk add: $out in $ms ms"
assert_contains "$out" "added 20003" "bulk add result"
[ "$ms" -lt 20000 ] || fail "20,000 records took $ms ms"
assert_eq "$(pw dns record ls prod --json | jget 'len(d)')" 20003 "records listed"
wait_answer web $GW r19999.prod.internal A 10.1.179.250
assert_eq "$(q web $GW r0.prod.internal)" 10.1.100.1 "first record"
assert_eq "$(q web $GW txt.prod.internal TXT)" '"hello bulk world"' "TXT (quoted in the file)"
assert_eq "$(q web $GW alias.prod.internal)" "r7.prod.internal.
10.1.100.8" "CNAME"
stat_is() { [ "$(dnsd_stat "$1")" == "$2" ]; }
wait_until stat_is '["state"]["records"]' 20003
assert_eq "$(dnsd_stat '["state"]["netd_reconnects"]')" "$reconnects" \
	"dnsd took the 20,003 events without a gap or reconnect"

log "one bad record: the call fails naming its line, nothing is added"
bad_file() { # NAME LINE...: a file of 3000 good records with the lines inserted at 1500
	python3 - "$T/$1" "${@:2}" <<'EOF'
import sys
lines = ["n%d A 10.1.200.%d" % (i, 1 + i % 250) for i in range(3000)]
lines[1500:1500] = sys.argv[2:]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
EOF
}
bad_file bad1 "oops A 10.1.0.999"
err=$(must_fail pw dns record add prod --file "$T/bad1")
assert_contains "$err" "bad1:1501" "the line is named"
assert_contains "$err" "oops" "the record is named"
assert_contains "$err" "not an IPv4 address" "why"
bad_file bad2 "dup CNAME r1.prod.internal." "dup A 10.1.0.50"
err=$(must_fail pw dns record add prod --file "$T/bad2")
assert_contains "$err" "CNAME must be alone" "CNAME beside an A in the same file"
bad_file bad3 "loop1 CNAME loop2.prod.internal." "loop2 CNAME loop1.prod.internal."
err=$(must_fail pw dns record add prod --file "$T/bad3")
assert_contains "$err" "makes a loop" "CNAME loop within the file"
bad_file bad4 "r5 CNAME r6.prod.internal."
err=$(must_fail pw dns record add prod --file "$T/bad4")
assert_contains "$err" "bad4:1501" "CNAME on a name that has an A"
bad_file bad5 "broken-line"
err=$(must_fail pw dns record add prod --file "$T/bad5")
assert_contains "$err" "bad5:1501: expected NAME [TTL] TYPE VALUE" "syntax"
# Over one request's 1 MiB: several calls, all checked before any adds.
python3 -c '
for i in range(25000):
    print("big%d A 10.1.%d.%d" % (i, 150 + i // 250, 1 + i % 250) if i != 24000 else "bad A 1.2.3")' \
	>"$T/bad6"
err=$(must_fail pw dns record add prod --file "$T/bad6")
assert_contains "$err" "bad6:24001" "a bad line in the second call of a file"
assert_eq "$(qstatus web $GW big1.prod.internal)" NXDOMAIN "the first call of that file added nothing"
assert_eq "$(pw dns record ls prod --json | jget 'len(d)')" 20003 "nothing of the bad files added"
assert_eq "$(qstatus web $GW n1.prod.internal)" NXDOMAIN "a good record of a bad file"
err=$(must_fail pw dns record add --zone nowhere.example --file "$T/records.txt")
assert_contains "$err" "zone 'nowhere.example' not found" "unknown zone"

log "the same file again changes nothing; a new TTL updates"
assert_contains "$(pw dns record add prod --file "$T/records.txt")" "added 0, updated 0, unchanged 20003" "idempotent"
printf 'r1 3600 A 10.1.100.2\nr2 A 10.1.100.3\n' >"$T/ttl.txt"
assert_contains "$(pw dns record add prod --file "$T/ttl.txt")" "added 0, updated 1, unchanged 1" "TTL update"
ttl_is() { [ "$(in_ns web dig +time=2 +tries=1 +noall +answer @$GW "$1" A | awk '{print $2}')" == "$2" ]; }
wait_until ttl_is r1.prod.internal 3600

log "a zone's records from a file"
pw dns zone create corp.example --vnet prod >/dev/null
printf 'db A 10.9.0.1\napi CNAME db.corp.example.\n' | pw dns record add --zone corp.example --file - >/dev/null
wait_answer web $GW api.corp.example A "db.corp.example.
10.9.0.1"

log "restart: the records are kept; one removed stays removed"
pw dns record rm prod r7 A >/dev/null
wait_answer web $GW r7.prod.internal A ""
stop_netd
start_netd
assert_eq "$(pw dns record ls prod --json | jget 'len(d)')" 20002 "records after restart"
assert_eq "$(pw dns record ls prod --json | jget '[r["ttl"] for r in d if r["name"] == "r1"]')" "[3600]" \
	"TTL update kept"
wait_answer web $GW r19998.prod.internal A 10.1.179.249
assert_eq "$(qstatus web $GW r7.prod.internal)" NXDOMAIN "removed record after restart"
assert_eq "$(q web $GW db.corp.example)" 10.9.0.1 "zone record after restart"

log "deleting the zone removes its file's records"
pw dns zone delete corp.example >/dev/null
stop_netd
start_netd
assert_eq "$(pw dns record ls --json | jget 'len(d)')" 20002 "only the VNet's records remain"
log "ok"
