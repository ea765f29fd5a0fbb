#!/usr/bin/env bash
# The Debian package, installed the way an appliance gets it: `cpack` builds the .deb, which
# is installed with `dpkg -i` and `apt-get -f install` into a minimal Debian 12 root made by
# debootstrap from the same mirror as this machine's apt sources. Then, inside that root,
# `custodian --version` runs, the postinst's work is checked (user, directories, migrated
# records), and `systemd-analyze verify` and `systemd-analyze security` accept the units.
#
# usage: package_install_test.sh BUILD_DIR
# Exits 77 (ctest: skipped) with a reason when not root or debootstrap/chroot are missing.
# The minbase root is cached as a tarball in BUILD_DIR/appliance-cache (or in
# $CUSTODIAN_APPLIANCE_CACHE), with the .debs apt fetched, so later runs download little.
set -euo pipefail

BUILD_DIR=$(cd "$1" && pwd)
SUITE=bookworm
CACHE=${CUSTODIAN_APPLIANCE_CACHE:-$BUILD_DIR/appliance-cache}
START=$(date +%s)
phase() { echo "package_install_test: [$(($(date +%s) - START)) s] $*"; }
skip() { echo "SKIPPED: $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap and chroot)"
command -v debootstrap >/dev/null || skip "debootstrap is not installed (scripts/deps.sh installs it)"
command -v chroot >/dev/null || skip "chroot is not available"
command -v cpack >/dev/null || skip "cpack is not available"

# The host's Debian mirror: the first deb822 URIs or one-line `deb` entry serving $SUITE.
host_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$SUITE" '
      /^[[:space:]]*$/ { if (uri != "" && ok) { print uri; exit } uri = ""; ok = 0; next }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
      END { if (uri != "" && ok) print uri }' "$f" | head -n1
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }' "$f"
  done
}
MIRROR=$(host_mirror | head -n1)
MIRROR=${MIRROR:-http://deb.debian.org/debian}

mkdir -p "$CACHE/archives"
ROOT=$(mktemp -d "$CACHE/root.XXXXXX")
cleanup() {
  umount "$ROOT/proc" 2>/dev/null || true
  # Keep what apt downloaded for the next run.
  cp -n "$ROOT"/var/cache/apt/archives/*.deb "$CACHE/archives/" 2>/dev/null || true
  if [ -n "${CUSTODIAN_KEEP_ROOT:-}" ]; then echo "root kept in $ROOT"; else rm -rf "$ROOT"; fi
}
trap cleanup EXIT

phase "building the package with cpack"
PKG_DIR=$(mktemp -d "$CACHE/pkg.XXXXXX")
cpack -G DEB --config "$BUILD_DIR/CPackConfig.cmake" -B "$PKG_DIR" -D CPACK_OUTPUT_FILE_PREFIX="$PKG_DIR" >"$PKG_DIR/cpack.log" 2>&1 ||
  { cat "$PKG_DIR/cpack.log"; exit 1; }
DEB=$(ls "$PKG_DIR"/custodian_*.deb)
echo "package: $(basename "$DEB"), $(stat -c %s "$DEB") bytes"

TARBALL="$CACHE/$SUITE-minbase-root.tar.gz"
if [ -f "$TARBALL" ]; then
  phase "unpacking the cached $SUITE minbase root"
  tar -C "$ROOT" -xzf "$TARBALL"
else
  phase "debootstrap --variant=minbase $SUITE from $MIRROR (cached for later runs)"
  debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -n 30 "$CACHE/debootstrap.log"; exit 1; }
  rm -f "$ROOT"/var/cache/apt/archives/*.deb
  tar -C "$ROOT" -czf "$TARBALL.partial" . && mv "$TARBALL.partial" "$TARBALL"
fi

# mktemp made it 0700: the service user could not even reach /bin.
chmod 0755 "$ROOT"

# The same apt sources as the host, Debian's only (third-party repositories stay out).
rm -f "$ROOT"/etc/apt/sources.list "$ROOT"/etc/apt/sources.list.d/*
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && grep -q '/debian' "$f" && cp "$f" "$ROOT/etc/apt/sources.list.d/host-$(basename "$f" | sed 's/^sources.list$/sources.list.list/')"
done
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp "$CACHE"/archives/*.deb "$ROOT/var/cache/apt/archives/" 2>/dev/null || true
mount -t proc proc "$ROOT/proc" 2>/dev/null || true
cp "$DEB" "$ROOT/tmp/"
in_root() { chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }

phase "dpkg -i (its dependencies are not there yet, so it stops unconfigured)"
in_root dpkg -i "/tmp/$(basename "$DEB")" >"$PKG_DIR/dpkg.log" 2>&1 || true
phase "apt-get update && apt-get -f install"
in_root apt-get update -q >"$PKG_DIR/apt.log" 2>&1 || { cat "$PKG_DIR/apt.log"; exit 1; }
# The root is thrown away afterwards: dpkg need not fsync every file it unpacks.
in_root apt-get -f install -y -q --no-install-recommends -o Dpkg::Options::=--force-unsafe-io >>"$PKG_DIR/apt.log" 2>&1 ||
  { tail -n 40 "$PKG_DIR/apt.log"; exit 1; }
status=$(in_root dpkg-query -W -f='${db:Status-Status}' custodian)
[ "$status" = installed ] || { echo "FAIL: custodian is '$status' after apt-get -f install"; exit 1; }
echo "root: $(du -smx "$ROOT" 2>/dev/null | cut -f1) MiB after install"

phase "checking the installed package"
fail() { echo "FAIL: $*"; exit 1; }
version=$(in_root custodian --version)
echo "$version"
[[ "$version" == "custodian "* ]] || fail "custodian --version printed '$version'"
in_root getent passwd custodian >/dev/null || fail "no custodian system user"
owner=$(in_root stat -c '%U:%G %a' /var/lib/custodian)
[ "$owner" = "custodian:custodian 750" ] || fail "/var/lib/custodian is $owner"
owner=$(in_root stat -c '%U' /var/lib/custodian/records.db) || fail "postinst did not migrate"
[ "$owner" = custodian ] || fail "records.db belongs to $owner, not the service user"
conf=$(in_root stat -c '%U:%G %a' /etc/custodian/site.yaml)
[ "$conf" = "root:custodian 640" ] || fail "/etc/custodian/site.yaml is $conf"
in_root dpkg-query --control-show custodian conffiles | grep -q /etc/custodian/site.yaml ||
  fail "site.yaml is not a conffile"
in_root custodian --config /etc/custodian/site.yaml check >/dev/null ||
  fail "the default site file does not pass custodian check"
# The redaction's face network ships in the package, unchanged (redaction/face_net.h).
model_sum=$(in_root sha256sum /usr/share/custodian/models/face_detection_back_256x256_barracuda.onnx) ||
  fail "the face model is not installed"
[ "${model_sum%% *}" = 427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2 ] ||
  fail "the installed face model has SHA-256 ${model_sum%% *}"
for u in record retain serve; do
  in_root test -L "/etc/systemd/system/multi-user.target.wants/custodian-$u.service" ||
    fail "custodian-$u.service is not enabled"
done

phase "systemd-analyze verify and security"
UNITS=(/lib/systemd/system/custodian-record.service /lib/systemd/system/custodian-retain.service
       /lib/systemd/system/custodian-serve.service)
# verify warns about unknown keys without failing, so any output is a failure too.
out=$(in_root systemd-analyze verify "${UNITS[@]}" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
# Recording must outlive the API: no unit may pull another down with it.
! in_root grep -E '^(Requires|BindsTo|PartOf|Requisite)=custodian' "${UNITS[@]}" ||
  fail "a custodian unit depends on another"
for u in "${UNITS[@]}"; do
  line=$(in_root systemd-analyze security --offline=yes --threshold=25 "$u" 2>&1 | tail -n1) ||
    fail "$(basename "$u") is too exposed: $line"
  echo "$(basename "$u"): ${line#→ }"
done

phase "reinstalling over itself (upgrade path: prerm, postinst migrate)"
in_root dpkg -i "/tmp/$(basename "$DEB")" >>"$PKG_DIR/dpkg.log" 2>&1 ||
  { tail -n 20 "$PKG_DIR/dpkg.log"; fail "reinstall failed"; }

phase "a records database newer than the package: configuration refused"
if command -v sqlite3 >/dev/null; then
  # As if a newer custodian had migrated the records, and this package were a downgrade.
  sqlite3 "$ROOT/var/lib/custodian/records.db" \
    "INSERT INTO schema_version VALUES (99, 0, 'from a newer custodian')"
  if in_root dpkg -i "/tmp/$(basename "$DEB")" >"$PKG_DIR/downgrade.log" 2>&1; then
    fail "dpkg accepted a package older than the records"
  fi
  grep -q "records.db is schema version 99 but this custodian knows up to" "$PKG_DIR/downgrade.log" ||
    { cat "$PKG_DIR/downgrade.log"; fail "the refusal does not say why"; }
  grep "schema version 99" "$PKG_DIR/downgrade.log"
else
  echo "(no sqlite3 on the host: downgrade check skipped)"
fi

rm -rf "$PKG_DIR"
phase "PASS"
