# Helpers for the content-trust system tests (test-trust-*.sh); source after
# lib.sh, hook-lib.sh and podman-lib.sh, then call trust_setup after
# make_host_ns and podman_setup. Offline, the way a user signs images:
#   - Debian's docker-registry on 127.0.0.1:5000 inside the test's netns;
#   - GPG keys alice (trusted) and mallory, and cosign-format P-256 key
#     pairs cosign and other (openssl);
#   - skopeo with a private policy and registries.d (lookaside signatures
#     in a file:// sigstore, use-sigstore-attachments for cosign);
#   - trust_images (the five images the tests share), made with
#     make_image, push (signed with --sign-by when a GPG home is given),
#     cosign_attach (a cosign signature made by openssl and pushed as the
#     sha256-HEX.sig attachment with curl: Debian's skopeo cannot make it)
#     and pull (into the test's private containers-storage, $PODMAN_DIR).

REG=127.0.0.1:5000
STORE="containers-storage:[vfs@$PODMAN_DIR/root+$PODMAN_DIR/run]"
in_host() { nsenter --net="/run/netns/$HOST_NS" "$@"; }

trust_setup() {
	need busybox nsenter jq skopeo docker-registry gpg gpgconf openssl curl sha256sum
	# podwire-trust makes its private GPG homes here.
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	_trust_registry
	_trust_keys
	_trust_skopeo
}

# A registry on loopback inside the test's netns.
_trust_registry() {
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
	in_host docker-registry serve "$T/registry.yml" >"$T/registry.out" 2>&1 &
	track_pid $!
	for _ in $(seq 100); do
		in_host curl -sf "http://$REG/v2/" >/dev/null && break
		sleep 0.1
	done
	in_host curl -sf "http://$REG/v2/" >/dev/null || fail "registry did not start"
}

gpg_home() { # gpg_home NAME UID
	mkdir -m 0700 "$T/$1"
	GNUPGHOME=$T/$1 gpg --batch --quiet --passphrase '' --quick-gen-key "$2" ed25519 sign never 2>/dev/null
	on_cleanup "GNUPGHOME=$T/$1 gpgconf --kill gpg-agent"
	GNUPGHOME=$T/$1 gpg --batch --export --armor >"$T/$1.asc"
}
fpr() { GNUPGHOME=$T/$1 gpg --list-keys --with-colons | awk -F: '/^fpr/ {print $10; exit}'; }
_trust_keys() {
	gpg_home alice 'alice <alice@example.invalid>'
	gpg_home mallory 'mallory <mallory@example.invalid>'
	local k
	for k in cosign other; do
		openssl ecparam -name prime256v1 -genkey -noout -out "$T/$k.key" 2>/dev/null
		openssl ec -in "$T/$k.key" -pubout -out "$T/$k.pub" 2>/dev/null
	done
}

# skopeo with a private policy and registries.d.
_trust_skopeo() {
	mkdir -p "$T/registries.d" "$T/sigstore"
	cat >"$T/registries.d/default.yaml" <<EOF2
default-docker:
  lookaside: file://$T/sigstore
  lookaside-staging: file://$T/sigstore
  use-sigstore-attachments: true
EOF2
	echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$T/policy.json"
}
sk() { in_host skopeo --policy "$T/policy.json" --registries.d "$T/registries.d" "$@"; }

# make_image NAME: a busybox image whose /name says NAME (so every image
# has its own manifest digest), imported into the storage as localhost/NAME.
# It has the applets the tests run and the files the hook binds over.
make_image() {
	local applet
	rm -rf "$T/img" && mkdir -p "$T/img/bin" "$T/img/etc"
	cp "$(command -v busybox)" "$T/img/bin/busybox"
	for applet in sh sleep cat ping ip nslookup; do
		ln -s busybox "$T/img/bin/$applet"
	done
	: >"$T/img/etc/resolv.conf"
	: >"$T/img/etc/hosts"
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


# trust_images: the images both trust tests use, pushed and pulled:
#   REG/app:1    signed by alice (GPG)
#   REG/plain:1  unsigned
#   REG/evil:1   signed by mallory
#   REG/cos:1    cosign signature by the cosign key
#   REG/copy:1   app:1 and alice's signature copied into another
#                repository (re-tagged)
trust_images() {
	make_image signed && push signed app alice
	make_image plain && push plain plain
	make_image evil && push evil evil mallory
	make_image cos && push cos cos && cosign_attach cos 1 "$T/cosign.key"
	sk copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$REG/app:1" \
		"docker://$REG/copy:1"
	local r
	for r in app:1 plain:1 evil:1 cos:1 copy:1; do pull "$r"; done
}
