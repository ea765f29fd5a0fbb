#!/usr/bin/env bash
# Builds a bootable Debian 12 disk image of the Custodian appliance: one GPT disk with a
# BIOS boot partition and an ext4 root, GRUB for BIOS boot, the Debian kernel, systemd,
# time synchronisation, SSH, and the custodian package installed with its services enabled.
# Boot it, sign in on the console as root (password set below), and follow
# docs/guide/first-boot.md.
#
# usage: sudo image/build-image.sh [--deb PATH] [--size 8G] [--out custodian.img]
#                                   [--mirror URL] [--root-password-file FILE]
#   --deb   the custodian .deb (default: the newest in build/packages/; build one with
#           `cpack -G DEB --config build/CPackConfig.cmake`)
# Needs root, debootstrap, fdisk (sfdisk), losetup, mkfs.ext4 and grub-pc-bin (all Debian
# packages). Not run in CI: it needs loop devices. The image is raw; convert it with
# `qemu-img convert -O qcow2` if a hypervisor wants another format, or write it to the
# appliance's disk with `dd`.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
DEB=""
SIZE=8G
OUT=custodian.img
MIRROR=http://deb.debian.org/debian
ROOT_PASSWORD_FILE=""
SUITE=bookworm

while [ $# -gt 0 ]; do
  case "$1" in
    --deb) DEB=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --mirror) MIRROR=$2; shift 2 ;;
    --root-password-file) ROOT_PASSWORD_FILE=$2; shift 2 ;;
    *) echo "usage: $0 [--deb PATH] [--size 8G] [--out FILE] [--mirror URL] [--root-password-file FILE]" >&2
       exit 2 ;;
  esac
done

[ "$(id -u)" = 0 ] || { echo "build-image: run as root" >&2; exit 1; }
for tool in debootstrap sfdisk losetup mkfs.ext4 blkid realpath; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool is missing" >&2; exit 1; }
done
if [ -z "$DEB" ]; then
  DEB=$(ls -t "$SRC"/build/packages/custodian_*.deb 2>/dev/null | head -n1 || true)
fi
BIOS_SETUP=/usr/lib/grub/i386-pc/grub-bios-setup
[ -x "$BIOS_SETUP" ] || { echo "build-image: $BIOS_SETUP is missing (apt install grub-pc-bin)" >&2; exit 1; }
[ -f "$DEB" ] || { echo "build-image: no .deb; give --deb or run cpack first" >&2; exit 1; }
[ -e "$OUT" ] && { echo "build-image: $OUT exists; not overwriting it" >&2; exit 1; }

WORK=$(mktemp -d)
MNT=$WORK/root
LOOP=""
cleanup() {
  set +e
  for d in dev/pts dev proc sys; do umount "$MNT/$d" 2>/dev/null; done
  umount "$MNT" 2>/dev/null
  [ -n "$LOOP" ] && losetup -d "$LOOP"
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "build-image: partitioning a $SIZE disk in $OUT.partial"
truncate -s "$SIZE" "$OUT.partial"
# 1: BIOS boot partition for GRUB's core image; 2: the root file system.
sfdisk --quiet "$OUT.partial" <<PARTS
label: gpt
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name=bios
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
PARTS
# The root partition through a loop device of its own, at its offset: this needs no
# partition device nodes, which a container without udev does not get.
read -r ROOT_START ROOT_SECTORS < <(sfdisk --dump "$OUT.partial" |
  awk -F'[=,]' '/name="root"/ { gsub(/ /, ""); print $2, $4 }')
LOOP=$(losetup --find --show --offset $((ROOT_START * 512)) \
  --sizelimit $((ROOT_SECTORS * 512)) "$OUT.partial")
mkfs.ext4 -q -L custodian-root "$LOOP"
ROOT_UUID=$(blkid -s UUID -o value "$LOOP")
mkdir -p "$MNT"
mount "$LOOP" "$MNT"

echo "build-image: debootstrap $SUITE from $MIRROR"
debootstrap --variant=minbase --include=systemd-sysv,udev,dbus,ca-certificates \
  "$SUITE" "$MNT" "$MIRROR"
for d in dev dev/pts proc sys; do mount --bind "/$d" "$MNT/$d"; done
in_root() { chroot "$MNT" env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }

cat >"$MNT/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb http://security.debian.org/debian-security $SUITE-security main
SOURCES
echo custodian >"$MNT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tcustodian\n' >"$MNT/etc/hosts"
echo "UUID=$ROOT_UUID / ext4 errors=remount-ro 0 1" >"$MNT/etc/fstab"
# DHCP on the first wired interface; sites with a fixed address edit this file.
mkdir -p "$MNT/etc/systemd/network"
printf '[Match]\nName=en*\n\n[Network]\nDHCP=yes\n' >"$MNT/etc/systemd/network/50-wired.network"

echo "build-image: kernel, boot loader, time sync and the custodian package"
in_root apt-get update -q
in_root apt-get install -y -q linux-image-amd64 grub-pc-bin systemd-timesyncd openssh-server \
  p7zip-full procps less nano
cp "$DEB" "$MNT/tmp/custodian.deb"
in_root apt-get install -y -q /tmp/custodian.deb
rm "$MNT/tmp/custodian.deb"
in_root systemctl enable systemd-networkd systemd-timesyncd ssh
# The journal on disk, bounded (docs/guide/logs-and-retention.md).
mkdir -p "$MNT/var/log/journal" "$MNT/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=persistent\nMaxRetentionSec=90day\nSystemMaxUse=1G\n' \
  >"$MNT/etc/systemd/journald.conf.d/custodian.conf"
in_root apt-get clean

if [ -n "$ROOT_PASSWORD_FILE" ]; then
  printf 'root:%s\n' "$(head -n1 "$ROOT_PASSWORD_FILE")" | in_root chpasswd
else
  # No password until first boot: the console asks for one at the first root login.
  in_root passwd -d root
  in_root chage -d 0 root
fi

echo "build-image: installing GRUB"
# grub-install and update-grub probe the running system's devices, which a loop device in
# a chroot does not resemble; so the same steps by hand: a core image that finds the root
# file system by UUID, written by grub-bios-setup into the BIOS boot partition, and a
# grub.cfg of our own.
GRUB_DIR="$MNT/boot/grub/i386-pc"
mkdir -p "$GRUB_DIR"
cp "$MNT"/usr/lib/grub/i386-pc/*.mod "$MNT"/usr/lib/grub/i386-pc/*.lst \
  "$MNT"/usr/lib/grub/i386-pc/boot.img "$GRUB_DIR/"
printf 'search.fs_uuid %s root\nset prefix=($root)/boot/grub\n' "$ROOT_UUID" >"$MNT/tmp/early.cfg"
in_root grub-mkimage -O i386-pc -o /boot/grub/i386-pc/core.img -c /tmp/early.cfg \
  -p /boot/grub biosdisk part_gpt ext2 search_fs_uuid normal
rm "$MNT/tmp/early.cfg"
# Debian keeps /vmlinuz and /initrd.img pointing at the newest kernel, so this menu entry
# stays right across kernel upgrades; without the links, name the installed kernel.
KERNEL=/vmlinuz
INITRD=/initrd.img
if [ ! -e "$MNT/vmlinuz" ]; then
  KERNEL=/boot/$(cd "$MNT/boot" && ls vmlinuz-* | sort -V | tail -n1)
  INITRD=/boot/initrd.img-${KERNEL#/boot/vmlinuz-}
fi
cat >"$MNT/boot/grub/grub.cfg" <<GRUB
set default=0
set timeout=2
search --no-floppy --fs-uuid --set=root $ROOT_UUID
menuentry "Custodian appliance (Debian 12)" {
  linux $KERNEL root=UUID=$ROOT_UUID ro quiet console=ttyS0,115200n8 console=tty0
  initrd $INITRD
}
GRUB
sync
# hd0 is the disk; hd1, the root's loop device, lets grub-bios-setup find the file system
# that holds --directory.
printf '(hd0) %s\n(hd1) %s\n' "$(realpath "$OUT.partial")" "$LOOP" >"$WORK/device.map"
"$BIOS_SETUP" --directory="$GRUB_DIR" --device-map="$WORK/device.map" \
  "$(realpath "$OUT.partial")"

cleanup
trap - EXIT
mv "$OUT.partial" "$OUT"
echo "build-image: wrote $OUT ($SIZE); boot it and follow docs/guide/first-boot.md"
