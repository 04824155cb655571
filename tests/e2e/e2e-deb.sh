#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Debian package: `dpkg-buildpackage -b -us -uc` builds dynmon from a copy of the source
# tree, lintian finds no error in it, and `apt-get install ./dynmon_*.deb` installs it into a
# Debian 12 root made by debootstrap (not the test machine), where:
#   - dynmond, dynmonctl and dynmon-injector run (--version) with the libraries apt installed;
#   - every file the package promises is there (units, bus and polkit policies, headers,
#     completions, man pages, examples);
#   - systemd-analyze verify has nothing to say about the installed units;
#   - purging removes every file again.
#
# The root is lib.sh's debian12_root, shared with e2e-systemd and made once into the build
# directory, with dynmon's dependencies in it, so that apt installs the package without
# downloading anything; every run puts an overlay of its own over it. Each run takes about 2
# minutes (the package build is the whole project again, about 70 s; lintian about 20 s).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"


for tool in dpkg-buildpackage dh lintian unshare; do
	command -v "$tool" >/dev/null || die "missing tool: $tool (run data/install-deps.sh)"
done
e2e_require

e2e_tmpdir

# ---- the package --------------------------------------------------------------------------------
dynmon_deb
check "the package is built: $(basename "$DEB")" test -s "$DEB"
check "lintian: no error" lintian --fail-on error \
	"$DEB_DIR"/dynmon_*.changes
say "lintian: $(grep -c . <<<"$RUN_OUT") remarks (warnings and below) ${RUN_OUT:+$'\n'}$RUN_OUT"
assert_match "Depends: the shared libraries (shlibs) and clang" \
	'^ Depends: .*libbpf1.*libsystemd0.*clang' "$(dpkg-deb -I "$DEB")"

# ---- installed into a Debian 12 root --------------------------------------------------------------
debian12_root
ROOT_BASE=$DEBIAN12_ROOT
ROOT=$TMPD/root
mkdir "$TMPD/upper" "$TMPD/work" "$ROOT"
# The overlay lives in a mount namespace of the commands that use it: nothing stays mounted.
cp "$DEB" "$TMPD/upper/"
# in_root CMD...: runs CMD (a shell command) chrooted in this run's overlay of the root, with a
# /proc of its own, in mount and PID namespaces that vanish with it.
in_root() {
	unshare --mount --pid --fork --propagation private sh -c '
		mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work" "$3" &&
		mount -t proc proc "$3/proc" &&
		exec chroot "$3" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive sh -c "$4"' \
		sh "$ROOT_BASE" "$TMPD" "$ROOT" "$1"
}
check "apt-get install ./$(basename "$DEB") into the root (no download: the root has the dependencies)" \
	in_root "apt-get install -y --no-install-recommends -o Acquire::http::Proxy=none -o Acquire::Retries=0 /$(basename "$DEB")"
check "dynmond --version runs in the root" in_root "dynmond --version"
assert_match "dynmond --version names the package's version" \
	"$(dpkg-deb -f "$DEB" Version | cut -d- -f1)" "$RUN_OUT"
check "dynmonctl --version runs in the root" in_root "dynmonctl --version"
check "dynmon-injector --version runs in the root" in_root "dynmon-injector --version"
for f in /usr/lib/systemd/system/dynmond.service /usr/lib/systemd/system/dynmond.socket \
	/usr/share/dbus-1/system.d/org.polycube.Dynmon.conf \
	/usr/share/dbus-1/system-services/org.polycube.Dynmon.service \
	/usr/share/dbus-1/interfaces/org.polycube.Dynmon.Manager.xml \
	/usr/share/polkit-1/actions/org.polycube.dynmon.policy \
	/usr/share/dynmon/include/dynmon.h /usr/share/dynmon/examples/packet_counter.json \
	/usr/share/bash-completion/completions/dynmonctl /usr/share/zsh/vendor-completions/_dynmonctl \
	/etc/NetworkManager/dispatcher.d/90-dynmon \
	/usr/share/man/man8/dynmond.8.gz /usr/share/man/man1/dynmonctl.1.gz \
	/usr/share/man/man1/dynmon-injector.1.gz /usr/share/man/man5/dynmon.json.5.gz \
	/usr/share/man/man5/org.polycube.Dynmon.5.gz /usr/share/man/man7/dynmon-rest.7.gz; do
	check "installed: $f" in_root "test -s $f"
done
check "systemd-analyze verify: the installed units" \
	in_root "systemd-analyze verify /usr/lib/systemd/system/dynmond.service /usr/lib/systemd/system/dynmond.socket"
assert_eq "systemd-analyze verify has nothing to say" "" "$RUN_OUT$RUN_ERR"
check "the package enables and starts nothing" \
	in_root "test ! -e /etc/systemd/system/multi-user.target.wants/dynmond.service"
check "apt-get purge removes it, every file" \
	in_root "apt-get purge -y dynmon && ! dpkg -s dynmon 2>/dev/null && test ! -e /usr/sbin/dynmond && test ! -e /usr/share/dynmon"
