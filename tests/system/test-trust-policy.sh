#!/usr/bin/env bash
# Content trust, netd's side (issue 14; docs/trust.md "Policy"): keysets
# (`podwire trust keyset add|ls|show|rm`) with a cosign public key made by
# openssl and a GPG keyring made by gpg in a private GNUPGHOME; bad keysets
# (a bad PEM, an RSA key, an empty or missing file, a '../' name, a second
# add without --replace) are refused and leave the state as it was; a
# keyset named by a VNet cannot be removed. `vnet create|set --trust
# --trust-keys`; group.attach to an enforce VNet without a verdict (what
# `podwire group attach` and podwire-cni send) is refused with one line,
# counted and announced (trust.denied), to an audit VNet admitted and
# counted; a trusted verdict is admitted; trust.report counts; `stats`,
# `stats trust` and the Prometheus text carry the counters; keysets and
# VNet policies survive a restart.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"

make_host_ns
start_netd --metrics-listen "unix:$T/metrics.sock"

# --- key material ---------------------------------------------------------
K=$T/keys
mkdir -p "$K"
openssl ecparam -name prime256v1 -genkey -noout -out "$K/cosign.key" 2>/dev/null
openssl ec -in "$K/cosign.key" -pubout -out "$K/cosign.pub" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$K/other.key" 2>/dev/null
openssl ec -in "$K/other.key" -pubout -out "$K/other.pub" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$K/rsa.key" 2>/dev/null
openssl pkey -in "$K/rsa.key" -pubout -out "$K/rsa.pub" 2>/dev/null
openssl ecparam -name secp384r1 -genkey -noout -out "$K/p384.key" 2>/dev/null
openssl ec -in "$K/p384.key" -pubout -out "$K/p384.pub" 2>/dev/null
printf -- '-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n' >"$K/bad.pem"
: >"$K/empty.pem"
export GNUPGHOME=$T/gnupg
mkdir -m 0700 "$GNUPGHOME"
on_cleanup "gpgconf --homedir '$GNUPGHOME' --kill all"
gpg --batch --quiet --passphrase '' --quick-gen-key 'podwire test <t@example.org>' ed25519 sign \
	2>/dev/null
gpg --batch --quiet --export >"$K/keyring.gpg"
gpg --batch --quiet --export --armor >"$K/keyring.asc"
gpg --batch --quiet --pinentry-mode loopback --passphrase '' --export-secret-keys \
	>"$K/secret.gpg"
[ -s "$K/keyring.gpg" ] && [ -s "$K/secret.gpg" ] || fail "gpg made no keyring"

TRUST_DIR=$STATE_DIR/netd/trust
# state: what a refusal must not change (listing, files)
state() { echo "$(pw trust keyset ls --json)"; (cd "$TRUST_DIR" && find . | sort && cat ./*/* 2>/dev/null | md5sum); }

log "keyset add: cosign, GPG (binary and armored), both; ls, show"
out=$(pw trust keyset add signed --cosign-key "$K/cosign.pub" --repository 127.0.0.1:5000/app)
assert_eq "$out" "keyset signed: cosign, repository 127.0.0.1:5000/app" "add output"
pw trust keyset add gpgbin --gpg-keyring "$K/keyring.gpg" >/dev/null
pw trust keyset add gpgasc --gpg-keyring "$K/keyring.asc" >/dev/null
pw trust keyset add both --cosign-key "$K/cosign.pub" --gpg-keyring "$K/keyring.gpg" >/dev/null
assert_eq "$(pw trust keyset ls --json | jget '[k["name"] for k in d]')" \
	'["both", "gpgasc", "gpgbin", "signed"]' "ls"
assert_eq "$(pw trust keyset ls --json | jget '[(k["cosign_key"], k["gpg_keyring"]) for k in d]')" \
	'[[true, true], [false, true], [false, true], [true, false]]' "ls keys"
ls_text=$(pw trust keyset ls)
assert_contains "$ls_text" "signed  cosign" "ls table"
assert_contains "$ls_text" "127.0.0.1:5000/app" "ls repository"
show=$(pw trust keyset show both --json)
cosign_path=$(jget 'd["cosign_key_path"]' <<<"$show")
gpg_path=$(jget 'd["gpg_keyring_path"]' <<<"$show")
assert_eq "$cosign_path" "$(realpath "$TRUST_DIR")/both/cosign.pub" "cosign path (absolute)"
assert_eq "$gpg_path" "$(realpath "$TRUST_DIR")/both/keyring.gpg" "keyring path"
cmp -s "$cosign_path" "$K/cosign.pub" || fail "stored cosign key differs"
cmp -s "$gpg_path" "$K/keyring.gpg" || fail "stored keyring differs"
cmp -s "$TRUST_DIR/gpgasc/keyring.gpg" "$K/keyring.asc" || fail "stored armored keyring differs"
assert_eq "$(jget 'd["cosign_key_path"]' <<<"$(pw trust keyset show gpgbin --json)")" null \
	"no cosign key: null"
assert_eq "$(stat -c %a "$TRUST_DIR" "$TRUST_DIR/both" "$cosign_path" "$gpg_path" | tr '\n' ' ')" \
	"700 700 600 600 " "modes"
assert_contains "$(pw trust keyset show signed)" "Repository:  127.0.0.1:5000/app" "show text"

log "bad keysets are refused with one line and change nothing"
before=$(state)
refused() { # refused NEEDLE CMD...: fails, one line on stderr naming NEEDLE, state unchanged
	local needle=$1 err
	shift
	err=$(must_fail "$@")
	assert_contains "$err" "$needle" "$*"
	assert_eq "$(wc -l <<<"$err")" 1 "one line for: $*"
	assert_eq "$(state)" "$before" "state after: $*"
}
refused "not a PEM public key" pw trust keyset add k1 --cosign-key "$K/bad.pem"
refused "not an ECDSA P-256 key" pw trust keyset add k1 --cosign-key "$K/rsa.pub"
refused "not an ECDSA P-256 key" pw trust keyset add k1 --cosign-key "$K/p384.pub"
refused "is not a PEM text file" pw trust keyset add k1 --cosign-key "$K/keyring.gpg"
refused "not a PEM public key" pw trust keyset add k1 --cosign-key "$K/keyring.asc"
refused "is empty" pw trust keyset add k1 --cosign-key "$K/empty.pem"
refused "No such file" pw trust keyset add k1 --cosign-key "$K/missing.pem"
refused "not OpenPGP" pw trust keyset add k1 --gpg-keyring "$K/cosign.pub"
refused "a secret key" pw trust keyset add k1 --gpg-keyring "$K/secret.gpg"
refused "keyset name '../x' may contain only" pw trust keyset add ../x --cosign-key "$K/cosign.pub"
refused "longer than 12" pw trust keyset add abcdefghijklm --cosign-key "$K/cosign.pub"
refused "keyset 'signed' exists (use --replace)" pw trust keyset add signed --cosign-key "$K/other.pub"
err=$(must_fail pw trust keyset add k1)
assert_contains "$err" "a key is required" "usage error without a key"
refused "keyset 'signed': cosign_key: not an ECDSA" \
	pw trust keyset add signed --replace --cosign-key "$K/rsa.pub"
refused "repository: " pw trust keyset add k1 --cosign-key "$K/cosign.pub" --repository "a b"
reply=$(rpc trust.keyset.add '{"name":"k1"}')
assert_contains "$reply" "no key (give cosign_key, gpg_keyring or both)" "RPC without a key"
reply=$(rpc trust.keyset.add '{"name":"k1","gpg_keyring":"***"}')
assert_contains "$reply" "not base64" "RPC bad base64"
reply=$(rpc trust.keyset.add '{"name":"k1","cosign_key":"x","extra":1}')
assert_contains "$reply" "invalid_params" "RPC unknown member"
reply=$(rpc trust.keyset.show '{"name":"nope"}')
assert_contains "$reply" "keyset 'nope' not found" "show unknown"
assert_eq "$(state)" "$before" "state after the RPC refusals"

log "--replace swaps the key; the VNets keep the keyset"
pw trust keyset add signed --replace --cosign-key "$K/other.pub" --repository 127.0.0.1:5000/app \
	>/dev/null
cmp -s "$TRUST_DIR/signed/cosign.pub" "$K/other.pub" || fail "replace did not store the new key"
pw trust keyset add signed --replace --cosign-key "$K/cosign.pub" --repository 127.0.0.1:5000/app \
	>/dev/null
pw trust keyset add both --replace --gpg-keyring "$K/keyring.gpg" >/dev/null
[ ! -e "$TRUST_DIR/both/cosign.pub" ] || fail "a dropped key file stayed"
assert_eq "$(jget 'd["cosign_key_path"]' <<<"$(pw trust keyset show both --json)")" null \
	"replace dropped the cosign key"

log "vnet create/set --trust: checked, stored, shown"
pw vnet create enf --subnet 10.61.0.0/24 --trust enforce --trust-keys signed >/dev/null
pw vnet create aud --subnet 10.62.0.0/24 --trust audit --trust-keys gpgbin >/dev/null
pw vnet create open --subnet 10.63.0.0/24 >/dev/null
assert_eq "$(pw vnet show enf --json | jget '[d["trust"], d["trust_keys"]]')" \
	'["enforce", "signed"]' "enforce shown"
assert_eq "$(pw vnet show open --json | jget '[d["trust"], "trust_keys" in d]')" \
	'["off", false]' "off shown, no keys"
ls_text=$(pw vnet ls)
assert_contains "$(grep '^enf ' <<<"$ls_text")" "enforce:signed" "TRUST column"
assert_contains "$(grep '^open ' <<<"$ls_text")" " -" "TRUST column when off"
assert_contains "$(pw vnet show aud)" "Trust:       audit:gpgbin" "show text"
err=$(must_fail pw vnet create x1 --subnet 10.64.0.0/24 --trust enforce)
assert_contains "$err" "trust_keys: required with trust enforce" "enforce without keys"
err=$(must_fail pw vnet create x1 --subnet 10.64.0.0/24 --trust audit --trust-keys nokeys)
assert_contains "$err" "keyset 'nokeys' not found" "unknown keyset"
err=$(must_fail pw vnet create x1 --subnet 10.64.0.0/24 --trust-keys signed)
assert_contains "$err" "trust_keys: only with trust audit or enforce" "keys without a mode"
err=$(must_fail pw vnet create x1 --subnet 10.64.0.0/24 --trust strict --trust-keys signed)
assert_contains "$err" "off, audit or enforce" "bad mode (CLI)"
reply=$(rpc vnet.create '{"name":"x1","subnets":["10.64.0.0/24"],"trust":"strict"}')
assert_contains "$reply" "trust: 'strict' is not one of off, audit, enforce" "bad mode (RPC)"
assert_eq "$(host_links | grep -c pw-x1 || true)" 0 "no bridge for a refused VNet"
pw events --json >"$T/events.out" 2>"$T/events.err" &
track_pid $!
sleep 0.3
out=$(pw vnet set open --trust audit --trust-keys both)
assert_eq "$out" "vnet open: host access dns, trust audit:both" "set output"
pw vnet set open --trust enforce >/dev/null
assert_eq "$(pw vnet show open --json | jget '[d["trust"], d["trust_keys"]]')" \
	'["enforce", "both"]' "set mode alone keeps the keyset"
pw vnet set open --trust-keys gpgasc >/dev/null
assert_eq "$(pw vnet show open --json | jget 'd["trust_keys"]')" gpgasc "set keys alone"
pw vnet set open --trust off >/dev/null
assert_eq "$(pw vnet show open --json | jget '[d["trust"], "trust_keys" in d]')" \
	'["off", false]' "off clears the keys"
err=$(must_fail pw vnet set open --trust-keys signed)
assert_contains "$err" "has trust off" "keys alone on an off VNet"
err=$(must_fail pw vnet set open --trust audit)
assert_contains "$err" "trust_keys: required" "audit with no keyset to keep"
err=$(must_fail pw vnet set open --trust audit --trust-keys nope)
assert_contains "$err" "keyset 'nope' not found" "set: unknown keyset"
assert_eq "$(pw vnet show open --json | jget 'd["trust"]')" off "unchanged by refusals"
pw vnet set open --host-access all >/dev/null
assert_eq "$(pw vnet show open --json | jget '[d["host_access"], d["trust"]]')" '["all", "off"]' \
	"host access alone keeps trust"
wait_until grep -q '"trust": *"off"' "$T/events.out"
grep -q '"trust_keys": *"gpgasc"' "$T/events.out" || fail "vnet.updated carries trust_keys"

log "keyset rm is refused while a VNet names it"
before=$(state)
refused "keyset 'signed' is used by VNet enf" pw trust keyset rm signed
pw vnet create enf2 --subnet 10.65.0.0/24 --trust audit --trust-keys signed >/dev/null
before=$(state)
refused "keyset 'signed' is used by VNet enf, enf2" pw trust keyset rm signed
assert_eq "$(pw trust keyset ls --json | jget '[k["vnets"] for k in d if k["name"] == "signed"][0]')" \
	'["enf", "enf2"]' "ls names the VNets"
pw vnet rm enf2
pw trust keyset add spare --cosign-key "$K/cosign.pub" >/dev/null
pw trust keyset rm spare
[ ! -e "$TRUST_DIR/spare" ] || fail "rm left the keyset's directory"
pw trust keyset rm spare || fail "rm of a missing keyset must succeed"

log "group attach (no verdict): enforce refused, counted, announced; audit admitted, counted"
ns1=$(make_group_ns g1)
err=$(must_fail pw group attach g1 --netns "$ns1" --vnet enf)
assert_eq "$err" "podwire: group attach: VNet 'enf' admits only signed images (trust enforce): no image identity: the caller passed no verdict (podwire-cni and 'podwire group attach' cannot see images)" \
	"refusal line"
if pw group show g1 >/dev/null 2>&1; then fail "refused group attached"; fi
[ -z "$(in_ns g1 ip -o link show eth0 2>/dev/null)" ] || fail "refused group got an eth0"
assert_eq "$(pw vnet show enf --json | jget 'd["group_count"]')" 0 "nothing attached"
# a second VNet in the same attach: nothing of the first is made either
err=$(must_fail pw group attach g1 --netns "$ns1" --vnet aud --vnet enf)
assert_contains "$err" "VNet 'enf' admits only signed images" "refused with an audit VNet first"
if pw group show g1 >/dev/null 2>&1; then fail "refused group attached (two VNets)"; fi
wait_until grep -q '"trust.denied"' "$T/events.out"
ev=$(grep '"trust.denied"' "$T/events.out" | head -1)
assert_contains "$ev" '"kind":"vnet"' "event kind"
assert_contains "$ev" '"name":"enf"' "event name"
assert_contains "$ev" '"mode":"enforce"' "event mode"
assert_contains "$ev" '"group":"g1"' "event group"
assert_contains "$ev" '"reason":"unverified"' "event reason"
grep -q 'trust denied kind=vnet name=enf mode=enforce group=g1' "$T/netd.log" || fail "no log line"
pw group attach g2 --netns "$(make_group_ns g2)" --vnet aud >/dev/null
pw group show g2 >/dev/null || fail "audit VNet refused a group"
ping_ok g2 10.62.0.1
stats=$(pw stats --json)
denied() { jget "[t['denied'] for t in d['trust'] if (t['kind'], t['name'], t['mode']) == ('$1', '$2', '$3')]" <<<"$stats"; }
assert_eq "$(denied vnet enf enforce)" "[2]" "enforce denials"
assert_eq "$(denied vnet aud audit)" "[2]" "audit denials (g1's two-VNet attach and g2)"

log "group.attach with a verdict: trusted admitted; untrusted refused with its message, not counted"
ns3=$(make_group_ns g3)
reply=$(rpc group.attach "{\"id\":\"g3\",\"netns\":\"$ns3\",\"vnets\":[\"enf\"],\"trust\":{\"trusted\":false,\"image\":\"127.0.0.1:5000/evil:1\",\"digest\":\"sha256:2948\",\"reason\":\"wrong key\",\"message\":\"image 127.0.0.1:5000/evil:1 (sha256:2948): wrong key\"}}")
assert_contains "$reply" "\"code\":\"permission_denied\"" "untrusted verdict: error code"
assert_contains "$reply" "VNet 'enf' admits only signed images (trust enforce): image 127.0.0.1:5000/evil:1 (sha256:2948): wrong key" \
	"untrusted verdict: message"
reply=$(rpc group.attach "{\"id\":\"g3\",\"netns\":\"$ns3\",\"vnets\":[\"enf\"],\"trust\":{\"trusted\":\"yes\"}}")
assert_contains "$reply" "trust: trusted: expected true or false" "bad verdict"
reply=$(rpc group.attach "{\"id\":\"g3\",\"netns\":\"$ns3\",\"vnets\":[\"enf\"],\"trust\":{\"trusted\":true,\"signer\":\"x\"}}")
assert_contains "$reply" "invalid_params" "verdict with an unknown member"
reply=$(rpc group.attach "{\"id\":\"g3\",\"netns\":\"$ns3\",\"vnets\":[\"enf\"],\"trust\":{\"trusted\":true,\"image\":\"127.0.0.1:5000/app:1\",\"digest\":\"sha256:aa\",\"reason\":\"\",\"message\":\"trusted\"}}")
assert_contains "$reply" '"result"' "trusted verdict admitted"
pw group show g3 >/dev/null || fail "trusted group not attached"
ping_ok g3 10.61.0.1
stats=$(pw stats --json)
assert_eq "$(denied vnet enf enforce)" "[2]" "verdicts are not counted by netd"

log "trust.report counts, logs and announces"
reply=$(rpc trust.report '{"kind":"share","name":"data","mode":"enforce","group":"web","image":"127.0.0.1:5000/evil:1","digest":"sha256:2948","reason":"wrong key","message":"image 127.0.0.1:5000/evil:1: wrong key"}')
assert_contains "$reply" '"result"' "report accepted"
rpc trust.report '{"kind":"vnet","name":"enf","mode":"enforce","group":"web","image":"i","digest":"d","reason":"unsigned","message":"m"}' >/dev/null
rpc trust.report '{"kind":"share","name":"data","mode":"enforce","group":"web2","reason":"unsigned"}' >/dev/null
for bad in '{"kind":"pod","name":"a","mode":"enforce"}' '{"kind":"vnet","name":"a","mode":"off"}' \
	'{"kind":"vnet","name":"../a","mode":"audit"}' '{"kind":"vnet","mode":"audit"}' \
	'{"kind":"vnet","name":"a","mode":"audit","message":"two\nlines"}'; do
	reply=$(rpc trust.report "$bad")
	assert_contains "$reply" '"invalid_params"' "bad report $bad"
done
stats=$(pw stats --json)
assert_eq "$(denied share data enforce)" "[2]" "share denials reported"
assert_eq "$(denied vnet enf enforce)" "[3]" "reported VNet denial added"
wait_until grep -q '"name":"data"' "$T/events.out"
grep -q 'trust denied kind=share name=data mode=enforce group=web image=127.0.0.1:5000/evil:1 digest=sha256:2948 reason="wrong key"' \
	"$T/netd.log" || fail "report log line"
text=$(pw stats)
assert_contains "$text" "TRUST" "stats section"
assert_contains "$(grep '^share' <<<"$text")" "data  enforce  2" "stats row"
assert_contains "$(pw stats trust)" "vnet   enf   enforce  3" "stats trust"
assert_eq "$(pw stats trust --json | jget 'len(d)')" 3 "stats trust --json"

log "Prometheus: podwire_trust_denied_total"
curl -sS --max-time 10 --unix-socket "$T/metrics.sock" -o "$T/metrics" http://localhost/metrics
grep -qx 'podwire_trust_denied_total{kind="vnet",name="enf",mode="enforce"} 3' "$T/metrics" ||
	fail "metric line missing: $(grep trust "$T/metrics")"
grep -qx 'podwire_trust_denied_total{kind="share",name="data",mode="enforce"} 2' "$T/metrics" ||
	fail "share metric line missing"
grep -qx '# TYPE podwire_trust_denied_total counter' "$T/metrics" || fail "metric TYPE"
assert_contains "$(pw stats --prometheus)" \
	'podwire_trust_denied_total{kind="vnet",name="aud",mode="audit"} 2' "stats --prometheus"

log "podwire-cni: an ADD to an enforce VNet fails with netd's line"
conf='{"cniVersion":"1.1.0","name":"pwnet","type":"podwire","vnet":"enf","runDir":"'"$RUN_DIR"'"}'
ns4=$(make_group_ns c4)
out=$(env -i PATH="$PATH" CNI_COMMAND=ADD CNI_CONTAINERID=c4 CNI_NETNS="$ns4" CNI_IFNAME=eth0 \
	CNI_PATH="$BIN" "$BIN/podwire-cni" <<<"$conf" 2>/dev/null) && fail "CNI ADD to enforce accepted"
assert_contains "$out" '"msg":"VNet '"'"'enf'"'"' admits only signed images (trust enforce): no image identity' \
	"CNI msg is netd's line"
if pw group show c4 >/dev/null 2>&1; then fail "CNI group attached"; fi

log "state survives a restart (kill -9): keysets, policies, files; counters start at zero"
kill9_netd
start_netd
assert_eq "$(pw trust keyset ls --json | jget '[k["name"] for k in d]')" \
	'["both", "gpgasc", "gpgbin", "signed"]' "keysets after restart"
assert_eq "$(pw vnet show enf --json | jget '[d["trust"], d["trust_keys"]]')" \
	'["enforce", "signed"]' "enforce after restart"
assert_eq "$(pw vnet show aud --json | jget '[d["trust"], d["trust_keys"]]')" \
	'["audit", "gpgbin"]' "audit after restart"
cmp -s "$TRUST_DIR/signed/cosign.pub" "$K/cosign.pub" || fail "key file after restart"
assert_eq "$(pw stats --json | jget 'd["trust"]')" "[]" "counters reset"
err=$(must_fail pw group attach g5 --netns "$(make_group_ns g5)" --vnet enf)
assert_contains "$err" "admits only signed images" "enforce after restart"
err=$(must_fail pw trust keyset rm gpgbin)
assert_contains "$err" "used by VNet aud" "rm refused after restart"

log "an add interrupted before keyset.json is cleaned up at start; an old state file is trust off"
stop_netd
mkdir -m 0700 "$TRUST_DIR/half"
cp "$K/cosign.pub" "$TRUST_DIR/half/cosign.pub"
"$PY" - "$STATE_DIR/netd/vnets/open.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d.pop("trust", None)
d.pop("trust_keys", None)
json.dump(d, open(sys.argv[1], "w"))
EOF
rm -r "$TRUST_DIR/gpgbin"
start_netd
[ ! -e "$TRUST_DIR/half" ] || fail "unfinished keyset left behind"
assert_eq "$(pw vnet show open --json | jget 'd["trust"]')" off "missing field = off"
log "a keyset removed by hand: the VNet keeps its policy, netd says so"
grep -q 'VNet names a missing keyset (add it again) vnet=aud trust=audit keyset=gpgbin' "$T/netd.log" ||
	fail "no log line for the missing keyset"
assert_eq "$(pw vnet show aud --json | jget '[d["trust"], d["trust_keys"]]')" '["audit", "gpgbin"]' \
	"policy kept"
pw trust keyset add gpgbin --gpg-keyring "$K/keyring.gpg" >/dev/null
assert_eq "$(pw trust keyset ls --json | jget '[k["vnets"] for k in d if k["name"] == "gpgbin"][0]')" \
	'["aud"]' "added again, named by the VNet"
log "ok"
