#!/usr/bin/env bash
# --admin-group on all three daemons (docs/rpc.md, "Who may talk to which
# socket"): each socket is root:GROUP mode 0660; a user whose
# SUPPLEMENTARY group is GROUP (primary group another one) may call
# mutating methods (netd vnet.create, volumed share.create) and dnsd's
# stats.get; a user not in GROUP is refused with a clear error and changes
# nothing. The users and groups are made here and removed at cleanup.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"

admin_group=pwa$$
other_group=pwo$$
member=pwm$$
outsider=pwn$$

# useradd/groupadd lock /etc/passwd and /etc/group; retry if another test
# holds the lock.
retry() {
	for _ in $(seq 50); do
		"$@" 2>"$T/retry.err" && return 0
		sleep 0.1
	done
	fail "$*: $(cat "$T/retry.err")"
}
retry groupadd "$admin_group"
on_cleanup "groupdel $admin_group"
retry groupadd "$other_group"
on_cleanup "groupdel $other_group"
retry useradd -M -N -d /nonexistent -s /usr/sbin/nologin -g "$other_group" -G "$admin_group" "$member"
on_cleanup "userdel $member"
retry useradd -M -N -d /nonexistent -s /usr/sbin/nologin -g "$other_group" "$outsider"
on_cleanup "userdel $outsider"
# The users must reach the sockets under $T (mktemp made it 0700).
chmod o+x "$T"

as_member() { setpriv --reuid="$member" --regid="$other_group" --init-groups "$@"; }
as_outsider() { setpriv --reuid="$outsider" --regid="$other_group" --init-groups "$@"; }
assert_eq "$(as_member id -gn)" "$other_group" "member's primary group"
assert_contains " $(as_member id -Gn) " " $admin_group " "member's supplementary groups"

make_host_ns
start_netd --admin-group "$admin_group"
start_volumed --admin-group "$admin_group"
start_dnsd --admin-group "$admin_group"
track_share mine

for sock in netd volumed dnsd; do
	assert_eq "$(stat -c '%U:%G %a' "$RUN_DIR/$sock.sock")" "root:$admin_group 660" "$sock.sock owner and mode"
done

log "a member through a supplementary group"
as_member "$BIN/podwire" --run-dir "$RUN_DIR" vnet create mine --subnet 10.5.0.0/24 >/dev/null ||
	fail "member: vnet create"
assert_eq "$(pw vnet ls --json | jget '[v["name"] for v in d]')" '["mine"]' "vnet made by the member"
as_member "$BIN/podwire" --run-dir "$RUN_DIR" share create mine >/dev/null || fail "member: share create"
assert_eq "$(pw share ls --json | jget '[s["name"] for s in d]')" '["mine"]' "share made by the member"
as_member "$BIN/podwire" --run-dir "$RUN_DIR" stats dns --json | jget 'd["state"]["vnets"]' >/dev/null ||
	fail "member: stats dns"

log "an outsider"
err=$(must_fail as_outsider "$BIN/podwire" --run-dir "$RUN_DIR" vnet rm mine)
assert_contains "$err" "netd.sock: Permission denied" "outsider refused by netd"
assert_eq "$(echo "$err" | wc -l)" 1 "one error line"
err=$(must_fail as_outsider "$BIN/podwire" --run-dir "$RUN_DIR" share rm mine)
assert_contains "$err" "volumed.sock: Permission denied" "outsider refused by volumed"
err=$(must_fail as_outsider "$BIN/podwire" --run-dir "$RUN_DIR" stats dns)
assert_contains "$err" "dnsd.sock: Permission denied" "outsider refused by dnsd"
# The daemon checks again on each mutating call: with the socket opened
# to everyone, the outsider may read but still not change anything.
chmod 0666 "$RUN_DIR/netd.sock" "$RUN_DIR/volumed.sock"
as_outsider "$BIN/podwire" --run-dir "$RUN_DIR" vnet ls >/dev/null || fail "outsider: vnet ls on a 0666 socket"
err=$(must_fail as_outsider "$BIN/podwire" --run-dir "$RUN_DIR" vnet rm mine)
assert_contains "$err" "method 'vnet.delete' needs root or the admin group" "outsider's vnet rm"
err=$(must_fail as_outsider "$BIN/podwire" --run-dir "$RUN_DIR" share rm mine)
assert_contains "$err" "method 'share.delete' needs root or the admin group" "outsider's share rm"
chmod 0660 "$RUN_DIR/netd.sock" "$RUN_DIR/volumed.sock"
assert_eq "$(pw vnet ls --json | jget '[v["name"] for v in d]')" '["mine"]' "vnet still there"
assert_eq "$(pw share ls --json | jget '[s["name"] for s in d]')" '["mine"]' "share still there"

log "the member can undo"
as_member "$BIN/podwire" --run-dir "$RUN_DIR" share rm mine >/dev/null || fail "member: share rm"
as_member "$BIN/podwire" --run-dir "$RUN_DIR" vnet rm mine >/dev/null || fail "member: vnet rm"
assert_eq "$(pw vnet ls --json)" '[]' "vnet removed by the member"
log "ok"
