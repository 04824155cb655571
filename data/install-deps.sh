#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian (12, bookworm) packages needed to build dynmon, run it and run its tests.
# Quiet, and it only asks apt when something is missing. Run as root.
set -euo pipefail

packages=(
	# build
	meson ninja-build pkg-config gcc libc6-dev
	clang libbpf-dev linux-libc-dev bpftool
	# tests/check-format.sh
	clang-format git
	libsystemd-dev libnl-3-dev libnl-route-3-dev libjansson-dev
	# precompiled objects: SHA-256 and Ed25519 (libcrypto); the tests make keys with openssl
	libssl-dev openssl
	# the REST API
	libmicrohttpd-dev
	# dynmon-injector (REST client)
	libcurl4-openssl-dev
	# unit tests
	libcmocka-dev
	# fuzz tests (tests/fuzz): clang's libFuzzer and sanitizer runtimes
	libclang-rt-14-dev
	# end-to-end tests: namespaces and tc, a private bus, busctl and gdbus, setpriv, sysctl, and
	# the setuid-root /usr/bin/passwd of e2e-privilege's setuid race
	iproute2 dbus-daemon systemd libglib2.0-bin util-linux procps passwd
	# e2e-polkit: Debian's polkitd, run on the private bus
	polkitd
	# the man pages (scdoc) and tests/check-man.py (groff)
	scdoc groff-base
	# e2e-desktop: the Python example (python3-dbus, with GLib's main loop)
	python3-dbus python3-gi
	# tests/check-completion.sh: zsh -n
	zsh
	# e2e-deb: the Debian package built, checked and installed into a debootstrap root
	dpkg-dev debhelper lintian debootstrap
	# script(1): the terminal that e2e-cli-metrics runs `dynmonctl watch` on
	bsdutils
	# e2e-systemd: a Debian 12 root (debootstrap) booted with systemd as PID 1 (systemd-nspawn)
	debootstrap systemd-container
	# the demo
	iputils-ping
	# the tests' helpers and the strict OpenMetrics parser (Debian's /usr/bin/python3)
	python3 python3-prometheus-client
	# REST tests: curl, and promtool for the Prometheus text format. Debian ships promtool only
	# in prometheus, which also installs (and on a systemd host starts) a Prometheus server;
	# e2e-prometheus runs one of its own (/usr/bin/prometheus) that scrapes dynmond.
	curl prometheus
	# e2e-container: tests/check-deploy.py reads the Kubernetes manifests (YAML) and checks them
	# against its schema
	python3-yaml python3-jsonschema
	# the benchmarks (bench/run.sh scrape): not the tests
	wrk
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[[ $status == ii* ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) != 0 ]]; then
	echo "install-deps.sh: missing packages (run as root to install): ${missing[*]}" >&2
	exit 1
fi
echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
