#!/usr/bin/env bash
# Boots a disk image from image/build-image.sh in QEMU and checks, on its serial console,
# every step an installer depends on: GRUB's menu, the kernel, systemd's login prompt on
# the serial port, a root login, the three custodian services active, and serve's
# /healthz answering over HTTPS inside the machine. Prints each step with the seconds since
# QEMU started, and the whole console log to --log. Exit 0 when every step passed, 1 at
# the first that did not within its time limit (the console log says what was there).
#
# usage: image/boot-check.sh --image custodian.img --password-file FILE
#                            [--accel kvm|tcg] [--machine pc|q35] [--disk ide|virtio|scsi]
#                            [--memory 2048] [--cpus 2] [--timeout-scale N] [--log FILE]
#   --password-file  the root password the image was built with (--root-password-file);
#                    an image built without one gets this one at the first login
#   --accel          kvm when /dev/kvm is usable, else tcg (software emulation)
#   --timeout-scale  multiplies every step's time limit (default 1; the limits are sized
#                    for software emulation on a loaded 2-core machine)
# The image is not changed: QEMU runs it with -snapshot. Needs qemu-system-x86 and
# python3. Not run in CI: it takes minutes under software emulation.
set -euo pipefail

IMAGE=""
PASSWORD_FILE=""
ACCEL=""
MACHINE=pc
DISK=ide
MEMORY=2048
CPUS=2
SCALE=1
LOG=boot-check.log
while [ $# -gt 0 ]; do
  case "$1" in
    --image) IMAGE=$2; shift 2 ;;
    --password-file) PASSWORD_FILE=$2; shift 2 ;;
    --accel) ACCEL=$2; shift 2 ;;
    --machine) MACHINE=$2; shift 2 ;;
    --disk) DISK=$2; shift 2 ;;
    --memory) MEMORY=$2; shift 2 ;;
    --cpus) CPUS=$2; shift 2 ;;
    --timeout-scale) SCALE=$2; shift 2 ;;
    --log) LOG=$2; shift 2 ;;
    *) sed -n '/^# usage/,/^# The image/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
[ -f "$IMAGE" ] || { echo "boot-check: no image; give --image" >&2; exit 2; }
[ -f "$PASSWORD_FILE" ] || { echo "boot-check: give --password-file" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null ||
  { echo "boot-check: qemu-system-x86_64 is missing (apt install qemu-system-x86)" >&2; exit 2; }
if [ -z "$ACCEL" ]; then
  if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then ACCEL=kvm; else ACCEL=tcg; fi
fi

exec python3 - "$IMAGE" "$PASSWORD_FILE" "$ACCEL" "$MACHINE" "$DISK" "$MEMORY" "$CPUS" "$SCALE" "$LOG" <<'PY'
import os, re, select, subprocess, sys, time

image, password_file, accel, machine, disk, memory, cpus, scale, log_path = sys.argv[1:]
scale = float(scale)
password = open(password_file).readline().rstrip("\n")

# The machine's only serial port is this process's pipe; there is no display, so what
# the check sees is what a hypervisor's serial console shows. -snapshot keeps the image
# as it was built (the first boot's changes are thrown away).
cmd = ["qemu-system-x86_64", "-machine", f"{machine},accel={accel}", "-m", memory,
       "-smp", cpus, "-snapshot", "-display", "none", "-vga", "std",
       "-serial", "stdio", "-monitor", "none",
       "-drive", f"file={image},format=raw,if=none,id=disk0",
       "-nic", "user,model=e1000"]
# The disk as the hypervisors attach it: IDE/SATA (the machine's own controller), virtio-blk
# (libvirt's default) or virtio-scsi (Proxmox's default); SeaBIOS boots from all three.
cmd += {"ide": ["-device", "ide-hd,drive=disk0,bus=ide.0"],
        "virtio": ["-device", "virtio-blk-pci,drive=disk0,bootindex=0"],
        "scsi": ["-device", "virtio-scsi-pci,id=scsi0",
                 "-device", "scsi-hd,drive=disk0,bus=scsi0.0,bootindex=0"]}[disk]
if accel == "kvm":
    cmd += ["-cpu", "host"]
print("boot-check:", " ".join(cmd), flush=True)

start = time.monotonic()
qemu = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT)
log = open(log_path, "wb")
seen = b""   # console output not yet matched by a step


def elapsed():
    return time.monotonic() - start


def expect(pattern, limit, what):
    """Reads the console until `pattern` (a bytes regex) appears; fails after `limit` s."""
    global seen
    deadline = time.monotonic() + limit * scale
    rx = re.compile(pattern)
    while True:
        m = rx.search(seen)
        if m:
            seen = seen[m.end():]
            print(f"boot-check: {elapsed():6.1f} s  {what}", flush=True)
            return m
        left = deadline - time.monotonic()
        if left <= 0 or qemu.poll() is not None:
            tail = seen[-600:].decode("utf-8", "replace")
            print(f"boot-check: FAILED at {elapsed():.1f} s: {what} did not appear "
                  f"(limit {limit * scale:.0f} s); last console output:\n{tail}", flush=True)
            finish(1)
        ready, _, _ = select.select([qemu.stdout], [], [], min(left, 1.0))
        if ready:
            chunk = os.read(qemu.stdout.fileno(), 65536)
            if not chunk:
                continue
            log.write(chunk)
            log.flush()
            seen += chunk


def send(text):
    qemu.stdin.write(text.encode())
    qemu.stdin.flush()


def finish(code):
    try:
        send("poweroff\r")
        qemu.wait(timeout=60 * scale)
    except Exception:
        pass
    if qemu.poll() is None:
        qemu.kill()
        qemu.wait()
    log.close()
    print(f"boot-check: {'passed' if code == 0 else 'failed'}; console log in {log_path}",
          flush=True)
    sys.exit(code)


expect(rb"Custodian appliance \(Debian 12\)", 120, "GRUB's menu on the serial console")
expect(rb"Linux version \S+", 120, "the kernel started")
expect(rb"custodian login: ", 600, "the login prompt on ttyS0")
send("root\r")
# An image built with --root-password-file asks for that password; one built without has
# none and makes the first login choose one (given here from the file, in the snapshot).
m = expect(rb"Password: |New password: ", 60, "password prompt")
if m.group(0) == b"Password: ":
    send(password + "\r")
else:
    send(password + "\r")
    expect(rb"Retype new password: ", 30, "first login: new password asked twice")
    send(password + "\r")
expect(rb"root@custodian:~# ", 60, "logged in as root")
# One command per step, each ending in a marker that the echoed command line cannot
# match (the marker is printed from two halves).
send("stty -echo; export SYSTEMD_PAGER= SYSTEMD_COLORS=0 TERM=dumb\r")
for unit in ("custodian-record", "custodian-retain", "custodian-serve"):
    send(f"for i in $(seq 60); do systemctl is-active --quiet {unit} && break; sleep 2; done; "
         f"echo \"UNIT-\"\"{unit}=$(systemctl is-active {unit})\"\r")
    m = expect(rb"UNIT-" + unit.encode() + rb"=([\w-]+)\r?\n", 180, f"{unit} state asked")
    state = m.group(1).decode()
    print(f"boot-check:          {unit}: {state}", flush=True)
    if state != "active":
        send(f"systemctl status --no-pager -l {unit} | tail -n 20; echo \"STATUS\"\"-DONE\"\r")
        expect(rb"STATUS-DONE", 60, f"{unit}'s status shown (in the console log)")
        finish(1)
send("port=$(sed -n 's/^ *listen: *\"[^:]*:\\([0-9]*\\)\".*/\\1/p' /etc/custodian/site.yaml); "
     "for i in $(seq 30); do code=$(curl -ks -o /dev/null -w '%{http_code}' "
     "https://127.0.0.1:${port:-8443}/healthz) && [ \"$code\" = 200 ] && break; sleep 2; done; "
     "echo \"HEALTH\"\"Z=$code\"\r")
m = expect(rb"HEALTHZ=(\d+)\r?\n", 120, "/healthz asked over HTTPS")
code = m.group(1).decode()
print(f"boot-check:          https://127.0.0.1/healthz: HTTP {code}", flush=True)
# Name resolution through the DHCP lease's server (QEMU's, which asks the host's): shown,
# not required, as the host may have no DNS.
send("echo \"DNS\"\"=$(getent hosts deb.debian.org >/dev/null && echo ok || echo none)\"\r")
m = expect(rb"DNS=(\w+)\r?\n", 60, "name resolution asked")
print(f"boot-check:          getent hosts deb.debian.org: {m.group(1).decode()}", flush=True)
send("systemd-analyze | head -n 1; echo \"TIM\"\"ES-DONE\"\r")
m = expect(rb"(Startup finished in [^\r\n]*)[\s\S]*?TIMES-DONE\r?\n", 60, "boot times asked")
print(f"boot-check:          {m.group(1).decode()}", flush=True)
finish(0 if code == "200" else 1)
PY
