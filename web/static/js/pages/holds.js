// Holds: footage kept past its expiry for a request or legal matter. List, create,
// review dates, release.
import { get, post, query } from '../api.js';
import { h, clear, field, select, table, pageHeader, messageLine, button, formValues } from '../ui.js';
import { timeEl, fromUkLocal, toUkInputs, utcIso } from '../time.js';

export async function render(main, { session }) {
  const msg = messageLine();
  const listBox = h('div');
  const cameras = session.cameras || [];
  const now = toUkInputs(new Date(Date.now() - 3600_000));
  const later = toUkInputs(new Date());
  const review = toUkInputs(new Date(Date.now() + 30 * 86400_000));
  const form = h('form', { class: 'card form-grid', 'aria-labelledby': 'new-hold' },
    h('h2', { id: 'new-hold' }, 'Place a hold'),
    field('Reason', h('input', { name: 'reason', required: true, maxlength: 500 }), 'e.g. “Police request 2026/14” or “insurance claim, fall on 3 March”'),
    field('Camera', select('camera', cameras.map((c) => [c, c]), cameras[0])),
    field('From date (UK)', h('input', { type: 'date', name: 'from_date', value: now.date, required: true })),
    field('From time', h('input', { type: 'time', name: 'from_time', value: now.time, required: true })),
    field('To date (UK)', h('input', { type: 'date', name: 'to_date', value: later.date, required: true })),
    field('To time', h('input', { type: 'time', name: 'to_time', value: later.time, required: true })),
    field('Review by (UK date)', h('input', { type: 'date', name: 'review', value: review.date, required: true }), 'When someone must decide whether the hold is still needed.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Place hold')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    try {
      const body = {
        reason: v.reason,
        review: utcIso(fromUkLocal(v.review, '09:00')),
        ranges: [{ camera: v.camera, from: utcIso(fromUkLocal(v.from_date, v.from_time)), to: utcIso(fromUkLocal(v.to_date, v.to_time)) }],
      };
      const r = await post('/api/v1/holds', body);
      msg.show(`Hold ${r.id} placed.`, 'ok');
      form.reset();
      load();
    } catch (e) { msg.error(e); }
  });
  main.append(pageHeader('Holds'), msg, listBox, cameras.length ? form : h('p', {}, 'You have no cameras to place holds on.'));

  async function release(hold) {
    if (!confirm(`Release hold ${hold.id} (“${hold.reason}”)? The footage then expires under the normal retention rules.`)) return;
    try {
      await post(`/api/v1/holds/${hold.id}/release`, {});
      msg.show(`Hold ${hold.id} released.`, 'ok');
      load();
    } catch (e) { msg.error(e); }
  }

  async function load() {
    try {
      const { holds } = await get('/api/v1/holds' + query({}));
      const today = Date.now();
      clear(listBox, table([
        { title: 'Hold', cell: (x) => String(x.id) },
        { title: 'Reason', cell: (x) => x.reason },
        { title: 'Footage', cell: (x) => h('ul', { class: 'plain' }, x.ranges.map((r) => h('li', {}, `${r.camera}: `, timeEl(r.from), ' – ', timeEl(r.to)))) },
        { title: 'Request', cell: (x) => x.request_id ? h('a', { href: `#/requests/${x.request_id}` }, `#${x.request_id}`) : '—' },
        { title: 'Review by', cell: (x) => h('span', { class: x.review && Date.parse(x.review) < today ? 'overdue' : '' }, timeEl(x.review), x.review && Date.parse(x.review) < today ? ' (overdue)' : '') },
        { title: 'Placed', cell: (x) => timeEl(x.created) },
        { title: '', cell: (x) => button('Release', () => release(x), { 'aria-label': `Release hold ${x.id}` }) },
      ], holds, { empty: 'No active holds.', caption: 'Active holds' }));
    } catch (e) { msg.error(e); }
  }
  await load();
}
