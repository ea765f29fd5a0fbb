// Search by region, on the review page: draw one or several boxes on a picture of the
// camera, choose how far back to look (up to 31 days), and get the moments with movement
// inside the boxes, newest first, each with a picture and one click from playing. The
// picture, the search and the result pictures are footage: they go with the review's
// stated purpose and are access-logged by the server.
import { get, query } from '../api.js';
import { h, clear, field, select, messageLine, button } from '../ui.js';
import { timeEl, ukDateTime, utcIso } from '../time.js';

const DAY_MS = 86_400_000;
const LOOK_BACK = [['1', 'the last day'], ['7', 'the last 7 days'], ['31', 'the last 31 days']];
const MIN_BOX = 0.02;  // a box smaller than this (of the picture) is a stray click

// deps: camera(), until() (ms), at() (ms or null), ensurePurpose(), purpose(), onPlay(peakMs)
export function regionSearch(deps) {
  const boxes = [];  // {x0, y0, x1, y1} in fractions of the picture
  const msg = messageLine();
  const picture = h('img', { alt: 'The camera\'s picture to draw on', draggable: false });
  const layer = h('div', { class: 'region-layer' });
  const canvas = h('div', { class: 'region-canvas', hidden: true, 'aria-label': 'Draw boxes on the picture' }, picture, layer);
  const lookBack = select('look_back', LOOK_BACK, '7');
  const pictureBtn = button('Show the camera\'s picture', () => showPicture());
  const clearBtn = button('Clear boxes', () => { boxes.length = 0; drawBoxes(); });
  const searchBtn = button('Search', () => search(), { class: 'primary' });
  const results = h('ol', { class: 'region-results', 'aria-label': 'Moments found' });
  const element = h('section', { class: 'region-search', 'aria-label': 'Search by region' },
    h('h2', {}, 'Search by region'),
    h('p', { class: 'hint' }, 'Draw a box (or several) over the place that matters, such as a door, then search: you get the moments when something moved there, newest first.'),
    h('div', { class: 'toolbar' }, pictureBtn, field('Look at', lookBack), clearBtn, searchBtn),
    msg, canvas, results);
  clearBtn.disabled = searchBtn.disabled = true;

  async function showPicture() {
    if (!(await deps.ensurePurpose())) return;
    const at = deps.at() ?? deps.until() - 60_000;
    picture.src = `/api/v1/cameras/${encodeURIComponent(deps.camera())}/thumbnail.jpg` +
      query({ at: utcIso(new Date(Math.ceil(at) + 1)), ...deps.purpose() });
    canvas.hidden = false;
    msg.show('Drag on the picture to draw a box.', 'info');
  }
  picture.addEventListener('error', () => msg.show('No picture at that time: choose a time with footage on the timeline.', 'warn'));

  function fracAt(ev) {
    const r = canvas.getBoundingClientRect();
    return { x: Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width)), y: Math.min(1, Math.max(0, (ev.clientY - r.top) / r.height)) };
  }
  let drag = null;
  canvas.addEventListener('pointerdown', (ev) => {
    ev.preventDefault();
    canvas.setPointerCapture(ev.pointerId);
    drag = { from: fracAt(ev), to: fracAt(ev) };
    drawBoxes();
  });
  canvas.addEventListener('pointermove', (ev) => { if (drag) { drag.to = fracAt(ev); drawBoxes(); } });
  canvas.addEventListener('pointerup', (ev) => {
    if (!drag) return;
    drag.to = fracAt(ev);
    const b = boxOf(drag);
    drag = null;
    if (b.x1 - b.x0 >= MIN_BOX && b.y1 - b.y0 >= MIN_BOX && boxes.length < 8) boxes.push(b);
    drawBoxes();
  });

  function boxOf(d) {
    return { x0: Math.min(d.from.x, d.to.x), y0: Math.min(d.from.y, d.to.y), x1: Math.max(d.from.x, d.to.x), y1: Math.max(d.from.y, d.to.y) };
  }
  function drawBoxes() {
    clear(layer);
    const all = drag ? [...boxes, boxOf(drag)] : boxes;
    all.forEach((b, i) => {
      const el = h('div', { class: `region-box${i >= boxes.length ? ' drawing' : ''}` });
      Object.assign(el.style, { left: `${b.x0 * 100}%`, top: `${b.y0 * 100}%`, width: `${(b.x1 - b.x0) * 100}%`, height: `${(b.y1 - b.y0) * 100}%` });
      layer.append(el);
    });
    clearBtn.disabled = searchBtn.disabled = boxes.length === 0;
  }

  async function search() {
    if (!boxes.length || !(await deps.ensurePurpose())) return;
    const to = deps.until();
    const from = to - Number(lookBack.value) * DAY_MS;
    const regions = boxes.map((b) => [b.x0, b.y0, b.x1, b.y1].map((v) => v.toFixed(4)).join(',')).join(';');
    const camera = deps.camera();
    msg.show('Searching…');
    clear(results);
    const started = performance.now();
    try {
      const r = await get(`/api/v1/cameras/${encodeURIComponent(camera)}/activity/search` +
        query({ from: utcIso(from), to: utcIso(to), regions, ...deps.purpose() }));
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      const unindexed = r.segments_without_index ? ` ${r.segments_without_index} of ${r.segments} segment files have no activity index (recorded before indexing) and were not searched.` : '';
      msg.show(`${r.moments.length} ${r.moments.length === 1 ? 'moment' : 'moments'} with movement in the boxes, newest first (${secs} s).${unindexed}`, r.moments.length ? 'info' : 'warn');
      for (const m of r.moments) results.append(momentItem(camera, m));
    } catch (e) { msg.error(e); }
  }

  function momentItem(camera, m) {
    const peak = Date.parse(m.peak);
    const img = h('img', { alt: `${camera} at ${ukDateTime(peak)}`, loading: 'lazy',
      src: `/api/v1/cameras/${encodeURIComponent(camera)}/thumbnail.jpg` + query({ at: utcIso(new Date(peak + 1)), ...deps.purpose() }) });
    const seconds = Math.max(1, Math.round((Date.parse(m.end) - Date.parse(m.start)) / 1000));
    return h('li', { class: 'region-moment' }, img,
      h('div', {}, timeEl(peak), h('span', { class: 'hint' }, ` movement for ${seconds} s`)),
      button('Play', () => deps.onPlay(peak), { 'aria-label': `Play the moment at ${ukDateTime(peak)}` }));
  }

  return { element, close: () => { clear(results); } };
}
