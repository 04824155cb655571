#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The container image's build stage: dynmon's Debian package, built from the source tree SRC
# with the build dependencies debian/control names, written into OUT.
# Usage: build-deb.sh SRC OUT
set -eu
src=$1 out=$2
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends dpkg-dev
# debian/control's Build-Depends, as `apt-get build-dep` reads them from the tree.
apt-get build-dep -y --no-install-recommends "$src"
# dpkg-buildpackage writes its results beside the tree: build from a copy.
mkdir -p /build/dynmon "$out"
cp -a "$src"/. /build/dynmon/
rm -rf /build/dynmon/build*
(cd /build/dynmon && DEB_BUILD_OPTIONS="nocheck" dpkg-buildpackage -b -us -uc)
cp /build/dynmon_*.deb "$out"/
