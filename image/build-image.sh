#!/usr/bin/env bash
# Builds a bootable Debian 12 disk image of the Custodian appliance: one GPT disk with a
# BIOS boot partition and an ext4 root, GRUB for BIOS boot, the Debian kernel, systemd,
# time synchronisation, SSH, and the custodian package installed with its services enabled.
# GRUB's menu, the kernel's messages and a login prompt are on both the screen and the
# first serial port (115200 8N1), so the image can be run headless on a hypervisor's
# serial console. Boot it, sign in as root (password set below), and follow
# docs/guide/first-boot.md; image/boot-check.sh boots it in QEMU and checks all of this.
#
# usage: sudo image/build-image.sh [--deb PATH] [--size 8G] [--out custodian.img]
#                                   [--mirror URL] [--root-password-file FILE]
#   --deb   the custodian .deb (default: the newest in build/packages/; build one with
#           `cpack -G DEB --config build/CPackConfig.cmake`)
# Needs root, debootstrap, fdisk (sfdisk), e2fsprogs (mke2fs 1.43 or later, for -d) and
# grub-pc-bin in the chroot (installed there from the mirror). It needs neither loop
# devices nor partition device nodes: the root is assembled in a directory and written
# into the image's second partition by `mke2fs -d`, and GRUB's boot code is written at
# fixed offsets; only the chroot's bind mounts of /dev, /proc and /sys need privilege.
# Not run in CI (root, and about 10 minutes of downloads). The image is raw; convert it
# with `qemu-img convert -O qcow2` if a hypervisor wants another format, or write it to
# the appliance's disk with `dd`.
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
for tool in debootstrap sfdisk mke2fs mountpoint; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool is missing" >&2; exit 1; }
done
if [ -z "$DEB" ]; then
  DEB=$(ls -t "$SRC"/build/packages/custodian_*.deb 2>/dev/null | head -n1 || true)
fi
[ -f "$DEB" ] || { echo "build-image: no .deb; give --deb or run cpack first" >&2; exit 1; }
[ -e "$OUT" ] && { echo "build-image: $OUT exists; not overwriting it" >&2; exit 1; }

# The work directory sits beside the output, on the same (disk-backed) file system: the
# root tree is about 1.5 GB, more than a tmpfs /tmp may hold.
WORK=$(mktemp -d "$(dirname "$OUT")/.build-image.XXXXXX")
ROOT=$WORK/root
mkdir -p "$ROOT"
cleanup() {
  set +e
  for d in dev/pts dev proc sys; do
    mountpoint -q "$ROOT/$d" && umount "$ROOT/$d"
  done
  # Never delete through a bind mount that is still there: that would be the host's /dev.
  if grep -q " $WORK/" /proc/self/mounts; then
    echo "build-image: $WORK still has mounts; left in place" >&2
  else
    rm -rf --one-file-system "$WORK"
  fi
}
trap cleanup EXIT

ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)

echo "build-image: debootstrap $SUITE from $MIRROR"
debootstrap --variant=minbase --include=systemd-sysv,udev,dbus,ca-certificates \
  "$SUITE" "$ROOT" "$MIRROR"
for d in dev dev/pts proc sys; do mount --bind "/$d" "$ROOT/$d"; done
in_root() { chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }

cat >"$ROOT/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb http://security.debian.org/debian-security $SUITE-security main
SOURCES
echo custodian >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tcustodian\n' >"$ROOT/etc/hosts"
echo "UUID=$ROOT_UUID / ext4 errors=remount-ro 0 1" >"$ROOT/etc/fstab"
# DHCP on the first wired interface; sites with a fixed address edit this file.
mkdir -p "$ROOT/etc/systemd/network"
printf '[Match]\nName=en*\n\n[Network]\nDHCP=yes\n' >"$ROOT/etc/systemd/network/50-wired.network"

echo "build-image: kernel, boot loader, time sync and the custodian package"
in_root apt-get update -q
in_root apt-get install -y -q linux-image-amd64 grub-pc-bin systemd-timesyncd openssh-server \
  p7zip-full procps less nano curl
cp "$DEB" "$ROOT/tmp/custodian.deb"
in_root apt-get install -y -q /tmp/custodian.deb
rm "$ROOT/tmp/custodian.deb"
# A login prompt on the first serial port as well as on the screen. systemd would start
# this one by itself for a console= on the kernel command line; enabled, it is there
# whatever the command line says.
in_root systemctl enable systemd-networkd systemd-timesyncd ssh serial-getty@ttyS0.service
# Name resolution from the DHCP lease: systemd-resolved, with /etc/resolv.conf its stub.
# debootstrap copied the build machine's resolv.conf, which the appliance must not keep;
# installed last, as the chroot cannot resolve names through the stub.
in_root apt-get install -y -q systemd-resolved
ln -sfn ../run/systemd/resolve/stub-resolv.conf "$ROOT/etc/resolv.conf"
# The journal on disk, bounded (docs/guide/logs-and-retention.md).
mkdir -p "$ROOT/var/log/journal" "$ROOT/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=persistent\nMaxRetentionSec=90day\nSystemMaxUse=1G\n' \
  >"$ROOT/etc/systemd/journald.conf.d/custodian.conf"
in_root apt-get clean

if [ -n "$ROOT_PASSWORD_FILE" ]; then
  printf 'root:%s\n' "$(head -n1 "$ROOT_PASSWORD_FILE")" | in_root chpasswd
else
  # No password until first boot: the console asks for one at the first root login.
  in_root passwd -d root
  in_root chage -d 0 root
fi

echo "build-image: GRUB"
# grub-install and update-grub probe the running system's devices, which a directory in a
# chroot does not resemble; so the same steps by hand: a core image that finds the root
# file system by UUID (written into the BIOS boot partition below), the modules it loads
# from /boot/grub, and a grub.cfg of our own.
GRUB_DIR="$ROOT/boot/grub/i386-pc"
mkdir -p "$GRUB_DIR"
cp "$ROOT"/usr/lib/grub/i386-pc/*.mod "$ROOT"/usr/lib/grub/i386-pc/*.lst \
  "$ROOT"/usr/lib/grub/i386-pc/boot.img "$GRUB_DIR/"
printf 'search.fs_uuid %s root\nset prefix=($root)/boot/grub\n' "$ROOT_UUID" >"$ROOT/tmp/early.cfg"
in_root grub-mkimage -O i386-pc -o /boot/grub/i386-pc/core.img -c /tmp/early.cfg \
  -p /boot/grub biosdisk part_gpt ext2 search_fs_uuid normal
rm "$ROOT/tmp/early.cfg"
# Debian keeps /vmlinuz and /initrd.img pointing at the newest kernel, so this menu entry
# stays right across kernel upgrades; without the links, name the installed kernel.
KERNEL=/vmlinuz
INITRD=/initrd.img
if [ ! -e "$ROOT/vmlinuz" ]; then
  KERNEL=/boot/$(cd "$ROOT/boot" && ls vmlinuz-* | sort -V | tail -n1)
  INITRD=/boot/initrd.img-${KERNEL#/boot/vmlinuz-}
fi
# The kernel's consoles: both get its messages and a login prompt; the last one named is
# /dev/console, where systemd writes its boot status and the emergency shell appears. The
# screen comes last, as an appliance in a cabinet has a monitor, not a serial cable.
CMDLINE="root=UUID=$ROOT_UUID ro console=ttyS0,115200n8 console=tty0"
# GRUB on the BIOS text console and on COM1 (when the machine has one: `serial` fails
# without a port, and the screen alone is used). The text console only: no gfxterm and
# no video mode for the kernel (gfxpayload=text), as a mode set by GRUB is what a
# hypervisor's display adapter can leave blank. The menu is always drawn, with a
# countdown, so a console that shows nothing after the BIOS means GRUB did not start.
cat >"$ROOT/boot/grub/grub.cfg" <<GRUB
if serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1; then
  terminal_input console serial
  terminal_output console serial
else
  terminal_input console
  terminal_output console
fi
set gfxpayload=text
set default=0
set timeout_style=menu
set timeout=5
search --no-floppy --fs-uuid --set=root $ROOT_UUID
menuentry "Custodian appliance (Debian 12)" {
  linux $KERNEL $CMDLINE
  initrd $INITRD
}
GRUB
# The same for Debian's own tools, should someone install grub-pc and run update-grub.
cat >"$ROOT/etc/default/grub" <<DEFAULT
GRUB_DEFAULT=0
GRUB_TIMEOUT_STYLE=menu
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR="Custodian appliance (Debian 12)"
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="console=ttyS0,115200n8 console=tty0"
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1"
GRUB_GFXPAYLOAD_LINUX=text
DEFAULT
for d in dev/pts dev proc sys; do umount "$ROOT/$d"; done

echo "build-image: partitioning a $SIZE disk in $OUT.partial"
truncate -s "$SIZE" "$OUT.partial"
# 1: BIOS boot partition for GRUB's core image, at sector 2048; 2: the root file system,
# marked legacy-BIOS-bootable (firmware that looks for an active partition on GPT reads
# this attribute).
BIOS_START=2048
ROOT_START=4096
sfdisk --quiet "$OUT.partial" <<PARTS
label: gpt
start=$BIOS_START, size=2048, type=21686148-6449-6E6F-744E-656564454649, name=bios
start=$ROOT_START, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root, attrs="LegacyBIOSBootable"
PARTS
ROOT_SECTORS=$(sfdisk --dump "$OUT.partial" | tr -d ' ' |
  awk -F, '/name="root"/ { for (i = 1; i <= NF; i++) if ($i ~ /^size=/) print substr($i, 6) }')

echo "build-image: the root file system ($((ROOT_SECTORS / 2048)) MiB)"
mke2fs -q -F -t ext4 -L custodian-root -U "$ROOT_UUID" -d "$ROOT" \
  -E offset=$((ROOT_START * 512)) "$OUT.partial" $((ROOT_SECTORS / 2))k

echo "build-image: GRUB's boot code"
# What grub-bios-setup does for a GPT disk with a BIOS boot partition, done on the image
# file so that no loop device is needed: boot.img's code goes into the first sector around
# the BPB and the partition table, told the sector where core.img starts (at 0x5c) and with
# its boot-drive check replaced by two NOPs (at 0x66: some BIOSes pass a wrong drive);
# core.img goes into the BIOS boot partition, its first sector (diskboot) told where the
# rest is (a block list at 0x1f4: the start sector, 8 bytes, then the sector count, 2).
le() { # le BYTES VALUE: VALUE as BYTES little-endian bytes
  local i out=""
  for ((i = 0; i < $1; i++)); do out+=$(printf '\\x%02x' $((($2 >> (8 * i)) & 255))); done
  printf '%b' "$out"
}
put() { # put OFFSET: stdin into the image at byte OFFSET
  dd of="$OUT.partial" bs=1 seek="$1" conv=notrunc status=none
}
BOOT_IMG=$GRUB_DIR/boot.img
CORE_IMG=$GRUB_DIR/core.img
CORE_SECTORS=$((($(stat -c %s "$CORE_IMG") + 511) / 512))
[ "$CORE_SECTORS" -le 2048 ] || { echo "build-image: core.img is larger than its partition" >&2; exit 1; }
dd if="$BOOT_IMG" bs=1 count=3 status=none | put 0
dd if="$BOOT_IMG" bs=1 skip=$((0x5a)) count=$((0x1b8 - 0x5a)) status=none | put $((0x5a))
le 8 $BIOS_START | put $((0x5c))
printf '\x90\x90' | put $((0x66))
dd if="$CORE_IMG" of="$OUT.partial" bs=512 seek=$BIOS_START conv=notrunc status=none
le 8 $((BIOS_START + 1)) | put $((BIOS_START * 512 + 0x1f4))
le 2 $((CORE_SECTORS - 1)) | put $((BIOS_START * 512 + 0x1fc))
# The protective MBR's partition marked active (parted calls this pmbr_boot): some BIOSes,
# and some hypervisors' BIOS settings, boot only a disk with an active partition.
printf '\x80' | put $((0x1be))
sync

cleanup
trap - EXIT
mv "$OUT.partial" "$OUT"
echo "build-image: wrote $OUT ($SIZE); boot it and follow docs/guide/first-boot.md"
