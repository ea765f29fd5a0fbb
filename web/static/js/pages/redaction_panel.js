// The "Redact" panel of a ready export (request page): choose the mode and mask style,
// draw a box on the export's first frame (a pointer drag on a canvas over the picture, or
// the X/Y/W/H number inputs, which the keyboard reaches), start the server's redaction job,
// follow its progress (the server keeps the job; a reload finds it again through the
// export's `redactions`), then review it and sign off (redaction_review.js).
//
// The frame, the contact sheet and the review's videos are footage: their URLs carry the
// stated purpose, so the access log holds it. The box is in pixels of the video frame; the
// picture may be scaled.
import { post, query } from '../api.js';
import { h, clear, field, select, button } from '../ui.js';
import { utcIso } from '../time.js';
import { redactionReview } from './redaction_review.js';

const MODES = [['faces', 'Mask every face'], ['keep-subject', 'Keep the data subject, mask everyone else'],
  ['keep-region', 'Keep only the box, mask everything else']];
const STYLES = [['solid', 'Solid black'], ['pixelate', 'Pixelate'], ['blur', 'Blur']];

// x: the export (GET /api/v1/exports/{id}); r: its request; ctx: { msg, timers, reload,
// handedOver, heldBack }. The form to start one opens by itself only where the package
// waits on a redaction (a DSAR's, held back until redacted or justified); elsewhere (a
// police exhibit goes out as recorded) it stays folded. Once the export is handed over a
// redaction would change nothing that left, so none is offered; earlier ones still show.
export function redactionPanel(x, r, { msg, timers, reload, handedOver = false, heldBack = false }) {
  const panel = h('div', { class: 'redaction card-inner', 'aria-label': `Redaction of export ${x.id}` });
  const video = (x.files || []).find((f) => f.kind === 'video' && f.width > 0);
  const range = (x.ranges || [])[0];
  const purposeText = h('input', { name: 'redaction_purpose_text', maxlength: 500,
    value: `Redaction review for request #${r.id}${r.reference ? ' (' + r.reference + ')' : ''}` });
  const purpose = () => ({ purpose: 'request', purpose_text: purposeText.value.trim() });

  const schedule = (fn) => { const t = setTimeout(() => { timers.delete(t); fn(); }, 1000); timers.add(t); };

  // The review of one redaction: its own module.
  const purposeOrNull = () => (purposeText.value.trim().length >= 3 ? purpose() : null);
  const review = (id) => redactionReview(id, { msg, schedule, purpose: purposeOrNull, reload });

  // --- Starting one ------------------------------------------------------------------------
  function startForm() {
    const mode = select('mode', MODES, 'faces');
    const style = select('style', STYLES, 'solid');
    const nums = {};
    for (const k of ['x', 'y', 'w', 'h']) nums[k] = h('input', { type: 'number', name: `box_${k}`, min: 0, step: 1, value: 0 });
    const from = h('input', { type: 'number', name: 'box_from', min: 0, step: 0.1, value: 0 });
    const to = h('input', { type: 'number', name: 'box_to', min: 0, step: 0.1, value: 3600 });
    // Hidden until a frame has loaded: an image with no picture yet would show as a broken one.
    const img = h('img', { class: 'redaction-frame', alt: 'First frame of the export', hidden: true });
    const canvas = h('canvas', { class: 'redaction-canvas', 'aria-hidden': 'true' });
    const stage = h('div', { class: 'redaction-stage' }, img, canvas);
    // CSSOM, not a style attribute: the CSP forbids inline styles.
    stage.style.position = 'relative';
    stage.style.display = 'inline-block';
    stage.style.maxWidth = '100%';
    img.style.display = 'block';
    img.style.maxWidth = '100%';
    canvas.style.position = 'absolute';
    canvas.style.left = '0';
    canvas.style.top = '0';
    canvas.style.width = '100%';
    canvas.style.height = '100%';
    canvas.style.cursor = 'crosshair';
    canvas.style.touchAction = 'none';
    canvas.dataset.testid = 'redaction-canvas';

    const size = () => ({ w: video?.width || img.naturalWidth || 0, h: video?.height || img.naturalHeight || 0 });
    const boxOf = () => ({ x: Number(nums.x.value) || 0, y: Number(nums.y.value) || 0, w: Number(nums.w.value) || 0, h: Number(nums.h.value) || 0 });
    const draw = () => {
      const s = size();
      if (!s.w) return;
      if (canvas.width !== s.w) canvas.width = s.w;
      if (canvas.height !== s.h) canvas.height = s.h;
      const g = canvas.getContext('2d');
      g.clearRect(0, 0, s.w, s.h);
      const b = boxOf();
      if (b.w > 0 && b.h > 0) {
        g.fillStyle = 'rgba(0,0,0,0.55)';
        g.fillRect(b.x, b.y, b.w, b.h);
        g.strokeStyle = '#ff3030';
        g.lineWidth = Math.max(2, s.w / 320);
        g.strokeRect(b.x, b.y, b.w, b.h);
      }
    };
    for (const k of Object.keys(nums)) nums[k].addEventListener('input', draw);
    img.addEventListener('load', () => { img.hidden = false; draw(); });

    // Pointer drag: from where it went down to where it is, in video pixels.
    let anchor = null;
    const at = (ev) => {
      const rect = canvas.getBoundingClientRect();
      const s = size();
      const cx = Math.min(Math.max(ev.clientX - rect.left, 0), rect.width);
      const cy = Math.min(Math.max(ev.clientY - rect.top, 0), rect.height);
      return { x: Math.round(cx / rect.width * s.w), y: Math.round(cy / rect.height * s.h) };
    };
    const setBox = (a, b) => {
      nums.x.value = Math.min(a.x, b.x); nums.y.value = Math.min(a.y, b.y);
      nums.w.value = Math.abs(b.x - a.x); nums.h.value = Math.abs(b.y - a.y);
      draw();
    };
    canvas.addEventListener('pointerdown', (ev) => { if (!size().w) return; anchor = at(ev); canvas.setPointerCapture?.(ev.pointerId); ev.preventDefault(); });
    canvas.addEventListener('pointermove', (ev) => { if (anchor) setBox(anchor, at(ev)); });
    canvas.addEventListener('pointerup', (ev) => { if (anchor) setBox(anchor, at(ev)); anchor = null; });

    // The first video file's start (where footage was found), else the first range's.
    const showFrame = button('Show first frame', () => {
      const camera = video?.camera || range?.camera;
      const start = Date.parse(video?.from || range?.from || '');
      if (!camera || Number.isNaN(start)) return msg.show('The export has no frame to show.', 'error');
      if (purposeText.value.trim().length < 3) return msg.show('Say why you need to see the footage.', 'error');
      // A second in, or half-way through a shorter file (a recorder's first segment may be short).
      const end = Date.parse(video?.to || '');
      const offset = Number.isNaN(end) ? 1000 : Math.max(0, Math.min(1000, Math.floor((end - start) / 2)));
      img.src = `/api/v1/cameras/${encodeURIComponent(camera)}/thumbnail.jpg` + query({ at: utcIso(new Date(start + offset)), ...purpose() });
    });
    img.addEventListener('error', () => { img.hidden = true; msg.show('The frame could not be shown.', 'error'); });

    const form = h('form', { class: 'redaction-form' },
      h('div', { class: 'toolbar' }, field('Mode', mode), field('Mask style', style)),
      showFrame,
      h('div', {}, stage),
      h('fieldset', { class: 'toolbar' }, h('legend', {}, 'Box (video pixels): drag on the picture or type'),
        field('X', nums.x), field('Y', nums.y), field('W', nums.w), field('H', nums.h),
        field('From (s)', from), field('To (s)', to)),
      h('p', { class: 'note' }, 'In "faces" mode the box is masked as well (a manual region); in "keep-region" mode it is the region kept; in "keep-subject" mode it marks the subject at the "from" time.'),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Start redaction')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const b = boxOf();
      const payload = { mode: mode.value, style: style.value };
      const hasBox = b.w > 0 && b.h > 0;
      if (mode.value === 'keep-region') {
        if (!hasBox) return msg.show('Draw the region to keep.', 'error');
        payload.region = b;
      } else if (mode.value === 'keep-subject') {
        if (!hasBox) return msg.show('Draw a box around the data subject.', 'error');
        payload.subject = { ...b, at: Number(from.value) || 0 };
      } else if (hasBox) {
        payload.manual = [{ ...b, from: Number(from.value) || 0, to: Number(to.value) || 3600 }];
      }
      try {
        const started = await post(`/api/v1/exports/${x.id}/redactions`, payload);
        msg.pending(`redaction-${started.redaction_id}`, `Redaction ${started.redaction_id} started.`);
        await reload();
      } catch (err) { msg.error(err); }
    });
    return form;
  }

  const jobs = x.redactions || [];
  const signed = jobs.some((j) => j.signed_off);
  const latest = jobs.length ? jobs[jobs.length - 1] : null;
  if (handedOver && !jobs.length) return null;
  if (!video && !jobs.length) return clear(panel, h('h3', {}, 'Redact'), h('p', { class: 'note' }, 'This export holds no video to redact.'));
  clear(panel, h('h3', {}, 'Redact'),
    field('Why you are viewing the footage (for the access log)', purposeText),
    latest ? review(latest.id) : null,
    handedOver ? h('p', { class: 'note' }, 'This export has been handed over, so it is not redacted again.') : null,
    !signed && !handedOver ? h('details', { class: 'redaction-start', open: !latest && heldBack },
      h('summary', {}, latest ? 'Start another redaction' : 'Redact this export'), startForm()) : null);
  return panel;
}
