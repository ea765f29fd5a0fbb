// Retention: the deletion records (what was deleted, when, under which rule), and the
// per-camera policy where the API gives it.
import { get, query } from '../api.js';
import { h, clear, field, table, pageHeader, messageLine } from '../ui.js';
import { timeEl, fromUkLocal, toUkInputs, utcIso } from '../time.js';

export async function render(main) {
  const msg = messageLine();
  const out = h('div');
  const policyBox = h('section', { 'aria-labelledby': 'policy-title' }, h('h2', { id: 'policy-title' }, 'Policy per camera'));
  const from = h('input', { type: 'date', name: 'from', value: toUkInputs(Date.now() - 30 * 86400_000).date });
  const to = h('input', { type: 'date', name: 'to', value: toUkInputs(Date.now() + 86400_000).date });
  const form = h('form', { class: 'toolbar' }, field('From (UK date)', from), field('To (UK date)', to),
    h('button', { type: 'submit', class: 'primary' }, 'Show deletions'));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  main.append(pageHeader('Retention'), policyBox, h('h2', {}, 'Deletion records'), form, msg, out);

  const { cameras } = await get('/api/v1/cameras').catch(() => ({ cameras: [] }));
  const withPolicy = cameras.filter((c) => c.retention);
  policyBox.append(withPolicy.length
    ? table([{ title: 'Camera', cell: (c) => c.name || c.id },
      { title: 'Keep for', cell: (c) => `${c.retention.max_age_days} days` },
      { title: 'Configured', cell: (c) => `${c.retention.configured_max_age_days} days${c.retention.camera_override == null ? ' (site default)' : ''}` },
      { title: 'Pending change', cell: (c) => c.retention.pending
        ? [`${c.retention.pending.max_age_days} days from `, timeEl(c.retention.pending.effective)] : '—' }], withPolicy,
      { caption: 'A shorter period takes effect only after the site\'s delay; until then the longer one is kept.' })
    : h('p', {}, 'The retention policy is set per camera in the site configuration (retention.max_age_days); the API does not show it yet.'));

  async function load() {
    try {
      const q = query({ from: utcIso(fromUkLocal(from.value, '00:00')), to: utcIso(fromUkLocal(to.value, '00:00')) });
      const { deletions } = await get('/api/v1/deletions' + q);
      clear(out, table([
        { title: 'When', cell: (d) => timeEl(d.at) },
        { title: 'Camera', cell: (d) => d.camera_id },
        { title: 'Footage from', cell: (d) => timeEl(d.from) },
        { title: 'to', cell: (d) => timeEl(d.to) },
        { title: 'Files', cell: (d) => String(d.segment_count) },
        { title: 'Size', cell: (d) => `${(d.bytes / 1e6).toFixed(1)} MB` },
        { title: 'Rule', cell: (d) => d.rule },
        { title: 'By', cell: (d) => d.deleted_by ?? 'automatic' },
        { title: 'Detail', cell: (d) => d.detail || '' },
      ], deletions, { empty: 'No deletions in this range.' }));
      msg.show(`${deletions.length} deletion records.`);
    } catch (e) { msg.error(e); }
  }
  await load();
}
