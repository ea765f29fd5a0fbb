// Monthly statistics for the DPO: anonymised counts of requests, decisions and disclosures,
// each in words (the API's keys, "dsar_deadlines.clock_stopped", are not for reading).
import { get, query } from '../api.js';
import { h, clear, field, pageHeader, messageLine, table } from '../ui.js';
import { TYPES, METHODS } from '../requests_rules.js';
import { PURPOSE_LABELS } from '../purpose.js';

// The outcome columns of the requests table.
const OUTCOMES = { received: 'Received', pending: 'Not yet decided', approved: 'Approved', refused: 'Refused', withdrawn: 'Withdrawn' };

// Each group of measures: its heading and the words for each key. A key the server adds
// later and this page does not know yet still shows, with its key in words.
const GROUPS = {
  dsar_deadlines: { title: 'Subject access request deadlines in the month', labels: {
    due: 'Deadlines that fell in the month', met: 'Answered by the deadline', missed: 'Answered late, or still unanswered',
    withdrawn: 'Withdrawn before an answer', extended: 'Of those due, deadline extended',
    clock_stopped: 'Of those due, clock stopped while waiting for the requester' } },
  holds: { title: 'Holds on footage', labels: {
    created: 'Placed', released: 'Released', active_at_month_end: 'Still in place at the end of the month' } },
  exports: { title: 'Export packages', labels: { created: 'Started', completed: 'Finished and signed' } },
  disclosures: { title: 'Footage handed over', labels: { total: 'Handovers', by_method: METHODS }, sub: 'By' },
  deletions: { title: 'Footage deleted', labels: {
    records: 'Deletion records', segments: 'Recording files deleted', bytes: 'Space freed',
    segments_by_rule: { max_age: 'Past its keeping period', disk_pressure: 'Disk nearly full', quota: 'Camera over its space quota',
      export_expiry: 'Export package past its expiry', manual: 'Deleted by hand' } }, sub: 'Files deleted' },
  viewings: { title: 'Viewings of footage', labels: { total: 'Viewings', by_purpose: PURPOSE_LABELS }, sub: 'For' },
};

const words = (key) => { const w = key.replaceAll('_', ' '); return w[0].toUpperCase() + w.slice(1); };
const bytesText = (n) => (n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${n} bytes`);

// [label, value] rows of one group; a nested count (by method, by purpose) indents under it.
function groupRows(name, values) {
  const g = GROUPS[name] || { labels: {} };
  const rows = [];
  for (const [k, v] of Object.entries(values || {})) {
    const label = g.labels[k];
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const names = typeof label === 'object' ? label : {};
      for (const [kk, n] of Object.entries(v)) rows.push([h('span', { class: 'sub-measure' }, `${g.sub || words(k)}: ${names[kk] || words(kk)}`), String(n)]);
    } else {
      rows.push([typeof label === 'string' ? label : words(k), k === 'bytes' ? bytesText(Number(v)) : String(v)]);
    }
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
      // Requests as a matrix (type by outcome); every other group as measure and count.
      const types = Object.keys(requests);
      const measures = types.length ? Object.keys(requests[types[0]]) : [];
      const monthName = new Date(`${period}-15T12:00:00Z`).toLocaleDateString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
      clear(out,
        h('p', {}, `${monthName} (UK time). Counts only: no names or references.`),
        table([{ title: 'Request type', cell: (t) => TYPES[t]?.label || words(t) },
          ...measures.map((m) => ({ title: OUTCOMES[m] || words(m), cell: (t) => String(requests[t][m]) }))], types,
        { caption: 'Footage requests', empty: 'No request statistics.', stack: true }),
        Object.entries(rest).map(([name, values]) => table([{ title: 'Measure', cell: (r) => r[0] }, { title: 'Count', cell: (r) => r[1] }],
          groupRows(name, values), { caption: GROUPS[name]?.title || words(name), stack: true })));
      msg.show('');
    } catch (e) { msg.error(e); }
  }
  await load();
}
