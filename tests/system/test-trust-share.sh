#!/usr/bin/env bash
# podwire-volumed: a share's content-trust policy (issue 14, docs/trust.md).
# create/set/show/ls carry it; bad policies are refused with one line and
# change nothing; share.use under enforce admits only a trusted verdict
# (none, or trusted:false, is refused with the verdict's message) and the
# admitted group's mount works; audit admits without a verdict; the policy
# survives a restart. Keysets live in netd: volumed checks only the name.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

# vrpc METHOD PARAMS_JSON: one call on volumed.sock as the hook makes it;
# prints the reply line.
vrpc() {
	printf '{"id":1,"method":"%s","params":%s}\n' "$1" "$2" | "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
sys.stdout.write(buf.decode())' "$RUN_DIR/volumed.sock"
}

# jget EXPR: a Python expression over the JSON on stdin (bound to d).
jget() {
	"$PY" -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# What a share's policy is, in every place it shows: share.show's trust
# and trust_keys, its users, and its state file.
policy() {
	pw share show "$1" --json | jget '[d["trust"], d.get("trust_keys"), [u["group"] for u in d["users"]]]'
	cat "$STATE_DIR/volumed/config/$1.json"
}

# refused WHAT NEEDLE CMD...: CMD fails with exactly one line on stderr,
# containing NEEDLE.
refused() {
	local what=$1 needle=$2 out
	shift 2
	out=$(must_fail "$@")
	assert_eq "$(printf '%s\n' "$out" | wc -l)" 1 "$what: lines of the error"
	assert_contains "$out" "$needle" "$what"
}

start_volumed
M=$RUN_DIR/shares

# --- create, show, ls, set
pw share create plain >/dev/null
track_share plain
pw share create vault --trust enforce --trust-keys prod >/dev/null
track_share vault
pw share create vault --trust enforce --trust-keys prod >/dev/null # idempotent
refused "create with another policy" "other settings" pw share create vault --trust audit --trust-keys prod
assert_eq "$(pw share show plain --json | jget '[d["trust"], "trust_keys" in d]')" '["off", false]' "off share in show"
assert_eq "$(pw share show vault --json | jget '[d["trust"], d["trust_keys"]]')" '["enforce", "prod"]' "enforce share in show"
assert_eq "$(pw share ls --json | jget '{s["name"]: s["trust"] for s in d}')" '{"vault": "enforce", "plain": "off"}' "ls --json"
ls=$(pw share ls)
assert_contains "$(head -1 <<<"$ls")" "TRUST" "ls header"
grep -Eq '^vault .* enforce:prod ' <<<"$ls" || fail "ls TRUST of vault: $ls"
grep -Eq '^plain .* - ' <<<"$ls" || fail "ls TRUST of plain: $ls"
assert_contains "$(pw share show vault)" "trust       enforce (keyset prod)" "show text"
assert_contains "$(pw share show plain)" "trust       off" "show text, off"

assert_eq "$(pw share set plain --trust audit --trust-keys staging)" "share plain: trust audit (keyset staging)" "set from off"
assert_eq "$(pw share set plain --trust enforce)" "share plain: trust enforce (keyset staging)" "set: mode alone keeps the keyset"
assert_eq "$(pw share set plain --trust-keys prod --json | jget '[d["trust"], d["trust_keys"]]')" '["enforce", "prod"]' "set: keyset alone keeps the mode"
pw share set plain --trust off >/dev/null
assert_eq "$(pw share show plain --json | jget '[d["trust"], "trust_keys" in d]')" '["off", false]' "set off drops the keyset"
grep -q trust "$STATE_DIR/volumed/config/plain.json" && fail "an off share's state names trust"

# --- bad input: one line each, nothing changed
pw share set plain --trust audit --trust-keys staging >/dev/null
before_plain=$(policy plain)
before_vault=$(policy vault)
refused "mode maybe" "trust 'maybe' is not one of off, audit, enforce" pw share set vault --trust maybe
refused "mode maybe at create" "trust 'maybe'" pw share create other --trust maybe --trust-keys prod
refused "enforce without keys" "trust enforce needs trust_keys" pw share create other --trust enforce
refused "keys without a mode" "trust_keys needs trust audit or enforce" pw share create other --trust-keys prod
refused "keys with off" "trust_keys needs trust audit or enforce" pw share set vault --trust off --trust-keys prod
refused "keyset ../" "keyset name '../etc' is invalid" pw share set vault --trust-keys ../etc
refused "keyset ../ at create" "keyset name '../x' is invalid" pw share create other --trust audit --trust-keys ../x
refused "keyset with a slash" "keyset name 'a/b' is invalid" pw share set plain --trust-keys a/b
refused "unknown share" "no share 'nosuch'" pw share set nosuch --trust enforce --trust-keys prod
# A usage error (exit 2) adds the CLI's "Try ... --help" line.
assert_contains "$(must_fail pw share set vault)" "needs --trust and/or --trust-keys" "set with nothing"
assert_contains "$(vrpc share.set '{"name":"vault"}')" "give trust and/or trust_keys" "share.set without a change"
assert_contains "$(vrpc share.set '{"name":"vault","trust":1}')" '"error"' "share.set with a number"
assert_eq "$(policy plain)" "$before_plain" "plain after refused calls"
assert_eq "$(policy vault)" "$before_vault" "vault after refused calls"
[ ! -e "$M/other" ] && [ ! -e "$STATE_DIR/volumed/config/other.json" ] || fail "a refused create made a share"

# --- share.use under enforce
reply=$(vrpc share.use '{"name":"vault","group":"web"}')
assert_contains "$reply" "share 'vault' admits only signed images (trust enforce): no image identity: the caller passed no verdict" "use without a verdict"
assert_contains "$reply" '"permission_denied"' "error code"
refused "CLI use (no image)" "no image identity" pw share use vault web
msg="podwire-trust: image 127.0.0.1:5000/evil:1 (sha256:2948): wrong key: signed by key FBA6, which is not in the keyring"
reply=$(vrpc share.use '{"name":"vault","group":"web","trust":{"trusted":false,"image":"127.0.0.1:5000/evil:1","digest":"sha256:2948","reason":"wrong key","message":"'"$msg"'"}}')
assert_contains "$reply" "share 'vault' admits only signed images (trust enforce): $msg" "use with an untrusted verdict"
assert_contains "$(vrpc share.use '{"name":"vault","group":"web","trust":{"image":"x"}}')" '"error"' "a verdict without trusted"
assert_contains "$(vrpc share.use '{"name":"vault","group":"web","trust":{"trusted":true,"extra":1}}')" '"error"' "a verdict with an unknown key"
assert_contains "$(vrpc share.use '{"name":"nosuch","group":"web","trust":{"trusted":true}}')" "no share 'nosuch'" "use of an unknown share"
assert_eq "$(policy vault)" "$before_vault" "vault after refused uses"
[ -z "$(ls "$RUN_DIR/volumed/users/vault" 2>/dev/null)" ] || fail "a refused use was recorded"

reply=$(vrpc share.use '{"name":"vault","group":"web","trust":{"trusted":true,"image":"127.0.0.1:5000/app:1","digest":"sha256:a169","reason":"","message":"trusted"}}')
assert_contains "$reply" '"mountpoint"' "use with a trusted verdict"
assert_eq "$(pw share show vault --json | jget '[u["group"] for u in d["users"]]')" '["web"]' "admitted group recorded"
# The admitted group binds the share, as the hook does, and uses it.
mkdir "$T/g"
unshare -m --propagation private sh -c "
	mount --bind '$M/vault' '$T/g' &&
	echo from-web >'$T/g/file' &&
	[ \"\$(cat '$T/g/file')\" = from-web ]
" || fail "mount of the admitted share"
assert_eq "$(cat "$M/vault/file")" from-web "write through the group's mount"
grep -q "share use refused share=vault group=web trust=enforce reason=wrong key" "$T/volumed.log" ||
	fail "refusal not logged"

# --- audit admits without a verdict (the hook reports to netd; volumed logs)
pw share use plain api
assert_eq "$(pw share show plain --json | jget '[u["group"] for u in d["users"]]')" '["api"]' "audit admits"
assert_contains "$(vrpc share.use '{"name":"plain","group":"db","trust":{"trusted":false,"reason":"unsigned"}}')" '"mountpoint"' "audit admits an untrusted verdict"
grep -q "admitted without a trusted image share=plain group=api trust=audit reason=no verdict" "$T/volumed.log" ||
	fail "audit admission not logged"

# --- the policy survives a restart; old state (no trust fields) loads as off
pw share create legacy >/dev/null
track_share legacy
stop_volumed
"$PY" - "$STATE_DIR/volumed/config/legacy.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert "trust" not in d and "trust_keys" not in d, d
PY
start_volumed
for _ in $(seq 200); do
	pw share show vault --json 2>/dev/null | grep -q '"mounted": true' && break
	sleep 0.05
done
assert_eq "$(pw share show vault --json | jget '[d["trust"], d["trust_keys"]]')" '["enforce", "prod"]' "enforce after restart"
assert_eq "$(pw share show plain --json | jget '[d["trust"], d["trust_keys"]]')" '["audit", "staging"]' "audit after restart"
assert_eq "$(pw share show legacy --json | jget 'd["trust"]')" off "old state loads as off"
refused "enforce after restart" "admits only signed images" pw share use vault other
pw share use legacy anyone

pw share release vault web
pw share rm vault --force
pw share rm plain --force
pw share rm legacy --force
log "ok"
