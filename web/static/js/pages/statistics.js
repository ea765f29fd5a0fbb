// Monthly statistics for the DPO: anonymised counts of requests, decisions and disclosures.
import { get, query } from '../api.js';
import { h, clear, field, pageHeader, messageLine, table } from '../ui.js';
import { TYPES } from '../requests_rules.js';

function flatten(obj, prefix = '') {
  const rows = [];
  for (const [k, v] of Object.entries(obj || {})) {
    const name = prefix ? `${prefix} / ${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) rows.push(...flatten(v, name));
    else rows.push([name.replaceAll('_', ' '), Array.isArray(v) ? v.join(', ') : String(v)]);
  }
  return rows;
}

export async function render(main) {
  const msg = messageLine();
  const out = h('div');
  const now = new Date();
  const month = h('input', { type: 'month', name: 'month', required: true,
    value: `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}` });
  const form = h('form', { class: 'toolbar' }, field('Month', month), h('button', { type: 'submit', class: 'primary' }, 'Show'));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  main.append(pageHeader('Monthly statistics'), form, msg, out);
  async function load() {
    try {
      const stats = await get('/api/v1/statistics' + query({ month: month.value }));
      const { requests = {}, period, time_zone: zone, ...rest } = stats;
      // Requests as a matrix (type by outcome); everything else as measure and value.
      const types = Object.keys(requests);
      const measures = types.length ? Object.keys(requests[types[0]]) : [];
      clear(out,
        h('p', {}, `Period ${period} (${zone}). Counts only: no names or references.`),
        table([{ title: 'Request type', cell: (t) => TYPES[t]?.label || t },
          ...measures.map((m) => ({ title: m, cell: (t) => String(requests[t][m]) }))], types,
        { caption: 'Footage requests', empty: 'No request statistics.' }),
        table([{ title: 'Measure', cell: (r) => r[0] }, { title: 'Value', cell: (r) => r[1] }],
          flatten(rest), { caption: 'Deadlines, holds, exports, disclosures, deletions and viewings of footage by purpose' }));
      msg.show('');
    } catch (e) { msg.error(e); }
  }
  await load();
}
