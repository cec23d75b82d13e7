#!/usr/bin/env bash
# The Debian package as an admin gets it: `make deb` builds it from the tree;
# installed on this machine it puts the programs in /usr/bin, the CNI
# plugin at /usr/lib/cni/podwire, the systemd units (which
# systemd-analyze verify accepts) and the oci-hooks file in place, and
# enables nothing. Each daemon then runs as its unit runs it: the unit's
# ExecStart under the unit's CapabilityBoundingSet and NoNewPrivileges
# (setpriv; the test's own run and state dirs are added as options) through
# a short scenario: a group attached by the installed CNI plugin, names
# resolved by dnsd, a file share served by volumed. Purging the package
# leaves none of its files behind.
#
# Machine-wide (dpkg), unlike the other tests; it does not start any unit:
# without systemd as PID 1 (containers, this CI) there is no unit to start,
# and with it the units would use the host's real /run/podwire and
# /var/lib/podwire. It refuses to touch an already installed podwire.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns-lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

if dpkg-query -W -f='${Status}' podwire 2>/dev/null | grep -q "ok installed"; then
	log "SKIP: a podwire package is installed on this machine; not replacing it"
	exit 0
fi

log "make deb"
make -C "$ROOT" deb DEB_DIR="$T/deb" >"$T/deb-build.log" 2>&1 || {
	tail -n 30 "$T/deb-build.log" >&2
	fail "make deb failed"
}
deb=$(ls "$T"/deb/podwire_*_*.deb)
[ -f "$deb" ] || fail "no package in $T/deb"

log "install: programs, CNI plugin, units, oci-hooks file, man pages"
on_cleanup dpkg --purge podwire
dpkg -i "$deb" >"$T/dpkg.log" 2>&1 || fail "dpkg -i failed: $(cat "$T/dpkg.log")"
dpkg-query -L podwire >"$T/files"
for f in /usr/bin/podwire /usr/bin/podwire-netd /usr/bin/podwire-dnsd /usr/bin/podwire-volumed \
	/usr/bin/podwire-hook /usr/bin/podwire-cni /usr/lib/cni/podwire \
	/lib/systemd/system/podwire-netd.service /lib/systemd/system/podwire-dnsd.service \
	/lib/systemd/system/podwire-volumed.service \
	/usr/share/containers/oci/hooks.d/podwire.json /usr/share/man/man8/podwire-netd.8.gz; do
	grep -qx "$f" "$T/files" || fail "$f not in the package"
	[ -e "$f" ] || fail "$f not installed"
done
jq -e '.hook.path == "/usr/bin/podwire-hook"' /usr/share/containers/oci/hooks.d/podwire.json \
	>/dev/null || fail "oci-hooks file does not name /usr/bin/podwire-hook"
echo '{"cniVersion":"1.1.0"}' | CNI_COMMAND=VERSION /usr/lib/cni/podwire |
	grep -q supportedVersions || fail "the installed CNI plugin does not run"

log "nothing enabled or started"
enabled=$(find /etc/systemd/system -name 'podwire-*' 2>/dev/null)
[ -z "$enabled" ] || fail "enabled on install: $enabled"
if [ "$(ps -p 1 -o comm=)" = systemd ]; then
	for u in netd dnsd volumed; do
		assert_eq "$(systemctl is-enabled podwire-$u 2>/dev/null)" disabled "podwire-$u enabled"
		assert_eq "$(systemctl is-active podwire-$u 2>/dev/null)" inactive "podwire-$u active"
	done
fi

log "systemd-analyze verify accepts the units"
out=$(systemd-analyze verify /lib/systemd/system/podwire-{netd,dnsd,volumed}.service 2>&1) ||
	fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify complains: $out"

# unit_key UNIT KEY: the value of KEY= in the installed unit.
unit_key() { sed -n "s/^$2=//p" "/lib/systemd/system/podwire-$1.service"; }

# Wrappers in $T/bin run each daemon as its unit does; the lib.sh helpers
# (start_netd, ...) start them through BIN.
mkdir "$T/bin"
for u in netd dnsd volumed; do
	exec_start=$(unit_key $u ExecStart)
	assert_eq "$exec_start" "/usr/bin/podwire-$u" "podwire-$u.service ExecStart"
	caps=$(unit_key $u CapabilityBoundingSet | tr 'A-Z' 'a-z' | sed 's/cap_/,+/g; s/ //g')
	[ -n "$caps" ] || fail "podwire-$u.service has no CapabilityBoundingSet"
	assert_eq "$(unit_key $u NoNewPrivileges)" yes "podwire-$u.service NoNewPrivileges"
	printf '#!/bin/sh\nexec setpriv --no-new-privs --bounding-set=-all%s --inh-caps=-all %s "$@"\n' \
		"$caps" "$exec_start" >"$T/bin/podwire-$u"
	chmod +x "$T/bin/podwire-$u"
	log "podwire-$u: bounding set ${caps//,+/ }"
done
ln -s /usr/bin/podwire "$T/bin/podwire"
BIN=$T/bin

make_host_ns
start_netd
start_dnsd
start_volumed
for pid in $NETD_PID $DNSD_PID $VOLUMED_PID; do
	grep -q '^NoNewPrivs:[[:space:]]*1$' /proc/$pid/status || fail "pid $pid may gain privileges"
done

log "attach: one group by the installed CNI plugin, one by the CLI"
pw vnet create prod --subnet 10.1.0.0/24 >/dev/null
ns1=$(make_group_ns c1)
ns2=$(make_group_ns web)
echo "{\"cniVersion\":\"1.1.0\",\"name\":\"pwnet\",\"type\":\"podwire\",\"vnet\":\"prod\",\"runDir\":\"$RUN_DIR\"}" |
	env -i PATH="$PATH" CNI_COMMAND=ADD CNI_CONTAINERID=c1 CNI_NETNS="$ns1" CNI_IFNAME=eth0 \
		CNI_PATH=/usr/lib/cni /usr/lib/cni/podwire >"$T/cni-add.json" 2>"$T/cni.log" ||
	fail "CNI ADD failed: $(cat "$T/cni.log")"
jq -e '.ips[0].address == "10.1.0.2/24"' "$T/cni-add.json" >/dev/null ||
	fail "CNI result: $(cat "$T/cni-add.json")"
pw group attach web --netns "$ns2" --vnet prod --hostname web >/dev/null
ping_ok c1 10.1.0.3

log "resolve: dnsd answers on the gateway"
wait_answer c1 10.1.0.1 web.prod.internal A 10.1.0.3

log "reload: the unit's ExecReload makes dnsd re-read resolv.conf"
reload=$(unit_key dnsd ExecReload)
assert_eq "$reload" '/bin/kill -HUP $MAINPID' "podwire-dnsd.service ExecReload"
[ -z "$(unit_key netd ExecReload)$(unit_key volumed ExecReload)" ] ||
	fail "ExecReload= on a daemon that has nothing to reload"
reloads=$(grep -c "host upstreams from\|no usable name server" "$T/dnsd.log")
MAINPID=$DNSD_PID eval "$reload"
for _ in $(seq 50); do
	[ "$(grep -c "host upstreams from\|no usable name server" "$T/dnsd.log")" -gt "$reloads" ] && break
	sleep 0.1
done
[ "$(grep -c "host upstreams from\|no usable name server" "$T/dnsd.log")" -gt "$reloads" ] ||
	fail "dnsd did not re-read resolv.conf on ExecReload"
wait_answer c1 10.1.0.1 web.prod.internal A 10.1.0.3

log "share: volumed serves a FUSE share with its quota"
pw share create data --quota 1M >/dev/null
track_share data
mountpoint -q "$RUN_DIR/shares/data" || fail "share not mounted"
echo hello >"$RUN_DIR/shares/data/greeting"
assert_eq "$(cat "$RUN_DIR/shares/data/greeting")" hello "file read back"
assert_eq "$(df -k --output=size "$RUN_DIR/shares/data" | tail -1 | tr -d ' ')" 1024 "df size"
if head -c 2000000 /dev/zero >"$RUN_DIR/shares/data/big" 2>/dev/null; then
	fail "write past the quota succeeded"
fi

log "daemons stop cleanly"
stop_volumed
stop_dnsd
stop_netd
mountpoint -q "$RUN_DIR/shares/data" && fail "share still mounted after volumed stopped"

log "purge: no file of the package is left"
dpkg --purge podwire >"$T/dpkg.log" 2>&1 || fail "dpkg --purge failed: $(cat "$T/dpkg.log")"
dpkg-query -W -f='${Status}' podwire 2>/dev/null | grep -q "ok installed" && fail "still installed"
left=""
while read -r f; do
	[ -d "$f" ] && continue # directories such as /usr/bin are shared
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done <"$T/files"
[ -z "$left" ] || fail "left after purge:$left"
[ ! -e /usr/share/doc/podwire ] || fail "/usr/share/doc/podwire left after purge"
