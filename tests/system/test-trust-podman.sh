#!/usr/bin/env bash
# Content trust end to end (issue 14), offline: podman (--hooks-dir) runs
# podwire-hook, which asks netd and volumed for the VNets' and shares'
# trust policies and runs podwire-trust on the container's image. Images
# come from Debian's docker-registry in the test's netns, signed with GPG
# (skopeo --sign-by) or cosign-format (openssl), pulled into podman's
# private storage (trust-lib.sh).
#   - keysets: alice's GPG keyring (repository REG/app), the same keyring
#     for REG/copy, and the cosign key (REG/cos);
#   - VNet secure (enforce): two containers of the GPG-signed image join
#     and ping each other by name;
#   - refused on secure, each with the hook's one line in podman's error
#     and nothing attached (netd has no group, no veth): unsigned, signed
#     by another key, a hand-made rootfs (podman --rootfs); on copynet
#     (enforce, REG/copy): the signed image re-tagged into REG/copy;
#     enforce denials are counted;
#   - VNet open (audit): an unsigned image is admitted; the denial is
#     counted (stats) and the trust.denied event is on netd's stream;
#   - share vault (enforce, cosign key): the cosign-signed image mounts it
#     and writes, an unsigned one (and the GPG-signed one) is refused and
#     holds no share use; share ghost names a keyset netd does not have:
#     every image is refused;
#   - CRI-O's layout (the bundle in the run root, io.kubernetes.cri-o.
#     ImageRef), run by runc: the signed image joins; an ImageRef naming
#     another image is refused;
#   - a VNet without a policy runs no podwire-trust (a broken helper path
#     does not matter there); under a policy it fails the start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh" # wait_until
. "$(dirname "$0")/hook-lib.sh"
. "$(dirname "$0")/podman-lib.sh"
. "$(dirname "$0")/trust-lib.sh"
[ -x "$HOOK_BIN" ] || fail "podwire-hook not built"
[ -x "$BIN/podwire-trust" ] || fail "podwire-trust not built"
[ -x "$BIN/podwire-dnsd" ] || fail "podwire-dnsd not built"

make_host_ns
start_netd
start_dnsd
start_volumed
podman_setup
trust_setup

log "images: signed (GPG, REG/app), plain, evil (mallory), cos (cosign), copy (app re-tagged)"
trust_images

log "keysets and policies"
pw trust keyset add gpgk --gpg-keyring "$T/alice.asc" --repository "$REG/app" >/dev/null
pw trust keyset add copyk --gpg-keyring "$T/alice.asc" --repository "$REG/copy" >/dev/null
pw trust keyset add cosk --cosign-key "$T/cosign.pub" --repository "$REG/cos" >/dev/null
pw vnet create secure --subnet 10.88.2.0/24 --trust enforce --trust-keys gpgk >/dev/null
pw vnet create copynet --subnet 10.88.3.0/24 --trust enforce --trust-keys copyk >/dev/null
pw vnet create open --subnet 10.88.4.0/24 --trust audit --trust-keys gpgk >/dev/null
pw vnet create plainnet --subnet 10.88.5.0/24 >/dev/null
pw share create vault --trust enforce --trust-keys cosk >/dev/null
track_share vault
# volumed checks only the keyset name's syntax: this one does not exist.
pw share create ghost --trust enforce --trust-keys nokeys >/dev/null
track_share ghost

# The shipped hooks.d file with our binary, run dir and storage;
# podwire-trust's GPG homes go to $TMPDIR, checked empty at the end.
HOOK_ENV=("TMPDIR=$TMPDIR")
hook_args=(--run-dir "$RUN_DIR" --storage-root "$PODMAN_DIR/root" --run-root "$PODMAN_DIR/run")
podman_hooks_file "$T/hooks.d" "${hook_args[@]}"
podman_hooks_file "$T/hooks-nohelper.d" "${hook_args[@]}" --trust-helper /nonexistent/podwire-trust
PODMAN_FLAGS=(--hooks-dir "$T/hooks.d")

# run NAME IMAGE ANNOTATIONS...: a detached busybox container of IMAGE
# (or --rootfs DIR) with --network none; podman's output in $T/run-NAME.out.
run() {
	local name=$1 image=$2 a args=()
	shift 2
	for a in "$@"; do args+=(--annotation "$a"); done
	pm run -d --name "$name" --cgroup-parent "/$PODMAN_CGROUP" --network none \
		--ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --cap-add NET_RAW \
		"${args[@]}" $image sleep 600 </dev/null >"$T/run-$name.out" 2>&1
}
# refused NAME IMAGE REASON ANNOTATIONS...: podman run fails with the
# hook's line naming the object, the image, the digest and the reason.
refused() {
	local name=$1 image=$2 reason=$3 out
	shift 3
	if run "$name" "$image" "$@"; then
		fail "podman started $name ($image) despite trust enforce"
	fi
	out=$(cat "$T/run-$name.out")
	log "$name: $out"
	assert_contains "$out" "podwire-hook: createRuntime " "podman's error for $name"
	assert_contains "$out" "admits only signed images (trust enforce): " "podman's error for $name"
	assert_contains "$out" ": $reason" "the reason for $name"
	pm rm -f -t 0 "$name" >/dev/null 2>&1 || true
}
ip_of() { pexec "$1" ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1; }
netd_groups() { pw group ls --json; }
no_group_attached() { # no_group_attached WHAT
	local out
	out=$(netd_groups)
	[[ $out != *'"id"'* ]] || fail "$1: netd has a group: $out"
	[ -z "$(host_veths)" ] || fail "$1: veth left behind: $(host_veths)"
	[ -z "$(ls "$RUN_DIR/hook/containers" 2>/dev/null)" ] || fail "$1: hook records left"
}
# denied KIND NAME MODE: netd's denial counter (podwire stats trust).
denied() {
	pw stats trust --json | jq --arg k "$1" --arg n "$2" --arg m "$3" \
		'[.[] | select(.kind == $k and .name == $n and .mode == $m) | .denied] | add // 0'
}

# netd's event stream, from before the first denial.
pw events --json >"$T/events.out" 2>&1 &
track_pid $!

log "refused on secure (enforce): unsigned, wrong key, hand-made rootfs"
make_rootfs "$PODMAN_ROOTFS"
refused r-plain "$REG/plain:1" unsigned podwire.vnet=secure podwire.hostname=plain
assert_contains "$(cat "$T/run-r-plain.out")" "VNet 'secure' admits only signed images (trust enforce): image $REG/plain:1 (sha256:" \
	"the refusal names the VNet and the image"
no_group_attached "after the unsigned image"
refused r-evil "$REG/evil:1" "wrong key" podwire.vnet=secure
no_group_attached "after the image signed by mallory"
refused r-hand "--rootfs $PODMAN_ROOTFS" "no identity" podwire.vnet=secure
no_group_attached "after the hand-made rootfs"
log "refused on copynet (enforce, REG/copy): the re-tagged image"
refused r-copy "$REG/copy:1" "reference mismatch" podwire.vnet=copynet
no_group_attached "after the re-tagged image"
assert_eq "$(denied vnet secure enforce)" 3 "enforce denials on secure"
assert_eq "$(denied vnet copynet enforce)" 1 "enforce denials on copynet"

log "the signed image joins secure twice and pings by name"
run web "$REG/app:1" podwire.vnet=secure podwire.hostname=web ||
	fail "podman run web (signed) failed: $(cat "$T/run-web.out")"
run api "$REG/app:1" podwire.vnet=secure podwire.hostname=api ||
	fail "podman run api (signed) failed: $(cat "$T/run-api.out")"
web_ip=$(ip_of web)
api_ip=$(ip_of api)
case $api_ip in 10.88.2.*) ;; *) fail "api has no address on secure: '$api_ip'" ;; esac
pexec web ping -c 1 -W 2 api >/dev/null || fail "web cannot ping api by name"
pexec api ping -c 1 -W 2 web >/dev/null || fail "api cannot ping web by name ($web_ip)"
assert_eq "$(denied vnet secure enforce)" 3 "no denial counted for the signed image"

log "open (audit): the unsigned image is admitted and counted"
run audited "$REG/plain:1" podwire.vnet=open || fail "podman run on an audit VNet failed: $(cat "$T/run-audited.out")"
case $(ip_of audited) in 10.88.4.*) ;; *) fail "the audited container has no address on open" ;; esac
assert_eq "$(denied vnet open audit)" 1 "audit denials on open"
wait_until grep -q '"trust.denied"' "$T/events.out" || fail "no trust.denied event: $(cat "$T/events.out")"
ev=$(grep '"trust.denied"' "$T/events.out" | grep '"open"' | head -1)
assert_contains "$ev" '"audit"' "the audit event"
assert_contains "$ev" "$REG/plain:1" "the audit event names the image"
assert_contains "$ev" '"unsigned"' "the audit event names the reason"
# The signed image under audit is not counted.
run audited-ok "$REG/app:1" podwire.vnet=open || fail "podman run of the signed image on open failed"
assert_eq "$(denied vnet open audit)" 1 "audit denials after the signed image"

log "share vault (enforce, cosign): mounted for the cosign-signed image only"
run vault-ok "$REG/cos:1" podwire.volumes=vault:/vault ||
	fail "podman run with the enforce share (cosign-signed) failed: $(cat "$T/run-vault-ok.out")"
pexec vault-ok sh -c 'echo trusted-7 > /vault/f'
assert_eq "$(cat "$RUN_DIR/shares/vault/f")" trusted-7 "file written through the share"
refused vault-no "$REG/plain:1" unsigned podwire.volumes=vault:/vault
assert_contains "$(cat "$T/run-vault-no.out")" "share 'vault' admits only signed images (trust enforce)" \
	"the refusal names the share"
users=$(pw share show vault --json)
vault_ok_id=$(pm inspect --format '{{.Id}}' vault-ok)
assert_contains "$users" "$vault_ok_id" "the signed container uses vault"
[ "$(grep -o '"group"' <<<"$users" | wc -l)" = 1 ] || fail "vault has other users: $users"
assert_eq "$(denied share vault enforce)" 1 "enforce denials on vault"
# A GPG keyset does not trust a cosign signature: the wrong keyset for it.
refused vault-gpg "$REG/app:1" unsigned podwire.volumes=vault:/vault

log "a share naming a missing keyset refuses every image"
refused ghost-no "$REG/cos:1" "keyset 'nokeys' not found" podwire.volumes=ghost:/g
assert_contains "$(cat "$T/run-ghost-no.out")" "share 'ghost' admits only signed images (trust enforce): keyset 'nokeys' not found" \
	"the refusal for a missing keyset"
assert_eq "$(denied share ghost enforce)" 1 "enforce denials on ghost"

log "CRI-O's layout (bundle in the run root, ImageRef), run by runc"
# CRI-O keeps a container's bundle at RUN/DRIVER-containers/ID/userdata
# and names its image in io.kubernetes.cri-o.ImageRef. Made here from a
# container podman created in the same storage, run by runc with the
# storage container's id.
crio_bundle() { # crio_bundle NAME IMAGE_REF: prints the container id
	local id rootfs dir
	id=$(pm create --name "$1" --network none "$REG/app:1" sleep 600 </dev/null)
	rootfs=$(pm mount "$1")
	dir=$PODMAN_DIR/run/vfs-containers/$id/userdata
	make_bundle "$dir" "$rootfs" "\"podwire.vnet\":\"secure\",\"io.kubernetes.cri-o.ImageRef\":\"$2\""
	jq --arg root "$PODMAN_DIR/root" --arg run "$PODMAN_DIR/run" --arg tmp "TMPDIR=$TMPDIR" \
		'.hooks.createRuntime[0].args += ["--storage-root", $root, "--run-root", $run]
		| .hooks.createRuntime[0].env += [$tmp]' "$dir/config.json" >"$dir/config.new"
	mv "$dir/config.new" "$dir/config.json"
	echo "$id"
}
app_image=$(pm inspect --format '{{.Image}}' web)
plain_image=$(pm image inspect --format '{{.Id}}' "$REG/plain:1")
crio_ok=$(crio_bundle crio-ok "sha256:$app_image")
start_container "$crio_ok" "$PODMAN_DIR/run/vfs-containers/$crio_ok/userdata" ||
	fail "the CRI-O-style container of the signed image was refused"
cexec "$crio_ok" ping -c 1 -W 2 web >/dev/null || fail "the CRI-O-style container cannot ping web"
# ImageRef naming another image than the storage's records: no identity.
crio_bad=$(crio_bundle crio-bad "$plain_image")
if start_container "$crio_bad" "$PODMAN_DIR/run/vfs-containers/$crio_bad/userdata" 2>"$T/crio-bad.err"; then
	fail "a CRI-O-style container whose ImageRef is another image started"
fi
assert_contains "$(cat "$T/crio-bad.err")" "no identity: container ${crio_bad:0:12} runs image ${app_image:0:12}, not the runtime's image $plain_image" \
	"the refusal of a wrong ImageRef"
stop_container "$crio_ok"
stop_container "$crio_bad"

log "no policy: no podwire-trust run"
PODMAN_FLAGS=(--hooks-dir "$T/hooks-nohelper.d")
run free "$REG/plain:1" podwire.vnet=plainnet ||
	fail "podman run on a VNet without a policy needed podwire-trust: $(cat "$T/run-free.out")"
# Under a policy the hook cannot check without it: the start fails.
if run r-nohelper "$REG/app:1" podwire.vnet=secure; then
	fail "a container started on an enforce VNet without podwire-trust"
fi
assert_contains "$(cat "$T/run-r-nohelper.out")" "trust check: cannot run /nonexistent/podwire-trust: No such file or directory" \
	"a missing helper under enforce"
pm rm -f -t 0 r-nohelper >/dev/null 2>&1 || true
PODMAN_FLAGS=(--hooks-dir "$T/hooks.d")

log "cleanup: podman rm detaches everything"
for c in web api audited audited-ok vault-ok free; do
	pm_rm "$c" || fail "podman rm $c: $(cat "$T/rm.out")"
done
no_group_attached "after rm"
out=$(pw share show vault --json)
[[ $out != *'"group"'* ]] || fail "vault still used: $out"
[ -z "$(ls -A "$TMPDIR")" ] || fail "podwire-trust left $(ls "$TMPDIR") behind"
podman_host_untouched
log "ok"
