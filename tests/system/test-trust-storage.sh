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
need busybox nsenter jq skopeo docker-registry gpg gpgconf openssl curl sha256sum strace
TRUST=$BIN/podwire-trust
# podwire-trust makes its private GPG homes here.
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
[ -x "$TRUST" ] || fail "podwire-trust not built"

make_host_ns
podman_setup

# --- a registry on loopback inside the test's netns ---
REG=127.0.0.1:5000
mkdir -p "$T/registry"
cat >"$T/registry.yml" <<EOF2
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $T/registry
http:
  addr: $REG
EOF2
in_host() { nsenter --net="/run/netns/$HOST_NS" "$@"; }
in_host docker-registry serve "$T/registry.yml" >"$T/registry.out" 2>&1 &
track_pid $!
for _ in $(seq 100); do
	in_host curl -sf "http://$REG/v2/" >/dev/null && break
	sleep 0.1
done
in_host curl -sf "http://$REG/v2/" >/dev/null || fail "registry did not start"

# --- keys: alice (trusted) and mallory (GPG); a cosign key pair and another ---
gpg_home() { # gpg_home NAME UID
	mkdir -m 0700 "$T/$1"
	GNUPGHOME=$T/$1 gpg --batch --quiet --passphrase '' --quick-gen-key "$2" ed25519 sign never 2>/dev/null
	on_cleanup "GNUPGHOME=$T/$1 gpgconf --kill gpg-agent"
	GNUPGHOME=$T/$1 gpg --batch --export --armor >"$T/$1.asc"
}
gpg_home alice 'alice <alice@example.invalid>'
gpg_home mallory 'mallory <mallory@example.invalid>'
fpr() { GNUPGHOME=$T/$1 gpg --list-keys --with-colons | awk -F: '/^fpr/ {print $10; exit}'; }
openssl ecparam -name prime256v1 -genkey -noout -out "$T/cosign.key" 2>/dev/null
openssl ec -in "$T/cosign.key" -pubout -out "$T/cosign.pub" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$T/other.key" 2>/dev/null
openssl ec -in "$T/other.key" -pubout -out "$T/other.pub" 2>/dev/null

# --- skopeo with a private policy and registries.d ---
mkdir -p "$T/registries.d" "$T/sigstore"
cat >"$T/registries.d/default.yaml" <<EOF2
default-docker:
  lookaside: file://$T/sigstore
  lookaside-staging: file://$T/sigstore
  use-sigstore-attachments: true
EOF2
echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$T/policy.json"
STORE="containers-storage:[vfs@$PODMAN_DIR/root+$PODMAN_DIR/run]"
sk() { in_host skopeo --policy "$T/policy.json" --registries.d "$T/registries.d" "$@"; }

# make_image NAME: a busybox image whose /name says NAME (so every image
# has its own manifest digest), imported into the storage as localhost/NAME.
make_image() {
	rm -rf "$T/img" && mkdir -p "$T/img/bin"
	cp "$(command -v busybox)" "$T/img/bin/busybox"
	ln -s busybox "$T/img/bin/sh"
	ln -s busybox "$T/img/bin/sleep"
	echo "$1" >"$T/img/name"
	tar -C "$T/img" -cf "$T/img.tar" .
	pm import "$T/img.tar" "localhost/$1:1" >/dev/null
}
# push NAME REPO [GNUPG_HOME]: to the registry, signed when a home is given.
push() {
	local sign=()
	[ $# -ge 3 ] && sign=(--sign-by "$(fpr "$3")")
	GNUPGHOME=$T/${3:-alice} sk copy -q --dest-tls-verify=false "${sign[@]}" \
		"${STORE}localhost/$1:1" "docker://$REG/$2:1"
}
pull() { sk copy -q --src-tls-verify=false "docker://$REG/$1" "${STORE}$REG/$1"; }
# container NAME IMAGE: prints the bundle path of a new container.
container() {
	local id
	id=$(pm create --name "$1" --cgroup-parent "/$PODMAN_CGROUP" --network none \
		--ulimit nofile=4096:4096 --ulimit nproc=4096:4096 "$2" sleep 600 </dev/null)
	echo "$PODMAN_DIR/root/vfs-containers/$id/userdata"
}

# upload_blob REPO FILE: a monolithic blob upload (distribution API v2).
upload_blob() {
	local digest location
	digest=sha256:$(sha256sum "$2" | cut -d' ' -f1)
	location=$(in_host curl -sf -X POST -D - -o /dev/null "http://$REG/v2/$1/blobs/uploads/" |
		tr -d '\r' | awk 'tolower($1) == "location:" {print $2}')
	[[ $location == http* ]] || location=http://$REG$location
	in_host curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$2" \
		"$location&digest=$digest" >/dev/null
	echo "$digest"
}
# cosign_attach REPO TAG KEY: signs the tag's manifest digest the way cosign
# does and pushes the signature as REPO:sha256-HEX.sig.
cosign_attach() {
	local repo=$1 tag=$2 key=$3 digest payload_digest config_digest sig
	digest=sha256:$(sk inspect --tls-verify=false --raw "docker://$REG/$repo:$tag" | sha256sum | cut -d' ' -f1)
	printf '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}' \
		"$REG/$repo" "$digest" >"$T/payload.json"
	sig=$(openssl dgst -sha256 -sign "$key" "$T/payload.json" | base64 -w0)
	payload_digest=$(upload_blob "$repo" "$T/payload.json")
	printf '{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
		"$payload_digest" >"$T/sigconfig.json"
	config_digest=$(upload_blob "$repo" "$T/sigconfig.json")
	jq -n --arg cd "$config_digest" --argjson cs "$(stat -c %s "$T/sigconfig.json")" \
		--arg pd "$payload_digest" --argjson ps "$(stat -c %s "$T/payload.json")" --arg sig "$sig" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		  config: {mediaType: "application/vnd.oci.image.config.v1+json", size: $cs, digest: $cd},
		  layers: [{mediaType: "application/vnd.dev.cosign.simplesigning.v1+json", size: $ps,
			    digest: $pd, annotations: {"dev.cosignproject.cosign/signature": $sig}}]}' \
		>"$T/sigmanifest.json"
	in_host curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary "@$T/sigmanifest.json" \
		"http://$REG/v2/$repo/manifests/sha256-${digest#sha256:}.sig" >/dev/null ||
		fail "pushing the cosign signature of $repo:$tag failed"
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
make_image signed && push signed app alice
make_image plain && push plain plain
make_image evil && push evil evil mallory
make_image cos && push cos cos && cosign_attach cos 1 "$T/cosign.key"
# Re-tagged: alice's image and signature copied into another repository.
sk copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$REG/app:1" "docker://$REG/copy:1"
for r in app:1 plain:1 evil:1 cos:1 copy:1; do pull "$r"; done

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

log "refused"
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
