// The review of one redaction before its sign-off (request page, in the Redact panel): the
// job's progress while the server runs it, then what a manager checking a DSAR disclosure
// needs: the redacted video with the original beside it at the same moment, every flagged
// range (frames where the machine is unsure that everyone is masked) with a button that goes
// to it and a box to tick once it is checked, the contact sheet, and the sign-off, which stays
// disabled until every range is ticked and a note of what was checked is written. The API
// refuses the same sign-off, so the rule does not depend on this page.
//
// Both videos and the contact sheet are footage: each URL carries the stated purpose and the
// server logs every request with it. The original is loaded only when asked for, since
// looking at unredacted footage is an access of its own.
import { get, post, query } from '../api.js';
import { h, clear, field, button, badge, progressBar } from '../ui.js';
import { timeEl } from '../time.js';

const ROLES = { manager: 'manager', dpo: 'data protection officer', staff: 'staff', admin: 'administrator' };

// id: the redaction; ctx: { msg, schedule(fn), purpose() -> query object or null, reload }.
export function redactionReview(id, ctx) {
  const box = h('div', { class: 'redaction-job' });
  const bar = progressBar(`Redaction ${id} progress`);
  const poll = async () => {
    try {
      const d = await get(`/api/v1/redactions/${id}`);
      show(d);
      if (d.state === 'queued' || d.state === 'running') ctx.schedule(poll);
      else settle(d);
    } catch (err) { ctx.msg.error(err); }
  };
  // The outcome in place of "Redaction N started." (ui.js messageLine) once it has ended.
  function settle(d) {
    const key = `redaction-${id}`;
    const n = (d.flagged || []).length;
    if (d.state === 'done') {
      ctx.msg.settle(key, n ? `Redaction ${id} finished: ${n} flagged range(s) to check below, then sign it off.`
        : `Redaction ${id} finished: nothing flagged; watch it below, then sign it off.`);
    } else if (d.state === 'failed') {
      ctx.msg.settle(key, `Redaction ${id} failed${d.job?.error ? ': ' + d.job.error : '.'}`, 'error');
    } else {
      ctx.msg.settle(key, `Redaction ${id} ${d.state.replace('_', ' ')}.`, d.state === 'signed_off' ? 'ok' : 'warn');
    }
  }
  function show(d) {
    bar.set(d.progress ?? 0, d.state.replace('_', ' '));
    const done = d.state === 'done' || d.state === 'signed_off';
    const heading = h('h4', {}, `Redaction ${id} `, badge(d.state === 'signed_off' ? 'signed off' : d.state,
      d.state === 'failed' ? 'bad' : done ? 'ok' : 'warn'));
    if (!done) {
      return clear(box, heading, bar, d.job?.error && d.state === 'failed' ? h('p', { class: 'error' }, d.job.error) : null);
    }
    const files = d.record?.files || [];
    const flagged = d.flagged || [];
    const viewer = videoViewer(d, ctx);
    clear(box, heading, bar,
      h('p', {}, `${files.length} file(s) redacted; ${flagged.length} flagged range(s)${d.state === 'signed_off' ? '' : ' to check'}.`),
      d.state === 'signed_off' ? signedOff(d) : null,
      viewer.el,
      flaggedList(d, viewer, ctx),
      contactSheet(d, ctx));
  }
  poll();
  return box;
}

function signedOff(d) {
  const who = d.reviewer ? `${d.reviewer.name} (${ROLES[d.reviewer.role] || d.reviewer.role})` : 'an unknown reviewer';
  const s = d.record?.sign_off || {};
  const checked = (s.flagged_ranges_checked || []).length;
  return h('div', { class: 'note signed-off' },
    h('p', {}, 'Signed off ', timeEl(d.signed_off), ` by ${who}; ${checked} flagged range(s) confirmed checked.`),
    s.note ? h('p', {}, 'Their note: ', h('q', {}, s.note)) : null);
}

// --- The two videos ---------------------------------------------------------------------

function videoViewer(d, ctx) {
  const files = d.record?.files || [];
  let index = 0;
  const redacted = h('video', { class: 'review-video', controls: true, muted: true, preload: 'metadata',
    'aria-label': 'Redacted video' });
  const original = h('video', { class: 'review-video', muted: true, preload: 'metadata', 'aria-label': 'Original video' });
  const originalFigure = h('figure', { class: 'review-original', hidden: true }, original,
    h('figcaption', {}, 'Original: not disclosed. It follows the redacted video.'));
  const position = h('p', { class: 'review-position', 'aria-live': 'off' }, '');
  const fileSelect = files.length > 1 ? h('select', { name: 'review_file' },
    files.map((f, i) => h('option', { value: String(i) }, f.source))) : null;
  // Frames per second of the file: the record's, else from the video's length.
  const fpsOf = () => {
    const f = files[index] || {};
    if (f.frame_rate > 0) return f.frame_rate;
    return f.frames && redacted.duration > 0 ? f.frames / redacted.duration : 25;
  };
  const url = (kind) => {
    const p = ctx.purpose();
    return p ? `/api/v1/redactions/${d.id}/${kind}` + query({ file: String(index), ...p }) : null;
  };
  const load = () => {
    if (redacted.dataset.file === String(index)) return true;
    const u = url('video');
    if (!u) return false;
    redacted.src = u;
    redacted.dataset.file = String(index);
    redactedFigure.hidden = false;
    if (!originalFigure.hidden) loadOriginal();
    return true;
  };
  const loadOriginal = () => {
    const u = url('original');
    if (!u) return false;
    original.src = u;
    original.dataset.file = String(index);
    originalFigure.hidden = false;
    return true;
  };
  // The original follows the redacted video: same position, same play state and speed.
  const follow = () => {
    if (!original.src || original.readyState < 1) return;
    if (Math.abs(original.currentTime - redacted.currentTime) > 0.5 / fpsOf()) original.currentTime = redacted.currentTime;
  };
  redacted.addEventListener('seeking', follow);
  redacted.addEventListener('pause', () => { original.pause(); follow(); });
  redacted.addEventListener('play', () => { follow(); original.play().catch(() => {}); });
  redacted.addEventListener('ratechange', () => { original.playbackRate = redacted.playbackRate; });
  redacted.addEventListener('timeupdate', () => {
    const fps = fpsOf();
    const frame = Math.floor(redacted.currentTime * fps + 1e-3);
    position.textContent = `Frame ${frame} of ${files[index]?.frames ?? '?'} · ${redacted.currentTime.toFixed(2)} s`;
    if (!redacted.paused && Math.abs(original.currentTime - redacted.currentTime) > 0.25) follow();
  });
  original.addEventListener('loadedmetadata', () => {
    original.currentTime = redacted.currentTime;
    if (!redacted.paused) original.play().catch(() => {});
  });
  redacted.addEventListener('error', () => ctx.msg.show('The redacted video could not be played here.', 'error'));
  original.addEventListener('error', () => ctx.msg.show('The original could not be played here (its codec may not play in this browser).', 'error'));

  const needPurpose = () => ctx.msg.show('Say why you are viewing the footage first (for the access log).', 'error');
  const play = button('Play redacted video', () => { if (!load()) return needPurpose(); redacted.play().catch(() => {}); });
  const besides = button('Show original beside it', () => {
    if (!originalFigure.hidden) { original.pause(); original.removeAttribute('src'); original.load(); originalFigure.hidden = true; besides.textContent = 'Show original beside it'; return; }
    if (!load() || !loadOriginal()) return needPurpose();
    besides.textContent = 'Hide original';
  });
  const step = (n) => { if (!redacted.src) return; redacted.pause(); redacted.currentTime = Math.max(0, redacted.currentTime + n / fpsOf()); };
  fileSelect?.addEventListener('change', () => { index = Number(fileSelect.value); load(); });

  // Shown once a video is loaded: an empty player is only a black box.
  const redactedFigure = h('figure', { class: 'review-redacted', hidden: true }, redacted,
    h('figcaption', {}, 'Redacted: what will be disclosed.'));
  const el = h('section', { class: 'review-player', 'aria-label': `Review video of redaction ${d.id}` },
    h('h5', {}, 'Watch before signing off'),
    h('div', { class: 'toolbar' }, fileSelect ? field('File', fileSelect) : null, play, besides,
      button('Back one frame', () => step(-1)), button('Forward one frame', () => step(1))),
    h('div', { class: 'review-videos' },
      redactedFigure, originalFigure),
    position);
  // Goes to a flagged range: its file, paused on its first frame (a quarter frame in, so that
  // rounding cannot show the frame before).
  const goTo = async (fileIndex, fromFrame) => {
    if (fileSelect) fileSelect.value = String(fileIndex);
    index = fileIndex;
    if (!load()) return needPurpose();
    if (redacted.readyState < 1) await new Promise((resolve) => redacted.addEventListener('loadedmetadata', resolve, { once: true }));
    redacted.pause();
    redacted.currentTime = (fromFrame + 0.25) / fpsOf();
    el.scrollIntoView({ block: 'nearest' });
  };
  return { el, goTo };
}

// --- Flagged ranges and the sign-off ------------------------------------------------------

function rangeText(f, k) {
  const one = f.from_frame === f.to_frame;
  const secs = one ? `${Number(f.from_s).toFixed(1)} s` : `${Number(f.from_s).toFixed(1)}–${Number(f.to_s).toFixed(1)} s`;
  const frames = one ? `frame ${f.from_frame}` : `frames ${f.from_frame}–${f.to_frame}`;
  return `${k}. ${frames} (${secs}): ${f.reason || 'check'}`;
}

function flaggedList(d, viewer, ctx) {
  const flagged = d.flagged || [];
  const multi = (d.record?.files || []).length > 1;
  const signed = d.state === 'signed_off';
  const ticked = new Set();
  const boxes = [];
  const numberInFile = new Map();
  const items = flagged.map((f) => {
    const k = (numberInFile.get(f.file_index) || 0) + 1;
    numberInFile.set(f.file_index, k);
    const label = `flagged range ${multi ? `${f.file_index + 1}.` : ''}${k}`;
    const tick = h('input', { type: 'checkbox', name: 'checked_range', value: f.id, 'aria-label': `Checked ${label}` });
    tick.addEventListener('change', () => { if (tick.checked) ticked.add(f.id); else ticked.delete(f.id); update(); });
    boxes.push(tick);
    return h('li', { class: 'flagged-range' },
      signed ? null : h('label', { class: 'tick' }, tick, ' Checked'),
      h('span', { class: 'range-text' }, multi ? `${f.file}: ` : '', rangeText(f, k),
        f.on_contact_sheet ? h('span', { class: 'hint' }, ` (on the contact sheet as “flagged ${k}”)`) : null),
      button(`Go to ${label}`, () => viewer.goTo(f.file_index, f.from_frame), { class: 'link', 'aria-label': `Go to ${label}` }));
  });
  const list = h('ol', { class: 'flagged' }, items.length ? items : h('li', {}, 'No frames flagged.'));
  if (signed) return h('section', { 'aria-label': 'Flagged ranges' }, h('h5', {}, 'Flagged ranges'), list);

  const note = h('textarea', { name: 'sign_off_note', rows: 2, maxlength: 2000 });
  const status = h('p', { class: 'hint sign-off-status', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary', disabled: true }, 'Sign off redaction');
  function update() {
    const left = flagged.length - ticked.size;
    const noted = note.value.trim().length > 0;
    submit.disabled = left > 0 || !noted;
    status.textContent = left > 0 ? `${ticked.size} of ${flagged.length} flagged ranges ticked: tick each one once you have checked it.`
      : !noted ? 'Write what you checked to sign off.' : 'Ready to sign off.';
  }
  note.addEventListener('input', update);
  const form = h('form', { class: 'sign-off' },
    field('What you checked (kept in the record and the signed manifest)', note,
      'e.g. watched the whole video beside the original; every passer-by masked in the flagged ranges'),
    status, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await post(`/api/v1/redactions/${d.id}/sign-off`, { note: note.value.trim(), checked: [...ticked] });
      ctx.msg.show(`Redaction ${d.id} signed off; the DSAR package is now the redacted one.`, 'ok');
      await ctx.reload();
    } catch (err) { ctx.msg.error(err); }
  });
  update();
  return h('section', { 'aria-label': 'Flagged ranges and sign-off' },
    h('fieldset', {}, h('legend', {}, flagged.length ? 'Flagged ranges: go to each, compare with the original, tick it when checked' : 'Flagged ranges'), list),
    form);
}

function contactSheet(d, ctx) {
  const img = h('img', { class: 'contact-sheet', alt: `Contact sheet of redaction ${d.id}: a frame every 10 s and the first frame of each flagged range; masks outlined in red, flagged frames in yellow`, hidden: true });
  // Hidden until it has loaded: with no picture yet it would show as a broken image.
  img.addEventListener('load', () => { img.hidden = false; });
  img.addEventListener('error', () => { img.hidden = true; ctx.msg.show('The contact sheet could not be shown.', 'error'); });
  const files = d.record?.files || [];
  const show = button('Show contact sheet', () => {
    const p = ctx.purpose();
    if (!p) return ctx.msg.show('Say why you are viewing the footage first (for the access log).', 'error');
    img.src = `/api/v1/redactions/${d.id}/contact.jpg` + query({ file: '0', ...p });
  });
  return h('section', { class: 'review-sheet', 'aria-label': 'Contact sheet' }, show,
    files.length > 1 ? h('span', { class: 'hint' }, ' (of the first file)') : null, h('div', {}, img));
}
