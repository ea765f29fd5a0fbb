#!/usr/bin/env bash
# The web UI end to end: a real site (camera simulator -> custodian record ->
# custodian serve with web_root = the source tree's web/static) driven by headless Chromium
# through playwright-core (tests/web/ui.test.mjs). Screenshots of the main pages are left
# in BUILD/web-screenshots/.
#
#   tests/web/run_web_tests.sh BUILD_DIR      (ctest: web_ui_test)
#
# Needs /usr/bin/chromium, node and npm (scripts/deps.sh); playwright-core comes from
# web/package-lock.json through `npm ci` into BUILD/web-test (the npm cache serves it
# offline after the first run). Everything else stays on loopback.
set -euo pipefail

BUILD=$(realpath "${1:?usage: run_web_tests.sh BUILD_DIR}")
SRC=$(realpath "$(dirname "$0")/../..")
CUSTODIAN="$BUILD/app/custodian"
SIM="$BUILD/tests/sim/custodian-sim"
FAKE_ONVIF="$BUILD/tests/fakes/fake-onvif"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
for tool in node npm sqlite3 curl openssl; do
  command -v "$tool" >/dev/null || { echo "web test: needs $tool (scripts/deps.sh)"; exit 2; }
done
[ -x "$CHROMIUM" ] || { echo "web test: needs $CHROMIUM (apt package chromium; scripts/deps.sh)"; exit 2; }

# --- playwright-core, pinned by the lock file -------------------------------------------
NODE_DIR="$BUILD/web-test"
mkdir -p "$NODE_DIR"
if ! cmp -s "$SRC/web/package-lock.json" "$NODE_DIR/package-lock.json" ||
   [ ! -d "$NODE_DIR/node_modules/playwright-core" ]; then
  cp "$SRC/web/package.json" "$SRC/web/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
fi

# --- the site --------------------------------------------------------------------------
WORK=$(mktemp -d /var/tmp/custodian-web-test-XXXXXX)
DATA="$WORK/data"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  exec 3>&- 2>/dev/null || true
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "web test: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap "exit 1" INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RTSP_PORT=$(free_port)
HTTP_PORT=$(free_port)
mkdir -p "$DATA" "$WORK/cameras"

# A fake SMTP relay (tests/web/fake_smtp_relay.mjs) for the alarm e-mails, with STARTTLS on
# a certificate made here for 127.0.0.1 and a login whose password is in a file.
mkdir -p "$WORK/mail"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$WORK/relay-key.pem" -out "$WORK/relay-cert.pem" 2>/dev/null
printf 'relay password for the test\n' > "$WORK/smtp.password"
chmod 600 "$WORK/smtp.password"
node "$SRC/tests/web/fake_smtp_relay.mjs" "$WORK/smtp.port" "$WORK/mail" \
  "$WORK/relay-cert.pem" "$WORK/relay-key.pem" "custodian-alarms:relay password for the test" \
  > "$WORK/smtp.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$WORK/smtp.port" ] && break; sleep 0.1; done
[ -s "$WORK/smtp.port" ] || { echo "web test: the fake SMTP relay did not start"; cat "$WORK/smtp.log"; exit 1; }
SMTP_PORT=$(cat "$WORK/smtp.port")
cat > "$WORK/site.yaml" <<YAML
site: { name: "Web UI test" }
data_dir: $DATA
cameras_dir: $WORK/cameras
log_level: warn
recorder: { segment_seconds: 4 }
http: { listen: "127.0.0.1:$HTTP_PORT", session_idle_minutes: 1, web_root: $SRC/web/static,
        test_only_viewing_idle_seconds: 15 }
alarms:
  camera_offline_seconds: 15
  # The Door camera's clock runs 30 s ahead (clock_offset below): shown, within this limit
  # so that its alarm does not stand in front of the offline alarm on the banner.
  camera_clock_limit_seconds: 60
  email:
    relay: "127.0.0.1:$SMTP_PORT"
    ca_file: $WORK/relay-cert.pem
    username: custodian-alarms
    password_file: $WORK/smtp.password
    from: custodian@web-test.example
    to: [site-manager@web-test.example]
cameras:
  - id: lobby
    name: "Lobby"
    url: rtsp://127.0.0.1:$RTSP_PORT/lobby
    # A smaller second stream, as cameras offer: live view shows it unless asked for the main.
    sub_url: rtsp://127.0.0.1:$RTSP_PORT/lobby-sub
    transport: tcp
  - id: yard
    name: "Yard"
    url: rtsp://127.0.0.1:$RTSP_PORT/yard
    transport: tcp
  - id: door
    name: "Door"
    url: rtsp://127.0.0.1:$RTSP_PORT/door
    transport: tcp
  # A scripted scene for search by region (below); only finder1 may see it.
  - id: scene
    name: "Scene"
    url: rtsp://127.0.0.1:$RTSP_PORT/scene
    transport: tcp
YAML
C() { "$CUSTODIAN" --config "$WORK/site.yaml" "$@"; }

# The scripted scene the simulator loops as camera "scene": a still background (a flat wall
# with a darker panel) and a 40x40 white box that crosses the left third of the picture from
# top to bottom in seconds SCENE_A_FROM..SCENE_A_TO of every SCENE_LOOP, and the right fifth
# in seconds SCENE_B_FROM..SCENE_B_TO; nothing else moves. Keyframes every 0.2 s, so the
# recording starts within 0.2 s of the loop's start.
SCENE_LOOP=30 SCENE_A_FROM=3 SCENE_A_TO=9 SCENE_B_FROM=17 SCENE_B_TO=23
cross() { echo "between(t,$1,$2),-40+(t-$1)*220/($2-$1)"; }
ffmpeg -loglevel error -y -f lavfi -i "color=c=0x5a6e82:s=320x180:r=25:d=$SCENE_LOOP" \
  -f lavfi -i "color=c=white:s=40x40:r=25:d=$SCENE_LOOP" -filter_complex \
  "[0]drawbox=x=130:y=50:w=70:h=60:color=0x3a4a5a:t=fill[bg];[bg][1]overlay=x='if(lt(t,($SCENE_A_TO+$SCENE_B_FROM)/2),20,264)':y='if($(cross $SCENE_A_FROM $SCENE_A_TO),if($(cross $SCENE_B_FROM $SCENE_B_TO),-100))':eval=frame" \
  -c:v libx264 -preset ultrafast -g 5 -bf 0 -pix_fmt yuv420p "$WORK/scene.mp4"

mkfifo "$WORK/sim.in"
"$SIM" --port "$RTSP_PORT" --quit-on-eof --log-level warn \
  --stream "lobby:codec=h264,width=640,height=360,fps=25,bitrate=800,clip=10,bframes=${LOBBY_BFRAMES:-2}" \
  --stream "lobby-sub:codec=h264,width=320,height=180,fps=25,bitrate=200,clip=10" \
  --stream "yard:codec=h264,width=640,height=360,fps=25,bitrate=800,clip=10" \
  --stream "porch:codec=h264,width=640,height=360,fps=25,bitrate=800,clip=10" \
  --stream "door:codec=h265,width=640,height=360,fps=25,bitrate=600,clip=10,audio=aac,clock_offset=30" \
  --stream "scene:file=$WORK/scene.mp4" \
  < "$WORK/sim.in" > "$WORK/sim.out" 2> "$WORK/sim.log" &
PIDS+=($!)
exec 3> "$WORK/sim.in"
for _ in $(seq 1 300); do
  grep -q '^ready' "$WORK/sim.out" 2>/dev/null && break
  sleep 0.5
done
grep -q '^ready' "$WORK/sim.out" || { echo "web test: the simulator did not start"; cat "$WORK/sim.log"; exit 1; }

# A FAKE ONVIF camera (tests/fakes/fake_onvif.cpp) whose streams are the simulator's lobby
# (main) and yard (sub), for adding a camera by discovery.
export FAKE_ONVIF_PASSWORD="porch camera onvif password"
"$FAKE_ONVIF" --username installer --password "$FAKE_ONVIF_PASSWORD" \
  --make FakeVision --model FV-100 --firmware 2.4.1-fake \
  --main-uri "rtsp://127.0.0.1:$RTSP_PORT/lobby" --sub-uri "rtsp://127.0.0.1:$RTSP_PORT/yard" \
  < /dev/null > "$WORK/onvif.out" 2> "$WORK/onvif.log" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q '^ready' "$WORK/onvif.out" 2>/dev/null && break; sleep 0.1; done
FAKE_ONVIF_ADDRESS="127.0.0.1:$(sed -n 's/^ready http=[0-9]* discovery=\([0-9]*\)$/\1/p' "$WORK/onvif.out")"
[ "$FAKE_ONVIF_ADDRESS" != "127.0.0.1:" ] || { echo "web test: the fake ONVIF camera did not start"; cat "$WORK/onvif.log"; exit 1; }

# A second FAKE ONVIF camera as stricter cameras are: ONVIF over HTTPS with a self-signed
# certificate, and HTTP Digest with SHA-256, qop auth-int and userhash on every call. Its
# certificate and key are one PEM file, read again for each connection, so that the test
# can swap in another certificate (ui.test.mjs). Their SHA-256 fingerprints come from
# openssl here, independently of Custodian.
mkdir -p "$WORK/onvif-tls"
for which in camera other; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=FakeVision FV-200 ($which, fake)" \
    -keyout "$WORK/onvif-tls/$which.key" -out "$WORK/onvif-tls/$which.crt" 2>/dev/null
  cat "$WORK/onvif-tls/$which.crt" "$WORK/onvif-tls/$which.key" > "$WORK/onvif-tls/$which.pem"
done
fingerprint() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
export FAKE_ONVIF_TLS_SHA256=$(fingerprint "$WORK/onvif-tls/camera.crt")
export FAKE_ONVIF_TLS_OTHER_SHA256=$(fingerprint "$WORK/onvif-tls/other.crt")
cp "$WORK/onvif-tls/camera.pem" "$WORK/onvif-tls/served.pem"
"$FAKE_ONVIF" --username installer --password "$FAKE_ONVIF_PASSWORD" \
  --make FakeVision --model FV-200 --firmware 3.0.0-fake \
  --tls-cert "$WORK/onvif-tls/served.pem" --tls-key "$WORK/onvif-tls/served.pem" \
  --http-auth digest-auth-int-userhash \
  --main-uri "rtsp://127.0.0.1:$RTSP_PORT/porch" --sub-uri "rtsp://127.0.0.1:$RTSP_PORT/lobby-sub" \
  < /dev/null > "$WORK/onvif-tls.out" 2> "$WORK/onvif-tls.log" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q '^ready' "$WORK/onvif-tls.out" 2>/dev/null && break; sleep 0.1; done
FAKE_ONVIF_TLS_ADDRESS="127.0.0.1:$(sed -n 's/^ready http=[0-9]* discovery=\([0-9]*\)$/\1/p' "$WORK/onvif-tls.out")"
[ "$FAKE_ONVIF_TLS_ADDRESS" != "127.0.0.1:" ] || { echo "web test: the HTTPS fake ONVIF camera did not start"; cat "$WORK/onvif-tls.log"; exit 1; }

export WEB_PASSWORD="web-test-password-1"
for u in "manager1 manager" "manager2 manager" "dpo1 dpo" "staff1 staff"; do
  set -- $u
  echo "$WEB_PASSWORD" | C user add "$1" --role "$2" --camera lobby --camera yard --camera door >/dev/null
done
echo "$WEB_PASSWORD" | C user add admin1 --role admin >/dev/null
echo "$WEB_PASSWORD" | C user add finder1 --role manager --camera scene >/dev/null

# Started directly (not through C, a function, which would fork a subshell) so that $! is
# the service itself and cleanup stops it.
"$CUSTODIAN" --config "$WORK/site.yaml" record > "$WORK/record.log" 2>&1 &
PIDS+=($!)
"$CUSTODIAN" --config "$WORK/site.yaml" serve > "$WORK/serve.log" 2>&1 &
PIDS+=($!)
BASE="https://127.0.0.1:$HTTP_PORT"
for _ in $(seq 1 100); do curl -skf "$BASE/healthz" >/dev/null && break; sleep 0.2; done
curl -skf "$BASE/healthz" >/dev/null || { echo "web test: serve did not start"; cat "$WORK/serve.log"; exit 1; }

# Footage to review: a few complete segments of the lobby camera.
for _ in $(seq 1 120); do
  n=$(sqlite3 "$DATA/records.db" "SELECT count(*) FROM segments WHERE camera_id='lobby' AND state='complete'" 2>/dev/null || echo 0)
  d=$(sqlite3 "$DATA/records.db" "SELECT count(*) FROM segments WHERE camera_id='door' AND state='complete'" 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 3 ] && [ "${d:-0}" -ge 2 ] && break
  sleep 0.5
done
[ "${n:-0}" -ge 3 ] || { echo "web test: no footage was recorded"; cat "$WORK/record.log"; exit 1; }

if [ "${WEB_TEST_SERVE_ONLY:-0}" = 1 ]; then  # for working on the UI: keep the site up
  echo "web test: site at $BASE (data $DATA); Ctrl-C stops"
  wait "${PIDS[@]}"
  exit 0
fi

SHOTS="$BUILD/web-screenshots"
rm -rf "$SHOTS"; mkdir -p "$SHOTS"
BASE="$BASE" DB="$DATA/records.db" SHOTS="$SHOTS" CHROMIUM="$CHROMIUM" \
  SIM_IN="$WORK/sim.in" MAIL_DIR="$WORK/mail" SERVE_LOG="$WORK/serve.log" \
  FAKE_ONVIF_ADDRESS="$FAKE_ONVIF_ADDRESS" CAMERAS_DIR="$WORK/cameras" \
  FAKE_ONVIF_TLS_ADDRESS="$FAKE_ONVIF_TLS_ADDRESS" FAKE_ONVIF_TLS_DIR="$WORK/onvif-tls" \
  FAKE_ONVIF_TLS_LOG="$WORK/onvif-tls.log" \
  SCENE="$SCENE_LOOP,$SCENE_A_FROM,$SCENE_A_TO,$SCENE_B_FROM,$SCENE_B_TO" \
  PLAYWRIGHT_DIR="$NODE_DIR/node_modules/playwright-core" \
  timeout 600 node "$SRC/tests/web/ui.test.mjs" || {
    rc=$?
    echo "web test: failed ($rc); serve log tail:"; tail -n 30 "$WORK/serve.log"
    exit "$rc"
  }
