// Review: pick a camera and a time; see the recorded footage and gaps on a timeline, and
// under it the activity strip (how much moved when); play, pause, scrub, step frame by
// frame, jump to the next or previous activity, change speed; take a snapshot (saved as a
// file by managers and the DPO only); search by region (region_search.js). Footage, and
// activity with it, is fetched only after the stated purpose (purpose.js), which goes with
// every footage request.
import { get, query } from '../api.js';
import { h, clear, field, select, messageLine, pageHeader, button } from '../ui.js';
import { timeEl, ukDateTime, ukTime, fromUkLocal, toUkInputs, utcIso, duration } from '../time.js';
import { askPurpose, PURPOSE_LABELS } from '../purpose.js';
import { FootagePlayer } from '../player.js';
import { regionSearch } from './region_search.js';

const WINDOWS = [['900', '15 minutes'], ['3600', '1 hour'], ['14400', '4 hours'], ['43200', '12 hours'], ['86400', '24 hours']];
const SPEEDS = ['0.25', '0.5', '1', '2', '4', '8'];
const NEWEST_LEAD_MS = 30_000;
const MAY_SAVE_STILLS = ['manager', 'dpo'];

export async function render(main, { session, params }) {
  let purpose = null;   // this review session's stated purpose
  let player = null;
  let timeline = null;  // {camera, from, to, segments, gaps}
  let activity = null;  // {buckets, active: [{start, end, peak}] in ms} for the timeline
  let frameSeconds = 1 / 25;
  let cursorWall = null;
  let openAtNewest = !params.get('at');

  const cameras = session.cameras || [];
  const msg = messageLine();
  if (!cameras.length) {
    main.append(pageHeader('Review footage'), h('p', {}, 'You have no cameras to review. An admin grants cameras to accounts.'));
    return;
  }
  const list = await get('/api/v1/cameras').catch(() => ({ cameras: [] }));
  const names = Object.fromEntries(list.cameras.map((c) => [c.id, c.name || c.id]));
  const segmentSeconds = Object.fromEntries(list.cameras.map((c) => [c.id, c.segment_seconds]));

  // By default the last hour (or the given length), so the newest footage is at the right.
  const windowSel = select('window', WINDOWS, params.get('window') || '3600');
  const initialAt = params.get('at') ? new Date(params.get('at')) : new Date(Date.now() - Number(windowSel.value) * 1000 + 60_000);
  const inputs = toUkInputs(initialAt);
  const cameraSel = select('camera', cameras.map((c) => [c, names[c] || c]), params.get('camera') || cameras[0]);
  const dateIn = h('input', { type: 'date', name: 'date', value: inputs.date, required: true });
  const timeIn = h('input', { type: 'time', name: 'time', value: inputs.time, required: true, step: 60 });
  const picker = h('form', { class: 'toolbar', 'aria-label': 'What to review' },
    field('Camera', cameraSel), field('Date (UK)', dateIn), field('From (UK time)', timeIn), field('Length', windowSel),
    h('button', { type: 'submit', class: 'primary' }, 'Show timeline'));

  const recordingNote = h('p', { class: 'recording-note', hidden: true });
  const purposeLine = h('p', { class: 'purpose-line', hidden: true });
  const purposeBox = h('div');
  const bar = h('div', { class: 'timeline-bar', role: 'presentation' });
  const playhead = h('div', { class: 'playhead', hidden: true });
  // Hovering the timeline shows the time there and, once footage is playing (the purpose is
  // stated), a picture of that moment.
  const hoverImg = h('img', { alt: '', hidden: true });
  const hoverCaption = h('figcaption');
  const hoverBox = h('figure', { class: 'timeline-hover', hidden: true }, hoverImg, hoverCaption);
  const scrub = h('input', { type: 'range', min: 0, max: 1000, value: 0, step: 1, 'aria-label': 'Position in the time range', class: 'scrub' });
  const axis = h('div', { class: 'timeline-axis' });
  const legend = h('p', { class: 'legend' },
    h('span', { class: 'key key-footage' }), 'recorded ', h('span', { class: 'key key-gap' }), 'gap (recorded reason) ',
    h('span', { class: 'key key-none' }), 'no footage');
  const summary = h('p', { class: 'timeline-summary' });
  // The activity strip: one slice per bucket, darker where more moved; empty until a purpose
  // is stated, because when people moved is footage too.
  const strip = h('div', { class: 'activity-strip', role: 'img', 'aria-label': 'Activity' });
  const showActivityBtn = button('Show activity', () => showActivity(), { class: 'link' });
  const prevActBtn = button('◀ Previous activity', () => jumpActivity(-1), { 'aria-keyshortcuts': 'Shift+ArrowLeft' });
  const nextActBtn = button('Next activity ▶', () => jumpActivity(1), { 'aria-keyshortcuts': 'Shift+ArrowRight' });
  const activityNote = h('span', { class: 'activity-note' });
  const activityBar = h('div', { class: 'activity-controls' }, showActivityBtn, prevActBtn, nextActBtn, activityNote);
  const timelineBox = h('section', { class: 'timeline', 'aria-label': 'Timeline', hidden: true },
    h('div', { class: 'timeline-track' }, bar, playhead, hoverBox), strip, axis, scrub, activityBar, legend, summary);

  const video = h('video', { class: 'footage', playsinline: true, 'aria-label': 'Footage', tabindex: 0 });
  const clock = h('output', { class: 'clock', 'aria-live': 'off' }, '—');
  const playBtn = button('Play', () => togglePlay(), { class: 'primary', 'aria-keyshortcuts': 'k' });
  const back = button('◀ Frame', () => stepFrame(-1), { 'aria-label': 'Step back one frame', 'aria-keyshortcuts': ',' });
  const fwd = button('Frame ▶', () => stepFrame(1), { 'aria-label': 'Step forward one frame', 'aria-keyshortcuts': '.' });
  const skipBack = button('−10 s', () => skip(-10), { 'aria-label': 'Back 10 seconds', 'aria-keyshortcuts': 'ArrowLeft' });
  const skipFwd = button('+10 s', () => skip(10), { 'aria-label': 'Forward 10 seconds', 'aria-keyshortcuts': 'ArrowRight' });
  const speed = select('speed', SPEEDS.map((s) => [s, `${s}×`]), '1');
  speed.addEventListener('change', () => { video.playbackRate = Number(speed.value); });
  const snapBtn = button('Snapshot', () => snapshot());
  const watchBtn = button('Watch from the selected time', () => watch(), { class: 'primary' });
  const snapBox = h('div', { class: 'snapshot' });
  const controls = h('div', { class: 'player-controls', role: 'group', 'aria-label': 'Playback' },
    playBtn, skipBack, back, fwd, skipFwd, field('Speed', speed), snapBtn, h('span', { class: 'clock-label' }, 'Shown: ', clock));
  const playerBox = h('section', { class: 'player', 'aria-label': 'Player', hidden: true }, video, controls, snapBox);

  const search = regionSearch({
    camera: () => (timeline ? timeline.camera : cameraSel.value),
    until: () => (timeline ? timeline.to : Date.now()),
    at: () => cursorWall,
    ensurePurpose: () => ensurePurpose(),
    purpose: () => purpose,
    onPlay: (peakMs) => playMoment(peakMs),
  });
  main.append(pageHeader('Review footage'), picker, msg, recordingNote, timelineBox, h('div', { class: 'actions' }, watchBtn), purposeLine, purposeBox, playerBox, search.element);
  watchBtn.hidden = true;

  function span() { return timeline ? timeline.to - timeline.from : 1; }
  function fracOf(ms) { return (ms - timeline.from) / span(); }

  // A segment still being recorded has no end yet: it reaches to now.
  const segEnd = (s) => (s.end ? Date.parse(s.end) : Date.now());

  function drawTimeline() {
    clear(bar);
    for (const s of timeline.segments) {
      const a = Math.max(timeline.from, Date.parse(s.start)), b = Math.min(timeline.to, segEnd(s));
      const el = h('div', { class: `seg seg-footage${s.state === 'complete' ? '' : ' seg-recording'}`, title: `${s.state === 'complete' ? 'recorded' : 'being recorded'} ${ukDateTime(a)} – ${ukDateTime(b)}` });
      el.style.left = `${fracOf(a) * 100}%`;
      el.style.width = `${Math.max(0.2, fracOf(b) * 100 - fracOf(a) * 100)}%`;
      bar.append(el);
    }
    for (const g of timeline.gaps) {
      const a = Math.max(timeline.from, Date.parse(g.start)), b = Math.min(timeline.to, g.end ? Date.parse(g.end) : Date.now());
      const el = h('div', { class: 'seg seg-gap', title: `gap: ${g.reason}${g.detail ? ' (' + g.detail + ')' : ''}` });
      el.style.left = `${fracOf(a) * 100}%`;
      el.style.width = `${Math.max(0.2, fracOf(b) * 100 - fracOf(a) * 100)}%`;
      bar.append(el);
    }
    clear(axis);
    for (let i = 0; i <= 4; i++) {
      const t = timeline.from + (span() * i) / 4;
      const tick = h('span', { class: 'tick' }, timeEl(t, { short: true }));
      tick.style.left = `${i * 25}%`;
      axis.append(tick);
    }
    const recorded = timeline.segments.reduce((sum, s) =>
      sum + Math.max(0, Math.min(timeline.to, segEnd(s)) - Math.max(timeline.from, Date.parse(s.start))), 0);
    clear(summary, `${names[timeline.camera] || timeline.camera}: `, timeEl(timeline.from), ' to ', timeEl(timeline.to),
      `. Recorded ${duration(recorded / 1000)} in ${timeline.segments.length} segment files; ${timeline.gaps.length} gaps.`);
  }

  function showCursor(wallMs) {
    cursorWall = wallMs;
    playhead.hidden = false;
    playhead.style.left = `${Math.min(1, Math.max(0, fracOf(wallMs))) * 100}%`;
    scrub.value = String(Math.round(fracOf(wallMs) * 1000));
    scrub.setAttribute('aria-valuetext', ukDateTime(wallMs));
    clear(clock, timeEl(wallMs));
  }

  function drawActivity() {
    clear(strip);
    prevActBtn.disabled = nextActBtn.disabled = !activity || !activity.active.length;
    showActivityBtn.hidden = !!activity;
    if (!activity) { clear(activityNote, 'Activity is shown once a purpose is stated.'); return; }
    const n = activity.buckets.length;
    activity.buckets.forEach((score, i) => {
      if (score <= 0) return;
      const el = h('div', { class: 'act' });
      el.style.left = `${(i / n) * 100}%`;
      el.style.width = `${Math.max(0.15, 100 / n)}%`;
      el.style.opacity = String(0.25 + 0.75 * Math.min(1, score / 160));
      strip.append(el);
    });
    clear(activityNote, activity.active.length ? `${activity.active.length} ${activity.active.length === 1 ? 'stretch' : 'stretches'} of activity` : 'No activity recorded in this range.');
  }

  async function loadActivity() {
    if (!timeline || !purpose) return;
    try {
      const a = await get(`/api/v1/cameras/${encodeURIComponent(timeline.camera)}/activity` +
        query({ from: utcIso(timeline.from), to: utcIso(timeline.to), buckets: 480, ...purpose }));
      activity = {
        buckets: a.buckets,
        active: a.active.map((m) => ({ start: Date.parse(m.start), end: Date.parse(m.end), peak: Date.parse(m.peak) })),
      };
      drawActivity();
    } catch (e) { msg.error(e); }
  }

  async function showActivity() {
    if (await ensurePurpose()) await loadActivity();
  }

  // Jumps to the start of the next (or previous) stretch of activity from the cursor.
  function jumpActivity(dir) {
    if (!activity || !activity.active.length) return;
    const here = cursorWall ?? timeline.from;
    const runs = activity.active;
    const target = dir > 0 ? runs.find((r) => r.start > here + 1000)
      : [...runs].reverse().find((r) => r.start < here - 1000);
    if (!target) { msg.show(dir > 0 ? 'No later activity in this range.' : 'No earlier activity in this range.', 'info'); return; }
    showCursor(target.start);
    if (player) player.seekWall(target.start);
    msg.show(`Activity at ${ukDateTime(target.start)}.`, 'info');
  }

  // From a search result: the quarter hour around the moment, played from just before it.
  async function playMoment(peakMs) {
    const start = peakMs - 5 * 60_000;
    const inputs = toUkInputs(new Date(start));
    dateIn.value = inputs.date;
    timeIn.value = inputs.time;
    windowSel.value = '900';
    await loadTimeline();
    showCursor(Math.max(timeline.from, peakMs - 2000));
    await watch();
  }

  async function loadTimeline() {
    closePlayer();
    activity = null;
    const from = fromUkLocal(dateIn.value, timeIn.value).getTime();
    const to = from + Number(windowSel.value) * 1000;
    msg.show('Loading the timeline…');
    try {
      const t = await get(`/api/v1/cameras/${encodeURIComponent(cameraSel.value)}/timeline` + query({ from: utcIso(from), to: utcIso(to) }));
      timeline = { camera: cameraSel.value, from, to, segments: t.segments, gaps: t.gaps };
      timelineBox.hidden = false;
      drawTimeline();
      drawActivity();
      if (purpose) loadActivity();
      const complete = t.segments.filter((s) => s.state === 'complete');
      const first = complete[0], last = complete[complete.length - 1];
      // Opened without a time, review starts near the newest footage (its last half minute).
      const newest = openAtNewest && last ? Date.parse(last.end) - NEWEST_LEAD_MS : -Infinity;
      openAtNewest = false;
      showCursor(first ? Math.max(from, Date.parse(first.start), newest) : from);
      watchBtn.hidden = !first;
      const recording = t.segments.find((s) => s.state !== 'complete');
      if (first) msg.show('Choose a time on the timeline, then watch.', 'info');
      else if (recording) msg.show('No footage to review in this range yet: it is still being recorded.', 'info');
      else msg.show('No complete footage in this range.', 'warn');
      showRecordingNote(first ? null : recording);
    } catch (e) { msg.error(e); }
  }

  // A segment is reviewable once it is complete (a new camera's first one after a segment's
  // length), so until then say when that will be, and that live view shows the camera now.
  function showRecordingNote(recording) {
    recordingNote.hidden = !recording;
    if (!recording) return;
    const secs = segmentSeconds[timeline.camera];
    const due = secs ? Date.parse(recording.start) + secs * 1000 : null;
    const when = due === null ? 'once its segment is complete'
      : due > Date.now() ? `once its segment is complete, at about ${ukTime(due)} (this camera's segments are ${duration(secs)} long)`
        : 'as soon as its segment is complete (it ends at the next whole picture the camera sends)';
    clear(recordingNote, `Footage appears here ${when}; then choose Show timeline again. Until then `,
      h('a', { href: `#/live?camera=${encodeURIComponent(timeline.camera)}` }, 'live view'), ' shows the camera now.');
  }

  async function ensurePurpose() {
    if (purpose) return purpose;
    purpose = await askPurpose(purposeBox, session.purposes || Object.keys(PURPOSE_LABELS));
    if (purpose) {
      loadActivity();
      purposeLine.hidden = false;
      clear(purposeLine, 'Purpose for this review: ', h('strong', {}, PURPOSE_LABELS[purpose.purpose] || purpose.purpose),
        ` — “${purpose.purpose_text}” `, button('Change', () => { purpose = null; activity = null; drawActivity(); closePlayer(); purposeLine.hidden = true; }, { class: 'link' }));
    }
    return purpose;
  }

  async function watch() {
    if (!timeline || !(await ensurePurpose())) return;
    closePlayer();
    msg.show('Loading footage…');
    const url = `/api/v1/cameras/${encodeURIComponent(timeline.camera)}/playlist.m3u8` +
      query({ from: utcIso(timeline.from), to: utcIso(timeline.to), ...purpose });
    try {
      const r = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
      if (!r.ok) throw new Error((await r.json().catch(() => null))?.error?.message || `playlist failed (${r.status})`);
      player = new FootagePlayer(video, {
        onError: (e) => msg.error(e),
        onBuffering: (on) => playerBox.classList.toggle('buffering', on),
      });
      playerBox.hidden = false;
      await player.open(await r.text());
      if (cursorWall !== null) player.seekWall(cursorWall);
      const converted = player.transcoded ? ` This browser cannot decode the camera's ${player.transcoded}; the server converts it to H.264 as it plays.` : '';
      msg.show(`Footage loaded.${converted} Space or K plays and pauses; comma and full stop step a frame.`);
      video.focus();
    } catch (e) { msg.error(e); }
  }

  function closePlayer() {
    if (player) { player.close(); player = null; }
    playerBox.hidden = true;
    clear(snapBox);
    playBtn.textContent = 'Play';
  }

  function togglePlay() {
    if (!player) return;
    if (video.paused) video.play().catch((e) => msg.error(e)); else video.pause();
  }

  function skip(seconds) {
    if (!player) return;
    video.currentTime = Math.max(0, Math.min(player.duration - 0.001, video.currentTime + seconds));
  }

  function stepFrame(dir) {
    if (!player) return;
    video.pause();
    video.currentTime = Math.max(0, Math.min(player.duration - 0.001, video.currentTime + dir * frameSeconds));
  }

  function snapshot() {
    if (!player || !purpose) return;
    const at = player.wallAt();
    const url = `/api/v1/cameras/${encodeURIComponent(timeline.camera)}/thumbnail.jpg` + query({ at: utcIso(new Date(Math.ceil(at) + 1)), ...purpose });  // the records keep microseconds; stay inside the segment
    const img = h('img', { src: url, alt: `Snapshot of ${names[timeline.camera] || timeline.camera} at ${ukDateTime(at)}` });
    img.addEventListener('error', () => msg.show('The snapshot could not be made (a gap, or the server is busy).', 'error'));
    clear(snapBox, h('figure', {}, img, h('figcaption', {}, 'Snapshot at ', timeEl(at), ' ', saveStill(at))));
  }

  // Looking at a frame is viewing; a still saved as a file is a copy of footage leaving the
  // system, so, like an export's package, it is a manager's or the DPO's to take (the server
  // refuses staff), each one an access-log entry with the purpose.
  function saveStill(at) {
    if (!MAY_SAVE_STILLS.includes(session.user.role)) {
      return h('p', { class: 'still-note' }, 'Saving a still needs a manager or the DPO: a saved picture is a copy of footage leaving the system. '
        + 'Ask a manager, or log a request: its footage goes out in the request’s export.');
    }
    const url = `/api/v1/cameras/${encodeURIComponent(timeline.camera)}/still.jpg` + query({ at: utcIso(new Date(Math.ceil(at) + 1)), ...purpose });
    return h('a', { class: 'button', href: url, download: '' }, 'Save still');
  }

  video.addEventListener('play', () => { playBtn.textContent = 'Pause'; });
  video.addEventListener('pause', () => { playBtn.textContent = 'Play'; });
  video.addEventListener('timeupdate', () => { if (player) showCursor(player.wallAt()); });
  video.addEventListener('seeked', () => { if (player) showCursor(player.wallAt()); });
  video.addEventListener('keydown', (ev) => {
    if (ev.key === ' ' || ev.key === 'k') { ev.preventDefault(); togglePlay(); }
    else if (ev.key === ',') stepFrame(-1);
    else if (ev.key === '.') stepFrame(1);
    else if (ev.key === 'ArrowLeft' && ev.shiftKey) { ev.preventDefault(); jumpActivity(-1); }
    else if (ev.key === 'ArrowRight' && ev.shiftKey) { ev.preventDefault(); jumpActivity(1); }
    else if (ev.key === 'ArrowLeft') { ev.preventDefault(); skip(-10); }
    else if (ev.key === 'ArrowRight') { ev.preventDefault(); skip(10); }
  });
  if ('requestVideoFrameCallback' in video) {
    let lastMedia = null;
    const onFrame = (_now, meta) => {
      if (lastMedia !== null) {
        const d = meta.mediaTime - lastMedia;
        if (d > 0.005 && d < 0.2 && video.playbackRate === 1) frameSeconds = d;
      }
      lastMedia = meta.mediaTime;
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  function pickAt(frac) {
    if (!timeline) return;
    const wall = timeline.from + Math.min(1, Math.max(0, frac)) * span();
    showCursor(wall);
    if (player) player.seekWall(wall);
  }
  let hoverTimer = null, hoverBusy = false;
  function hoverAt(ev) {
    if (!timeline) return;
    const r = bar.getBoundingClientRect();
    const frac = Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width));
    const wall = timeline.from + frac * span();
    hoverBox.hidden = false;
    hoverBox.style.left = `${frac * 100}%`;
    clear(hoverCaption, ukDateTime(wall));
    clearTimeout(hoverTimer);
    const inFootage = timeline.segments.some((s) => s.state === 'complete' && Date.parse(s.start) <= wall && wall < segEnd(s));
    if (!player || !purpose || !inFootage) { hoverImg.hidden = true; return; }
    hoverTimer = setTimeout(() => {
      if (hoverBusy) return;
      hoverBusy = true;
      hoverImg.src = `/api/v1/cameras/${encodeURIComponent(timeline.camera)}/thumbnail.jpg` + query({ at: utcIso(new Date(Math.ceil(wall))), ...purpose });
    }, 300);
  }
  hoverImg.addEventListener('load', () => { hoverBusy = false; hoverImg.hidden = false; });
  hoverImg.addEventListener('error', () => { hoverBusy = false; hoverImg.hidden = true; });
  bar.addEventListener('pointermove', hoverAt);
  bar.addEventListener('pointerleave', () => { clearTimeout(hoverTimer); hoverBox.hidden = true; });
  bar.addEventListener('click', (ev) => {
    const r = bar.getBoundingClientRect();
    pickAt((ev.clientX - r.left) / r.width);
  });
  scrub.addEventListener('input', () => pickAt(Number(scrub.value) / 1000));
  picker.addEventListener('submit', (ev) => { ev.preventDefault(); loadTimeline(); });

  await loadTimeline();
  return () => { closePlayer(); search.close(); purpose = null; };
}
