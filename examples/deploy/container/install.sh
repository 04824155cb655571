#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The container image's install steps: dynmon's package from DIR (build-deb.sh's output), with
# the Debian packages it depends on, the container's bus configuration and its entrypoint; then
# the image is made small again (no apt lists, no package files).
# Usage: install.sh DIR [--offline]   (--offline: no `apt-get update`, for a root whose apt
# already has what the package depends on, as the tests' Debian 12 root does)
set -eu
dir=$1
export DEBIAN_FRONTEND=noninteractive
[ "${2:-}" = --offline ] || apt-get update
apt-get install -y --no-install-recommends "$dir"/dynmon_*.deb
install -D -m 0644 "$dir/bus.conf" /usr/local/share/dynmon/container/bus.conf
install -D -m 0755 "$dir/entrypoint.sh" /usr/local/sbin/dynmon-entrypoint
# The state and the monitors' files are volumes; the directories exist without them too.
install -d -m 0700 /var/lib/dynmon
install -d -m 0755 /etc/dynmon/monitors.d
apt-get clean
rm -rf /var/lib/apt/lists/* "$dir"
