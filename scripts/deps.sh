#!/usr/bin/env bash
# Installs the Debian packages podwire needs to build, test and run its
# demo, if any is missing. A no-op (no apt-get at all) when all are there.
set -euo pipefail

packages=(
	# build
	build-essential pkg-config clang
	libnl-3-dev libnl-route-3-dev libmnl-dev libnftnl-dev libjansson-dev libfuse3-dev
	# the daemons tell systemd when they are ready (sd_notify, lib/service.c)
	libsystemd-dev
	# unit tests
	libcmocka-dev
	# system tests and demo: ip, nft, ping, dig, FUSE, a local DNS upstream,
	# container runtimes and a busybox root file system
	iproute2 nftables iputils-ping dnsutils fuse3 dnsmasq-base procps psmisc
	util-linux valgrind crun runc busybox-static
	# nft tests: JSON listings of sets, a UDP echo in an "outside" netns
	jq python3
	# netd rate-limit test: iperf3 measures the limit
	iperf3
	# netd metrics test: an HTTP client scrapes --metrics-listen
	curl
	# service test and `make deb`: the Debian package build, its lint, unit
	# file checks (systemd-analyze) and setpriv for the units' capability sets
	dpkg-dev debhelper fakeroot lintian systemd
	# podman tests: podman (conmon, runc and containers-common come as its dependencies)
	podman
	# content trust (podwire-trust, docs/trust.md): OpenSSL verifies cosign
	# signatures (and netd checks keysets' cosign keys with libcrypto),
	# gpgme (which runs gpg) GPG ones; its tests sign images
	# with gpg, openssl and skopeo and serve them from a local registry;
	# strace shows which programs gpgme starts
	libssl-dev openssl libgpgme-dev gnupg skopeo docker-registry strace
	# cluster VNets (docs/cluster.md): netd talks to etcd's v3 JSON gateway
	# with libcurl; the etcd client test runs a 3-member etcd cluster
	libcurl4-openssl-dev etcd-server
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Debian's docker-registry enables and starts a registry on every address,
# port 5000, when installed, and etcd-server an etcd member on localhost
# ports 2379/2380; the tests run private ones in their own netns, so one
# just installed for them is stopped and disabled again.
for p in "${missing[@]}"; do
	if [ -d /run/systemd/system ]; then
		case "$p" in
		docker-registry) systemctl disable --now docker-registry.service >/dev/null 2>&1 || true ;;
		etcd-server) systemctl disable --now etcd.service >/dev/null 2>&1 || true ;;
		esac
	fi
done
