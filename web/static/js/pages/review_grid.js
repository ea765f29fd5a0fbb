// Review together: up to nine cameras in a 2x2 or 3x3 grid, played at the same wall-clock
// instant from one timeline, so that a person crossing from one camera's view into
// another's can be followed. The first camera with footage leads; the others are moved to
// its wall-clock time whenever they drift by more than DRIFT_S, and pause where they have
// a gap. Like review, footage is fetched only after the stated purpose.
import { get, query } from '../api.js';
import { h, clear, field, select, messageLine, pageHeader, button } from '../ui.js';
import { timeEl, fromUkLocal, toUkInputs, utcIso } from '../time.js';
import { askPurpose, PURPOSE_LABELS } from '../purpose.js';
import { FootagePlayer } from '../player.js';

const WINDOWS = [['900', '15 minutes'], ['3600', '1 hour'], ['14400', '4 hours']];
const MAX_CAMERAS = 9;
const DRIFT_S = 0.25;   // a follower further than this from the leader is moved
const SYNC_MS = 250;

export async function render(main, { session, params }) {
  const cameras = session.cameras || [];
  const msg = messageLine();
  main.append(pageHeader('Review cameras together'));
  if (cameras.length < 2) {
    main.append(h('p', {}, 'Reviewing together needs at least two cameras; you have fewer.'));
    return;
  }
  const list = await get('/api/v1/cameras').catch(() => ({ cameras: [] }));
  const names = Object.fromEntries(list.cameras.map((c) => [c.id, c.name || c.id]));

  const windowSel = select('window', WINDOWS, params.get('window') || '900');
  const inputs = toUkInputs(params.get('at') ? new Date(params.get('at')) : new Date(Date.now() - Number(windowSel.value) * 1000 + 60_000));
  const dateIn = h('input', { type: 'date', name: 'date', value: inputs.date, required: true });
  const timeIn = h('input', { type: 'time', name: 'time', value: inputs.time, required: true, step: 60 });
  const wanted = new Set((params.get('cameras') || cameras.slice(0, 4).join(',')).split(','));
  const boxes = cameras.map((c) => h('input', { type: 'checkbox', name: 'camera', value: c, checked: wanted.has(c) }));
  const picker = h('form', { class: 'toolbar', 'aria-label': 'What to review together' },
    h('fieldset', { class: 'camera-choice' }, h('legend', {}, `Cameras (up to ${MAX_CAMERAS})`),
      ...cameras.map((c, i) => h('label', {}, boxes[i], ' ', names[c] || c))),
    field('Date (UK)', dateIn), field('From (UK time)', timeIn), field('Length', windowSel),
    h('button', { type: 'submit', class: 'primary' }, 'Show together'));
  const purposeLine = h('p', { class: 'purpose-line', hidden: true });
  const purposeBox = h('div');
  const grid = h('div', { class: 'review-grid', 'aria-label': 'Cameras' });
  const scrub = h('input', { type: 'range', min: 0, max: 1000, value: 0, step: 1, 'aria-label': 'Position in the time range', class: 'scrub' });
  const clock = h('output', { class: 'clock' }, '—');
  const playBtn = button('Play', () => togglePlay(), { class: 'primary' });
  const spreadOut = h('output', { class: 'grid-spread' });
  const controls = h('div', { class: 'player-controls', role: 'group', 'aria-label': 'Playback of every camera' },
    playBtn, h('span', { class: 'clock-label' }, 'Shown: ', clock), spreadOut);
  const playerBox = h('section', { class: 'player', 'aria-label': 'Cameras together', hidden: true }, grid, scrub, controls);
  main.append(picker, msg, purposeLine, purposeBox, playerBox);

  let purpose = null, range = null, cells = [], timer = null;

  const leader = () => cells.find((c) => c.player);

  function close() {
    clearInterval(timer);
    for (const c of cells) if (c.player) c.player.close();
    cells = [];
    clear(grid);
    playerBox.hidden = true;
    playBtn.textContent = 'Play';
  }

  async function show() {
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    if (chosen.length < 2 || chosen.length > MAX_CAMERAS) { msg.show(`Choose between 2 and ${MAX_CAMERAS} cameras.`, 'warn'); return; }
    if (!purpose) {
      purpose = await askPurpose(purposeBox, session.purposes || Object.keys(PURPOSE_LABELS));
      if (!purpose) return;
      purposeLine.hidden = false;
      clear(purposeLine, 'Purpose for this review: ', h('strong', {}, PURPOSE_LABELS[purpose.purpose] || purpose.purpose), ` — “${purpose.purpose_text}”`);
    }
    close();
    const from = fromUkLocal(dateIn.value, timeIn.value).getTime();
    range = { from, to: from + Number(windowSel.value) * 1000 };
    grid.classList.toggle('grid-3', chosen.length > 4);
    msg.show('Loading footage…');
    cells = chosen.map((camera) => {
      const video = h('video', { class: 'footage', muted: true, playsinline: true, 'aria-label': `Footage of ${names[camera] || camera}` });
      const note = h('p', { class: 'cell-note' });
      const el = h('figure', { class: 'grid-cell', 'data-camera': camera }, video, h('figcaption', {}, names[camera] || camera, ' ', note));
      grid.append(el);
      return { camera, video, note, player: null };
    });
    playerBox.hidden = false;
    const failures = [];
    await Promise.all(cells.map(async (c) => {
      try {
        const url = `/api/v1/cameras/${encodeURIComponent(c.camera)}/playlist.m3u8` + query({ from: utcIso(range.from), to: utcIso(range.to), ...purpose });
        const r = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
        if (!r.ok) throw new Error((await r.json().catch(() => null))?.error?.message || `playlist failed (${r.status})`);
        const player = new FootagePlayer(c.video, { onError: (e) => c.note.replaceChildren(e.message) });
        await player.open(await r.text());
        c.player = player;
      } catch (e) {
        c.note.replaceChildren(e.message);
        failures.push(names[c.camera] || c.camera);
      }
    }));
    const lead = leader();
    if (!lead) { msg.show('None of these cameras has footage in this range.', 'warn'); return; }
    seekAll(lead.player.wallAt(0));
    msg.show(failures.length ? `Footage loaded; not shown: ${failures.join(', ')}.` : 'Footage loaded. The cameras play together from one timeline.');
    lead.video.addEventListener('play', () => { playBtn.textContent = 'Pause'; });
    lead.video.addEventListener('pause', () => { playBtn.textContent = 'Play'; });
    timer = setInterval(sync, SYNC_MS);
  }

  function seekAll(wall) {
    for (const c of cells) if (c.player) c.player.seekWall(wall);
    showWall(wall);
  }

  function showWall(wall) {
    clear(clock, timeEl(wall));
    scrub.value = String(Math.round(((wall - range.from) / (range.to - range.from)) * 1000));
  }

  // Whether the camera has footage at a wall-clock time (not in a gap between its segments).
  function covers(player, wall) {
    return player.segments.some((s) => wall >= s.start && wall < s.start + s.duration * 1000);
  }

  function sync() {
    const lead = leader();
    if (!lead) return;
    const wall = lead.player.wallAt();
    showWall(wall);
    const walls = [wall];
    for (const c of cells) {
      if (!c.player || c === lead) continue;
      const v = c.video;
      if (!covers(c.player, wall)) {
        if (!v.paused) v.pause();
        c.note.replaceChildren('no footage at this time');
        continue;
      }
      c.note.replaceChildren();
      const target = c.player.mediaAt(wall);
      if (Math.abs(v.currentTime - target) > DRIFT_S) v.currentTime = target;
      v.playbackRate = lead.video.playbackRate;
      if (lead.video.paused !== v.paused) {
        if (lead.video.paused) v.pause(); else v.play().catch(() => {});
      }
      if (!v.seeking && v.readyState >= 2) walls.push(c.player.wallAt());
    }
    const spread = (Math.max(...walls) - Math.min(...walls)) / 1000;
    grid.dataset.spread = String(spread);
    grid.dataset.playing = String(walls.length);
    spreadOut.replaceChildren(walls.length > 1 ? `cameras within ${spread.toFixed(2)} s of each other` : '');
  }

  function togglePlay() {
    const lead = leader();
    if (!lead) return;
    if (lead.video.paused) lead.video.play().catch((e) => msg.error(e)); else lead.video.pause();
    sync();
  }

  scrub.addEventListener('input', () => {
    if (!range) return;
    seekAll(range.from + (Number(scrub.value) / 1000) * (range.to - range.from));
  });
  picker.addEventListener('submit', (ev) => { ev.preventDefault(); show(); });
  return () => { close(); purpose = null; };
}
