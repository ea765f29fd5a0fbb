#!/usr/bin/env bash
# Installs every Debian 12 package Custodian needs to build, run and test.
# Idempotent: when everything is present it only runs dpkg-query and returns.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates
  # media: libav* for the recorder, ffmpeg/ffprobe CLIs for tests and baselines
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev ffmpeg
  # camera simulator: GStreamer with rtsp-server, x264/x265 encoders, parsers
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstrtspserver-1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  # records, config, crypto
  libsqlite3-dev sqlite3 libyaml-cpp-dev nlohmann-json3-dev libsodium-dev libssl-dev
  # HTTP server
  libboost-dev libboost-system-dev
  # redaction and test footage (vtest.avi ships in opencv-doc)
  libopencv-dev opencv-data opencv-doc libdlib-dev libblas-dev liblapack-dev
  # tests and verification; 7-Zip makes the AES-256 zip of an export for removable media
  catch2 minisign procps p7zip-full tzdata
  # benchmarks (tests/bench): load generator and a reference static file server
  wrk nginx
  # web UI tests (tests/web): headless Chromium, driven by playwright-core from npm
  chromium
  # the appliance (tests/appliance): a minimal Debian root to install the package into
  debootstrap
  # fuzzing (CUSTODIAN_FUZZ, tests/fuzz): clang with libFuzzer and the sanitizer runtimes;
  # curl and python3 for tests/reliability/all_services.sh
  clang libclang-rt-14-dev curl python3
)

# Node.js for the web UI tests: Debian's own only when no node is installed at all (a newer
# Node from elsewhere is fine, and Debian's npm would conflict with it).
command -v node >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "deps: installing ${#missing[@]} missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists; refresh them once if they are missing or stale.
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ] || \
   ! apt-get install -y --no-install-recommends "${missing[@]}" </dev/null; then
  apt-get update </dev/null
  apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
fi
