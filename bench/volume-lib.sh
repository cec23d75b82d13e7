# Shared by bench/volume.sh and bench/volume-meta.sh (sourced after T, the
# bench's temporary directory, is set): the cleanup trap, mount waits and
# libfuse's passthrough_ll example built from the source libfuse3-dev ships.
pids=()
mounts=()
cleanup() {
	set +e
	for m in "${mounts[@]}"; do umount -l "$m" 2>/dev/null; done
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	for m in "$T"/run/shares/*; do umount -l "$m" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

wait_mount() {
	for _ in $(seq 200); do mountpoint -q "$1" && return 0; sleep 0.05; done
	echo "bench: $1 did not get mounted" >&2
	exit 1
}

# start_passthrough_ll SOURCE MOUNTPOINT: built in $T/pll-build (not kept),
# with its writeback cache, as the libfuse example recommends.
start_passthrough_ll() {
	local ex=/usr/share/doc/libfuse3-dev/examples
	mkdir -p "$T/pll-build"
	cp "$ex/passthrough_ll.c" "$ex/passthrough_helpers.h" "$T/pll-build/"
	cc -O2 -DHAVE_FALLOCATE -DHAVE_POSIX_FALLOCATE -DHAVE_COPY_FILE_RANGE \
		-Wno-unused-result $(pkg-config --cflags fuse3) -o "$T/pll-build/passthrough_ll" \
		"$T/pll-build/passthrough_ll.c" $(pkg-config --libs fuse3) -lpthread
	"$T/pll-build/passthrough_ll" -f -o source="$1" -o writeback "$2" >"$T/pll.log" 2>&1 &
	pids+=($!)
	mounts+=("$2")
	wait_mount "$2"
}
