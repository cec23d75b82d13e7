#!/usr/bin/env bash
# podwire-trust on real images, made offline the way a user makes them:
# busybox images pushed to Debian's docker-registry on 127.0.0.1:5000 inside
# the test's netns, signed with `skopeo copy --sign-by` (GPG, lookaside
# signatures in a file:// sigstore) or with a cosign-format signature made
# by openssl and pushed as the sha256-HEX.sig attachment with curl (Debian's
# skopeo cannot make those), pulled into a private containers-storage with
# skopeo (use-sigstore-attachments), and given a container each with
# `podman create`. Then, from the bundle podman made:
#   - the identity names the image, its manifest digests and signatures;
#   - a GPG-signed and a cosign-signed image are trusted under their key;
#   - unsigned, signed by another key, re-tagged into another repository,
#     a signature moved onto another image (digest), another rootfs and a
#     hand-made bundle are refused, each with its own reason on one line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook-lib.sh"
. "$(dirname "$0")/podman-lib.sh"
. "$(dirname "$0")/trust-lib.sh"
need strace
TRUST=$BIN/podwire-trust
[ -x "$TRUST" ] || fail "podwire-trust not built"

make_host_ns
podman_setup
trust_setup

# container NAME IMAGE: prints the bundle path of a new container.
container() {
	local id
	id=$(pm create --name "$1" --cgroup-parent "/$PODMAN_CGROUP" --network none \
		--ulimit nofile=4096:4096 --ulimit nproc=4096:4096 "$2" sleep 600 </dev/null)
	echo "$PODMAN_DIR/root/vfs-containers/$id/userdata"
}

# verify BUNDLE ARGS...: podwire-trust verify; prints its stderr line, and
# its exit status as the last line.
verify() {
	local bundle=$1 rc=0
	shift
	"$TRUST" verify --storage-root "$PODMAN_DIR/root" --bundle "$bundle" "$@" \
		>"$T/verify.out" 2>"$T/verify.err" || rc=$?
	cat "$T/verify.err"
	log "$(cat "$T/verify.out" "$T/verify.err")"
	echo "rc=$rc"
}
trusted() { # trusted BUNDLE ARGS...
	local out
	out=$(verify "$@")
	assert_contains "$out" "rc=0" "podwire-trust verify $*"
	grep -q '^trusted: ' "$T/verify.out" || fail "no 'trusted:' line: $(cat "$T/verify.out")"
}
refused() { # refused REASON BUNDLE ARGS...
	local reason=$1 out
	shift
	out=$(verify "$@")
	assert_contains "$out" "rc=1" "podwire-trust verify $* (refused)"
	assert_contains "$out" ": $reason: " "the reason"
	[ "$(grep -c . "$T/verify.err")" = 1 ] || fail "not one line: $(cat "$T/verify.err")"
}

log "making and signing images"
trust_images

b_signed=$(container c-signed "$REG/app:1")
b_plain=$(container c-plain "$REG/plain:1")
b_evil=$(container c-evil "$REG/evil:1")
b_cos=$(container c-cos "$REG/cos:1")
b_copy=$(container c-copy "$REG/copy:1")

log "identity"
"$TRUST" identity --storage-root "$PODMAN_DIR/root" --bundle "$b_signed" >"$T/id.json" ||
	fail "identity of the signed container"
image_id=$(pm inspect --format '{{.Image}}' c-signed)
assert_eq "$(jq -r .image "$T/id.json")" "$image_id" "image id"
assert_eq "$(jq -r .container "$T/id.json")" "$(pm inspect --format '{{.Id}}' c-signed)" "container id"
registry_digest=sha256:$(sk inspect --tls-verify=false --raw "docker://$REG/app:1" | sha256sum | cut -d' ' -f1)
jq -e --arg d "$registry_digest" '.manifest_digests | index($d) != null' "$T/id.json" >/dev/null ||
	fail "the registry's manifest digest $registry_digest is not in the identity"
assert_eq "$(jq -r '.signatures | map(.format) | join(",")' "$T/id.json")" "simple-signing" "signature formats"
"$TRUST" identity --storage-root "$PODMAN_DIR/root" --bundle "$b_cos" >"$T/id-cos.json"
assert_eq "$(jq -r '.signatures | map(.format) | join(",")' "$T/id-cos.json")" "sigstore-json" \
	"cosign signature stored by skopeo"

log "trusted"
trusted "$b_signed" --gpg-keyring "$T/alice.asc"
# gpg starts no gpg-agent for the verifier's private home (it would run
# on after podwire-trust, in the hook's cgroup, until it notices the home is
# gone). LeakSanitizer cannot run under ptrace: leaks are checked above.
ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 strace -f -qq -e trace=execve -o "$T/exec.trace" "$TRUST" verify --storage-root "$PODMAN_DIR/root" \
	--bundle "$b_signed" --gpg-keyring "$T/alice.asc" >/dev/null ||
	fail "verify under strace"
if grep -q 'execve("[^"]*gpg-agent"' "$T/exec.trace"; then
	fail "podwire-trust started a gpg-agent: $(grep gpg-agent "$T/exec.trace")"
fi
trusted "$b_signed" --gpg-keyring "$T/alice.asc" --repository "$REG/app"
trusted "$b_cos" --cosign-key "$T/cosign.pub" --repository "$REG/cos"
# Both keys of a keyset: either signature format will do.
trusted "$b_cos" --cosign-key "$T/cosign.pub" --gpg-keyring "$T/alice.asc"
# The rootfs the runtime gets in config.json (what the hook will read) is
# the container's layer: podman init makes the OCI container.
pm init c-signed >/dev/null || fail "podman init c-signed"
rootfs=$(jq -r .root.path "$b_signed/config.json")
log "config.json root.path: $rootfs"
trusted "$b_signed" --gpg-keyring "$T/alice.asc" --rootfs "$rootfs"

# CRI-O's way: the container by id, its image named by the runtime
# (io.kubernetes.cri-o.ImageRef, passed as --image-id), with or without
# the "sha256:" prefix.
signed_id=$(pm inspect --format '{{.Id}}' c-signed)
"$TRUST" verify --storage-root "$PODMAN_DIR/root" --container "$signed_id" --driver vfs \
	--image-id "$image_id" --gpg-keyring "$T/alice.asc" >/dev/null ||
	fail "verify --container --image-id"
"$TRUST" verify --storage-root "$PODMAN_DIR/root" --container "$signed_id" --driver vfs \
	--image-id "sha256:$image_id" --rootfs "$rootfs" --gpg-keyring "$T/alice.asc" >/dev/null ||
	fail "verify --container --image-id sha256:"

log "refused"
rc=0
"$TRUST" verify --storage-root "$PODMAN_DIR/root" --container "$signed_id" --driver vfs \
	--image-id "$(pm inspect --format '{{.Image}}' c-plain)" --gpg-keyring "$T/alice.asc" \
	>/dev/null 2>"$T/verify.err" || rc=$?
assert_eq "$rc" 1 "exit status of --image-id naming another image"
assert_contains "$(cat "$T/verify.err")" ": no identity: container ${signed_id:0:12} runs image ${image_id:0:12}, not the runtime's image" \
	"--image-id naming another image"
refused unsigned "$b_plain" --gpg-keyring "$T/alice.asc"
refused "wrong key" "$b_evil" --gpg-keyring "$T/alice.asc"
refused "bad signature" "$b_cos" --cosign-key "$T/other.pub"
refused unsigned "$b_cos" --gpg-keyring "$T/alice.asc"
refused "reference mismatch" "$b_copy" --gpg-keyring "$T/alice.asc" --repository "$REG/copy"
refused "reference mismatch" "$b_signed" --gpg-keyring "$T/alice.asc" --repository "$REG/ap"
refused "no identity" "$b_signed" --gpg-keyring "$T/alice.asc" --rootfs "$T/img"
# A hand-made bundle has no identity; nor has a bundle outside the storage.
mkdir -p "$T/hand/rootfs"
refused "no identity" "$T/hand" --gpg-keyring "$T/alice.asc"
mkdir -p "$T/fake/vfs-containers"
cp -a "$(dirname "$b_signed")" "$T/fake/vfs-containers/"
refused "no identity" "$T/fake/vfs-containers/$(basename "$(dirname "$b_signed")")/userdata" \
	--gpg-keyring "$T/alice.asc"

# A signature moved onto another image: alice's signature of app:1 stored
# as if it were plain:1's (what a storage writer without alice's key can do).
plain_id=$(pm inspect --format '{{.Image}}' c-plain)
plain_digest=$("$TRUST" identity --storage-root "$PODMAN_DIR/root" --bundle "$b_plain" |
	jq -r '.manifest_digests[-1]')
signed_sig=$(jq -r --arg d "$registry_digest" '.signatures[] | select(.manifest_digest == $d) | .size' "$T/id.json")
key_name() { printf '=%s' "$(printf '%s' "$1" | base64 -w0)"; }
cp "$PODMAN_DIR/root/vfs-images/$image_id/$(key_name "signature-${registry_digest#sha256:}")" \
	"$PODMAN_DIR/root/vfs-images/$plain_id/$(key_name "signature-${plain_digest#sha256:}")"
jq --arg id "$plain_id" --arg d "$plain_digest" --argjson size "$signed_sig" \
	'map(if .id == $id then .metadata = ((.metadata // "{}") | fromjson |
		.["signatures-sizes"] = {($d): [$size]} | tojson) else . end)' \
	"$PODMAN_DIR/root/vfs-images/images.json" >"$T/images.json"
cp "$T/images.json" "$PODMAN_DIR/root/vfs-images/images.json"
refused "digest mismatch" "$b_plain" --gpg-keyring "$T/alice.asc"

# --json: one object for the next step's hook to log and count.
rc=0
"$TRUST" verify --storage-root "$PODMAN_DIR/root" --bundle "$b_evil" --gpg-keyring "$T/alice.asc" \
	--json >"$T/verdict.json" 2>/dev/null || rc=$?
assert_eq "$rc" 1 "exit status of a refused --json verify"
assert_eq "$(jq -r '[.trusted, .reason, .image] | join(" ")' "$T/verdict.json")" \
	"false wrong key $REG/evil:1" "JSON verdict"
"$TRUST" verify --storage-root "$PODMAN_DIR/root" --bundle "$b_cos" --cosign-key "$T/cosign.pub" \
	--json >"$T/verdict.json" || fail "--json verify of the cosign image"
assert_eq "$(jq -r '[.trusted, .reason] | join(" ")' "$T/verdict.json")" "true trusted" "JSON verdict"

# A usage error is not a verdict.
rc=0
"$TRUST" verify --storage-root "$PODMAN_DIR/root" --bundle "$b_signed" 2>/dev/null || rc=$?
assert_eq "$rc" 2 "exit status without a key"
# The verifier's private GPG homes are gone.
[ -z "$(ls -A "$TMPDIR")" ] || fail "podwire-trust left $(ls "$TMPDIR") behind"
log "ok"
