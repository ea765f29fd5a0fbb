// The disclosure register (DPO): every handover of footage, by date, each linked to the
// request it answered. On a phone each handover is a card of its own (ui.js table `stack`).
import { get, query } from '../api.js';
import { h, clear, field, table, pageHeader, messageLine } from '../ui.js';
import { timeEl, fromUkLocal, toUkInputs, utcIso } from '../time.js';
import { METHODS } from '../requests_rules.js';

export async function render(main) {
  const msg = messageLine();
  const out = h('div');
  const from = h('input', { type: 'date', value: toUkInputs(Date.now() - 90 * 86400_000).date, required: true });
  const to = h('input', { type: 'date', value: toUkInputs(Date.now() + 86400_000).date, required: true });
  const form = h('form', { class: 'toolbar' }, field('From (UK date)', from), field('To (UK date)', to), h('button', { type: 'submit', class: 'primary' }, 'Show'));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  main.append(pageHeader('Disclosure register'), form, msg, out);
  async function load() {
    try {
      const { disclosures } = await get('/api/v1/disclosures' + query({ from: utcIso(fromUkLocal(from.value, '00:00')), to: utcIso(fromUkLocal(to.value, '00:00')) }));
      clear(out, table([
        { title: 'When', cell: (d) => timeEl(d.at) },
        { title: 'Request', cell: (d) => d.request_id
          ? h('a', { href: `#/requests/${d.request_id}` }, `Request #${d.request_id}`, h('span', { class: 'muted' }, `, export ${d.export_id}`))
          : `Export ${d.export_id}` },
        { title: 'Recipient', cell: (d) => [d.recipient_name, d.organisation ? ` (${d.organisation})` : ''] },
        { title: 'Reference', cell: (d) => d.reference || '' },
        { title: 'Method', cell: (d) => METHODS[d.method] || d.method },
        { title: 'Authorised by', cell: (d) => d.authorised_by_who ?? `account ${d.authorised_by}` },
        { title: 'Recorded by', cell: (d) => d.recorded_by_who ?? `account ${d.recorded_by}` },
        { title: 'Manifest SHA-256', cell: (d) => h('code', { class: 'hash' }, d.manifest_sha256 || '') },
        { title: 'Note', cell: (d) => d.note || '' },
      ], disclosures, { empty: 'No disclosures in this range.', caption: 'Disclosures', stack: true }));
    } catch (e) { msg.error(e); }
  }
  await load();
}
