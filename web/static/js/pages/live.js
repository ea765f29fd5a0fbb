// Live view of one camera: the footage being recorded now, a second or two behind, with
// the wall-clock time of the picture. Like review, it needs a stated purpose first.
// A camera with a sub stream is shown from it (the server's choice while the sub stream
// has live footage); the viewer may switch to the main stream, full resolution, and back.
// A switch reopens the player under the same purpose: the server counts it in the same
// viewing of the camera, so it adds no access-log entry of its own.
import { get, query } from '../api.js';
import { h, clear, select, field, pageHeader, messageLine, button } from '../ui.js';
import { timeEl } from '../time.js';
import { askPurpose, PURPOSE_LABELS } from '../purpose.js';
import { LivePlayer } from '../player.js';

export async function render(main, { session, params, navigate }) {
  const cameras = session.cameras || [];
  const msg = messageLine();
  if (!cameras.length) { main.append(pageHeader('Live view'), h('p', {}, 'You have no cameras.')); return; }
  const list = await get('/api/v1/cameras').catch(() => ({ cameras: [] }));
  const names = Object.fromEntries(list.cameras.map((c) => [c.id, c.name || c.id]));
  const withSub = new Set(list.cameras.filter((c) => c.sub_stream_status).map((c) => c.id));
  const camera = select('camera', cameras.map((c) => [c, names[c] || c]), params.get('camera') || cameras[0]);
  // 'auto' asks for no stream: the sub stream while it is live, else the main stream.
  const stream = select('stream', [['auto', 'Sub stream (smaller picture)'], ['main', 'Main stream (full resolution)']],
    params.get('stream') === 'main' ? 'main' : 'auto');
  const streamField = field('Stream', stream);
  const purposeBox = h('div');
  const purposeLine = h('p', { class: 'purpose-line', hidden: true });
  const video = h('video', { class: 'footage', muted: true, playsinline: true, 'aria-label': 'Live footage' });
  const clock = h('output', { class: 'clock' }, '—');
  const pauseBtn = button('Pause', () => {
    if (!player) return;
    player.userPaused = !video.paused;
    if (video.paused) video.play().catch(() => {}); else video.pause();
  });
  const box = h('section', { class: 'player', 'aria-label': 'Live player', hidden: true }, video,
    h('div', { class: 'player-controls' }, h('span', { class: 'badge badge-bad live-badge' }, 'LIVE'), pauseBtn,
      h('span', { class: 'clock-label' }, 'Picture from: ', clock)));
  main.append(pageHeader('Live view', button('Back to cameras', () => navigate('cameras'))),
    h('div', { class: 'toolbar' }, field('Camera', camera), streamField), msg, purposeLine, purposeBox, box);

  let purpose = null, player = null, timer = null;
  function stop() { if (player) player.close(); player = null; clearInterval(timer); box.hidden = true; }
  async function start() {
    stop();
    streamField.hidden = !withSub.has(camera.value);
    if (!purpose) {
      purpose = await askPurpose(purposeBox, session.purposes || Object.keys(PURPOSE_LABELS));
      if (!purpose) {
        // Cancelled: say why nothing is shown and offer the form again (the header's "Back
        // to cameras" is the way back), rather than leave an empty page.
        clear(purposeBox, h('div', { class: 'note purpose-cancelled' },
          h('p', {}, 'Live view shows no footage until you say why you need to see it: the reason goes into the access log. Give a reason to watch, or go back to the cameras.'),
          h('div', { class: 'actions' }, button('Give a reason', () => start(), { class: 'primary' }))));
        purposeBox.querySelector('button')?.focus();
        return;
      }
      purposeLine.hidden = false;
      clear(purposeLine, 'Purpose for this live view: ', h('strong', {}, PURPOSE_LABELS[purpose.purpose] || purpose.purpose), ` — “${purpose.purpose_text}”`);
    }
    const wanted = withSub.has(camera.value) && stream.value === 'main' ? { stream: 'main' } : {};
    const url = `/api/v1/cameras/${encodeURIComponent(camera.value)}/live.m3u8` + query({ ...purpose, ...wanted });
    player = new LivePlayer(video, url, { onError: (e) => msg.error(e) });
    box.hidden = false;
    msg.show('Connecting…');
    try {
      await player.open();
      const converted = player.transcoded ? ` This browser cannot decode the camera's ${player.transcoded}; the server converts it to H.264.` : '';
      msg.show(`Live from ${names[camera.value] || camera.value}${streamNote(player.stream, withSub.has(camera.value), stream.value)}.${converted}`);
    } catch (e) { msg.error(e); }
    timer = setInterval(() => { if (player) { const w = player.wallAt(); if (!Number.isNaN(w)) clear(clock, timeEl(w)); } }, 500);
  }
  video.addEventListener('play', () => { pauseBtn.textContent = 'Pause'; });
  video.addEventListener('pause', () => { pauseBtn.textContent = 'Resume'; });
  camera.addEventListener('change', () => { stream.value = 'auto'; start(); });
  stream.addEventListener('change', () => start());
  start();
  return () => { stop(); purpose = null; };
}

// Which stream is shown, as the server said (X-Live-Stream), for a camera with a sub stream.
function streamNote(served, hasSub, asked) {
  if (!hasSub) return '';
  if (served === 'sub') return ', sub stream (smaller picture)';
  if (asked === 'main') return ', main stream (full resolution)';
  return ', main stream: the sub stream has no live footage now';
}
