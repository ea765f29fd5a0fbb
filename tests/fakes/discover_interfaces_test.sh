#!/usr/bin/env bash
# `custodian camera discover` without --interface probes every multicast interface, not
# only the default route's. Run in a network namespace of its own (`unshare -rn`: a user
# and a network namespace, no privileges needed) holding two camera networks, veth pairs
# cam0 (10.77.1.1/24) and cam1 (10.77.2.1/24), and no default route; a FAKE ONVIF camera
# (fake-onvif) joined to the discovery group on each network, hearing that network's
# probes only. Both cameras must be found, and the output must name both interfaces and
# not loopback. Before, the probe left by the default route alone: here there is none,
# and discover failed with "Network is unreachable".
#
#   tests/fakes/discover_interfaces_test.sh CUSTODIAN FAKE_ONVIF     (ctest: discover_interfaces_test)
#
# Exit 77 (ctest: skipped) with the reason when this machine cannot make the namespace
# or the veth pairs (unprivileged user namespaces turned off, no `ip`).
set -euo pipefail

CUSTODIAN=${1:?usage: discover_interfaces_test.sh CUSTODIAN FAKE_ONVIF}
FAKE_ONVIF=${2:?usage: discover_interfaces_test.sh CUSTODIAN FAKE_ONVIF}

if [ "${INSIDE_NAMESPACE:-0}" != 1 ]; then
  for tool in unshare ip; do
    command -v "$tool" >/dev/null || { echo "SKIPPED: needs $tool"; exit 77; }
  done
  unshare -rn true 2>/dev/null || { echo "SKIPPED: cannot make a user and network namespace (unshare -rn)"; exit 77; }
  INSIDE_NAMESPACE=1 exec unshare -rn "$0" "$@"
fi

ip link set lo up
for n in 0 1; do
  ip link add "cam$n" type veth peer name "cam$n-peer" 2>/dev/null ||
    { echo "SKIPPED: cannot make a veth pair in the namespace"; exit 77; }
  ip addr add "10.77.$((n + 1)).1/24" dev "cam$n"
  ip link set "cam$n" up
  ip link set "cam$n-peer" up
done
if ip -4 route show default | grep -q .; then echo "FAIL: the namespace has a default route"; exit 1; fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

for n in 0 1; do
  "$FAKE_ONVIF" --model "FV-net$n" --multicast-interface "10.77.$((n + 1)).1" \
    --main-uri "rtsp://10.77.$((n + 1)).64/main" < /dev/null > "$WORK/fake$n.out" 2> "$WORK/fake$n.log" &
  PIDS+=($!)
done
for n in 0 1; do
  for _ in $(seq 1 300); do grep -q '^ready' "$WORK/fake$n.out" 2>/dev/null && break; sleep 0.1; done
  grep -q 'multicast=joined' "$WORK/fake$n.out" ||
    { echo "FAIL: fake camera $n did not join the group: $(cat "$WORK/fake$n.out" "$WORK/fake$n.log")"; exit 1; }
done

rc=0
out=$("$CUSTODIAN" camera discover --timeout-ms 4000 2>&1) || rc=$?
echo "$out"
fail=0
expect() { grep -qF -- "$1" <<< "$out" || { echo "FAIL: expected '$1'"; fail=1; }; }
[ "$rc" = 0 ] || { echo "FAIL: discover exited $rc"; fail=1; }
expect "2 ONVIF camera(s) found on the local network (probed by "
expect "cam0 (10.77.1.1)"
expect "cam1 (10.77.2.1)"
expect "model:    FV-net0"
expect "model:    FV-net1"
if grep -q "lo (127" <<< "$out"; then echo "FAIL: loopback was probed"; fail=1; fi
# Each camera heard one probe: the one sent on its own network.
for n in 0 1; do
  probes=$(grep -c '^Probe: answered' "$WORK/fake$n.log" || true)
  [ "$probes" = 1 ] || { echo "FAIL: fake camera $n answered $probes probes, expected 1"; fail=1; }
done
[ "$fail" = 0 ] && echo "discover_interfaces_test: passed"
exit "$fail"
