#!/usr/bin/env bash
# podwire-dnsd with the real podwire-netd: groups on one VNet resolve each
# other by short name, FQDN, alias and host name (A and AAAA) and by PTR;
# host.DOMAIN is the gateway; a group on another VNet gets NXDOMAIN for
# them; admin A/CNAME/SRV/TXT/MX records resolve, bad ones are refused; a
# shared zone resolves only from linked VNets; attach and detach show
# within 100 ms; netd restarted while dnsd keeps answering.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns-lib.sh"

make_host_ns
start_netd
start_dnsd

pw vnet create prod --subnet 10.1.0.0/24 --subnet fd00:1::/64 >/dev/null
pw vnet create dev --subnet 10.2.0.0/24 >/dev/null
web=$(make_group_ns web)
db=$(make_group_ns db)
other=$(make_group_ns other)
pw group attach web --netns "$web" --vnet prod --alias www >/dev/null
pw group attach db --netns "$db" --vnet prod --hostname database >/dev/null
pw group attach other --netns "$other" --vnet dev >/dev/null
web_ip=$(pw group show web --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["attachments"][0]["addresses"][0])')
db_ip=$(pw group show db --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["attachments"][0]["addresses"][0])')
db_ip6=$(pw group show db --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["attachments"][0]["addresses"][1])')
GW=10.1.0.1

log "names of one VNet"
wait_answer web $GW db.prod.internal A "$db_ip"
assert_eq "$(q web $GW db)" "$db_ip" "short name"
assert_eq "$(q web $GW database.prod.internal)" "$db_ip" "host name"
assert_eq "$(q db $GW www.prod.internal)" "$web_ip" "alias"
assert_eq "$(q db $GW www)" "$web_ip" "short alias"
assert_eq "$(q web $GW db.prod.internal AAAA)" "$db_ip6" "AAAA"
assert_eq "$(q web $GW -x "$db_ip" PTR)" "database.prod.internal." "PTR"
assert_eq "$(q web $GW host.prod.internal)" "$GW" "host.DOMAIN"
assert_eq "$(q web $GW gateway.prod.internal)" "$GW" "gateway.DOMAIN"
assert_eq "$(q web fd00:1::1 db.prod.internal)" "$db_ip" "over IPv6"
assert_eq "$(qstatus web $GW nothere.prod.internal)" NXDOMAIN "unknown name"
authority=$(in_ns web dig +time=2 +tries=1 @$GW nothere.prod.internal | grep -A1 'AUTHORITY SECTION')
assert_contains "$authority" "SOA" "NXDOMAIN carries the SOA"
assert_eq "$(qstatus web $GW db.prod.internal MX)" NOERROR "NODATA"
assert_eq "$(q web $GW db.prod.internal MX)" "" "NODATA is empty"

log "scoping: another VNet sees none of it, and nothing is forwarded"
assert_eq "$(qstatus other 10.2.0.1 db.prod.internal)" NXDOMAIN "other VNet's FQDN"
assert_eq "$(qstatus other 10.2.0.1 -x "$db_ip" PTR)" NXDOMAIN "other VNet's PTR"
assert_eq "$(q other 10.2.0.1 db)" "" "other VNet's short name"
assert_eq "$(q other 10.2.0.1 other.dev.internal)" 10.2.0.2 "own VNet still works"
# The VNet's listener answers only on its gateway: prod's gateway from dev
# is not reachable at all (isolation), so dev cannot even ask it.

log "admin records"
pw dns record add prod api CNAME web.prod.internal >/dev/null
pw dns record add prod _http._tcp SRV "10 5 8080 web.prod.internal" >/dev/null
pw dns record add prod info TXT "hello podwire" --ttl 60 >/dev/null
pw dns record add prod @ MX "10 mail.prod.internal" >/dev/null
pw dns record add prod mail A 10.1.0.25 >/dev/null
pw dns record add prod 10.1.0.25 PTR mail.prod.internal >/dev/null
wait_answer web $GW mail.prod.internal A 10.1.0.25
assert_eq "$(q web $GW api.prod.internal | tr '\n' ' ')" "web.prod.internal. $web_ip " "CNAME chased"
assert_eq "$(q web $GW _http._tcp.prod.internal SRV)" "10 5 8080 web.prod.internal." "SRV"
assert_eq "$(q web $GW info.prod.internal TXT)" '"hello podwire"' "TXT"
assert_eq "$(q web $GW prod.internal MX)" "10 mail.prod.internal." "MX at the apex"
assert_eq "$(q web $GW -x 10.1.0.25 PTR)" "mail.prod.internal." "admin PTR"
assert_eq "$(qstatus web $GW _tcp.prod.internal)" NOERROR "empty non-terminal is NODATA"
assert_contains "$(pw dns record ls prod)" "_http._tcp" "record ls"
assert_eq "$(pw dns record ls --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 6 "record ls --json"
# Idempotent add.
pw dns record add prod mail A 10.1.0.25 >/dev/null
assert_eq "$(pw dns record ls prod --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 6 "add twice = once"

log "bad records are refused"
err=$(must_fail pw dns record add prod bad A 10.1.0.300)
assert_contains "$err" "not an IPv4 address" "malformed IP"
err=$(must_fail pw dns record add prod bad AAAA 10.1.0.3)
assert_contains "$err" "not an IPv6 address" "A value for AAAA"
pw dns record add prod loop1 CNAME loop2.prod.internal >/dev/null
err=$(must_fail pw dns record add prod loop2 CNAME loop1.prod.internal)
assert_contains "$err" "loop" "CNAME loop"
err=$(must_fail pw dns record add prod mail CNAME web.prod.internal)
assert_contains "$err" "CNAME must be alone" "CNAME beside an A"
label64=$(printf 'a%.0s' $(seq 64))
err=$(must_fail pw dns record add prod "$label64" A 10.1.0.9)
assert_contains "$err" "63" "label over 63"
long=$(printf 'abcdefghi.%.0s' $(seq 25))
err=$(must_fail pw dns record add prod "${long}x" A 10.1.0.9)
assert_contains "$err" "253" "name over 253"
err=$(must_fail pw dns record add prod x SRV "1 2 web.prod.internal")
assert_contains "$err" "PRIORITY WEIGHT PORT TARGET" "short SRV"
err=$(must_fail pw dns record add nosuch x A 10.1.0.9)
assert_contains "$err" "not found" "unknown VNet"
err=$(must_fail pw dns record add prod x BOGUS y)
assert_contains "$err" "not one of" "unknown type"
assert_eq "$(q web $GW bad.prod.internal)" "" "nothing half-added"

log "shared zone: only linked VNets see it"
pw dns zone create corp.example --vnet prod >/dev/null
pw dns record add --zone corp.example db A 10.1.0.9 >/dev/null
pw dns record add --zone corp.example www CNAME db.corp.example >/dev/null
wait_answer web $GW db.corp.example A 10.1.0.9
assert_eq "$(q web $GW www.corp.example | tr '\n' ' ')" "db.corp.example. 10.1.0.9 " "zone CNAME"
assert_eq "$(qstatus other 10.2.0.1 db.corp.example)" NXDOMAIN "unlinked VNet"
pw dns zone link corp.example dev >/dev/null
wait_answer other 10.2.0.1 db.corp.example A 10.1.0.9
assert_contains "$(pw dns zone ls)" "prod,dev" "zone ls"
pw dns zone unlink corp.example dev >/dev/null
sleep 0.1
assert_eq "$(qstatus other 10.2.0.1 db.corp.example)" NXDOMAIN "unlinked again"

log "attach and detach show within 100 ms"
late=$(make_group_ns late)
pw group attach late --netns "$late" --vnet prod >/dev/null
late_ip=$(pw group show late --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["attachments"][0]["addresses"][0])')
sleep 0.1
assert_eq "$(q web $GW late.prod.internal)" "$late_ip" "attached name within 100 ms"
pw group detach late >/dev/null
sleep 0.1
assert_eq "$(qstatus web $GW late.prod.internal)" NXDOMAIN "detached name gone within 100 ms"
pw dns record rm prod mail A >/dev/null
sleep 0.1
assert_eq "$(qstatus web $GW mail.prod.internal)" NXDOMAIN "removed record gone"

log "netd restarted: dnsd keeps answering, then follows the new netd"
stop_netd
assert_eq "$(q web $GW db.prod.internal)" "$db_ip" "answers while netd is down"
assert_eq "$(q web $GW api.prod.internal | tail -1)" "$web_ip" "records while netd is down"
start_netd
pw dns record add prod after A 10.1.0.77 >/dev/null
wait_answer web $GW after.prod.internal A 10.1.0.77
assert_eq "$(q web $GW db.prod.internal)" "$db_ip" "groups after netd restart"
assert_eq "$(q web $GW db.corp.example)" 10.1.0.9 "zone records after netd restart"

log "vnet removed: its listener goes"
pw group detach other >/dev/null
pw vnet rm dev >/dev/null
for _ in $(seq 50); do
	in_ns h ss -lun | grep -q '10.2.0.1:53' || break
	sleep 0.1
done
if in_ns h ss -lun | grep -q '10.2.0.1:53'; then fail "listener of a deleted VNet stays"; fi
in_ns h ss -lun | grep -q '10.1.0.1:53' || fail "prod listener lost"
log "ok"
