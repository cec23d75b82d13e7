#!/usr/bin/env bash
# What content trust costs a container start: runs each of these N times
# (default 200) and prints p50/p99 in milliseconds:
#   hook-exec        podwire-hook --help: exec of the static hook, the floor
#                    every start pays today
#   trust-exec       podwire-trust --help: exec of the dynamically linked
#                    helper (loader, libcrypto, gpgme)
#   identity         podwire-trust identity: the containers-storage reader
#   verify-cosign    podwire-trust verify --cosign-key: reader + OpenSSL
#   verify-gpg       podwire-trust verify --gpg-keyring: reader + gpgme (a
#                    private gpg home, key import and verification: gpg runs
#                    twice)
# and, when STATIC=1, the same helper linked statically (-static, libcrypto.a
# libgpgme.a libassuan.a libgpg-error.a) for the trust-exec and verify-cosign
# rows, to weigh linking it into the static hook instead.
#   bench/trust.sh [BUILD_DIR] [N]
# The storage is a fixture in containers-storage's layout (vfs driver) with
# one image signed both ways, made here with gpg and openssl.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
N=${2:-200}
T=$(mktemp -d /tmp/pw-bench-trust.XXXXXX)
export GNUPGHOME=$T/gnupg TMPDIR=$T/tmp
cleanup() {
	gpgconf --kill gpg-agent 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p -m 0700 "$GNUPGHOME"
mkdir -p "$TMPDIR"

image=$(printf 'image' | sha256sum | cut -d' ' -f1)
container=$(printf 'container' | sha256sum | cut -d' ' -f1)
top=$(printf 'top' | sha256sum | cut -d' ' -f1)
layer=$(printf 'layer' | sha256sum | cut -d' ' -f1)
root=$T/storage
mkdir -p "$root/vfs-containers/$container/userdata" "$root/vfs-images/$image" "$root/vfs-layers"
key_name() { printf '=%s' "$(printf '%s' "$1" | base64 -w0)"; }
printf '{"schemaVersion":2,"config":{"digest":"sha256:%s"}}' "$image" >"$T/manifest"
digest=sha256:$(sha256sum "$T/manifest" | cut -d' ' -f1)
cp "$T/manifest" "$root/vfs-images/$image/$(key_name "manifest-$digest")"

gpg --batch --quiet --passphrase '' --quick-gen-key 'bench <bench@example.invalid>' ed25519 sign never 2>/dev/null
gpg --batch --export --armor >"$T/keyring.asc"
printf '{"critical":{"identity":{"docker-reference":"r.example/app:1"},"image":{"docker-manifest-digest":"%s"},"type":"atomic container signature"},"optional":{}}' \
	"$digest" | gpg --batch --quiet --sign >"$T/sig.gpg"
openssl ecparam -name prime256v1 -genkey -noout -out "$T/cosign.key" 2>/dev/null
openssl ec -in "$T/cosign.key" -pubout -out "$T/cosign.pub" 2>/dev/null
printf '{"critical":{"identity":{"docker-reference":"r.example/app"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}' \
	"$digest" >"$T/payload"
printf '\0sigstore-json\n{"mimeType":"application/vnd.dev.cosign.simplesigning.v1+json","payload":"%s","annotations":{"dev.cosignproject.cosign/signature":"%s"}}' \
	"$(base64 -w0 <"$T/payload")" "$(openssl dgst -sha256 -sign "$T/cosign.key" "$T/payload" | base64 -w0)" \
	>"$T/sig.cosign"
cat "$T/sig.gpg" "$T/sig.cosign" >"$root/vfs-images/$image/$(key_name "signature-${digest#sha256:}")"
sizes="[$(stat -c %s "$T/sig.gpg"),$(stat -c %s "$T/sig.cosign")]"
jq -n --arg id "$image" --arg top "$top" --arg d "$digest" --argjson sizes "$sizes" \
	'[{id: $id, names: ["r.example/app:1"], layer: $top,
	   metadata: ({"signatures-sizes": {($d): $sizes}} | tojson),
	   "big-data-names": ["manifest-\($d)", "signature-\($d | ltrimstr("sha256:"))"]}]' \
	>"$root/vfs-images/images.json"
jq -n --arg id "$container" --arg image "$image" --arg layer "$layer" \
	'[{id: $id, image: $image, layer: $layer}]' >"$root/vfs-containers/containers.json"
jq -n --arg top "$top" --arg layer "$layer" '[{id: $top}, {id: $layer, parent: $top}]' \
	>"$root/vfs-layers/layers.json"

bundle=$root/vfs-containers/$container/userdata
TRUST=(--storage-root "$root" --bundle "$bundle")

# The rows run round-robin, one run of each per round, so load from other
# work on the machine spreads over all of them alike.
names=()
cmds=()
row() { # row NAME CMD...: one row; CMD must succeed once first
	local name=$1
	shift
	"$@" >/dev/null 2>&1 || { echo "$name: '$*' failed" >&2; exit 1; }
	names+=("$name")
	cmds+=("$(printf '%q ' "$@")")
}
row hook-exec "$BUILD/podwire-hook" --help
row trust-exec "$BUILD/podwire-trust" --help
row identity "$BUILD/podwire-trust" identity "${TRUST[@]}"
row verify-cosign "$BUILD/podwire-trust" verify "${TRUST[@]}" --cosign-key "$T/cosign.pub"
row verify-gpg "$BUILD/podwire-trust" verify "${TRUST[@]}" --gpg-keyring "$T/keyring.asc"
if [ "${STATIC:-0}" = 1 ]; then
	cc -static -o "$T/podwire-trust-static" "$BUILD/runtime-hooks/trust/main.o" \
		"$BUILD/libruntime-hooks/trust.a" "$BUILD/liblib.a" -ljansson -lgpgme -lassuan \
		-lgpg-error -lcrypto -lpthread 2>/dev/null
	row static-exec "$T/podwire-trust-static" --help
	row static-cosign "$T/podwire-trust-static" verify "${TRUST[@]}" --cosign-key "$T/cosign.pub"
fi

echo "N=$N runs each, round-robin ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
for i in $(seq "$N"); do
	for r in "${!cmds[@]}"; do
		t0=$(date +%s%N)
		eval "${cmds[$r]}" >/dev/null 2>&1
		echo $((($(date +%s%N) - t0) / 1000)) >>"$T/times.$r"
	done
done
for r in "${!cmds[@]}"; do
	sort -n "$T/times.$r" | awk -v name="${names[$r]}" '{ v[NR] = $1 }
		END { printf "%-16s p50 %6.2f ms   p99 %6.2f ms\n", name, v[int(NR * 0.5)] / 1000,
		      v[int(NR * 0.99)] / 1000 }'
done
[ -z "$(ls -A "$TMPDIR")" ] || { echo "podwire-trust left files in TMPDIR" >&2; exit 1; }
