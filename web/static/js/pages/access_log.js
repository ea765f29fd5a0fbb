// The access log for the DPO: filters, the entries newest first, a CSV download with the
// hash chain, and the chain's verification status where the API reports it.
import { get, query, routeExists } from '../api.js';
import { h, clear, field, table, pageHeader, messageLine, formValues, badge } from '../ui.js';
import { timeEl, fromUkLocal, utcIso } from '../time.js';
import { PURPOSE_LABELS } from '../purpose.js';
import { checkpointPanel } from '../checkpoint.js';

const ACTIONS = ['', 'play', 'download', 'thumbnail', 'export', 'login', 'login_failed', 'logout', 'denied',
  'hold_create', 'hold_release', 'role_change', 'permission_change', 'user_create', 'account_disabled',
  'account_enabled', 'role_grant_request', 'role_grant_confirm', 'role_grant_refuse', 'access_log_query',
  'access_log_download', 'access_log_verify', 'access_log_checkpoint', 'camera_create',
  'camera_update', 'camera_test', 'redaction_contact_sheet', 'redaction_video', 'redaction_original',
  'redaction_sign_off'];

export async function render(main, { params }) {
  const msg = messageLine();
  const out = h('div');
  const chain = h('p', { class: 'chain' });
  const form = h('form', { class: 'toolbar filters', 'aria-label': 'Filters' },
    field('User', h('input', { name: 'user', value: params.get('user') || '' })),
    field('Camera', h('input', { name: 'camera', value: params.get('camera') || '' })),
    field('Action', h('select', { name: 'action' }, ACTIONS.map((a) => h('option', { value: a }, a || 'any')))),
    field('From (UK date)', h('input', { type: 'date', name: 'from' })),
    field('To (UK date)', h('input', { type: 'date', name: 'to' })),
    field('At most', h('input', { type: 'number', name: 'limit', value: '200', min: 1, max: 10000 })),
    h('button', { type: 'submit', class: 'primary' }, 'Search'));
  const csv = h('a', { class: 'button', href: '/api/v1/access-log.csv', download: 'access-log.csv' }, 'Download as CSV (with hash chain)');
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  main.append(pageHeader('Access log'), chain, form, h('p', {}, csv), msg, out, checkpointPanel());

  function filters() {
    const v = formValues(form);
    return {
      user: v.user, camera: v.camera, action: v.action, limit: v.limit,
      from: v.from ? utcIso(fromUkLocal(v.from, '00:00')) : '',
      to: v.to ? utcIso(fromUkLocal(v.to, '00:00').getTime() + 86400_000) : '',
    };
  }

  async function showChain() {
    if (await routeExists('/api/v1/access-log/verify')) {
      try {
        const v = await get('/api/v1/access-log/verify');
        clear(chain, 'Hash chain: ', v.ok ? badge('verified', 'ok') : badge('BROKEN', 'bad'),
          ` ${v.entries ?? ''} entries${v.first_bad ? `; first bad entry ${v.first_bad}` : ''}`);
      } catch (e) { clear(chain, 'Hash chain: ', badge('unknown', 'warn'), ' ', e.message); }
    } else {
      clear(chain, 'Hash chain: ', badge('not checked here', 'warn'),
        ' The API has no verification route yet; run “custodian audit verify” on the appliance. The CSV carries each entry’s hash and the previous one.');
    }
  }

  async function load() {
    const f = filters();
    csv.href = '/api/v1/access-log.csv' + query({ ...f });
    try {
      const { entries } = await get('/api/v1/access-log' + query(f));
      clear(out, table([
        { title: 'When', cell: (e) => timeEl(e.at) },
        { title: 'User', cell: (e) => e.user_name ?? '—' },
        { title: 'Action', cell: (e) => e.action },
        { title: 'Camera', cell: (e) => e.camera_id ?? '' },
        { title: 'Footage', cell: (e) => e.from ? [timeEl(e.from), ' – ', timeEl(e.to)] : '' },
        { title: 'Purpose', cell: (e) => e.purpose_category ? [h('strong', {}, PURPOSE_LABELS[e.purpose_category] || e.purpose_category), h('br'), e.purpose_text || ''] : '' },
        { title: 'Result', cell: (e) => badge(e.result, e.result === 'ok' ? 'ok' : e.result === 'denied' ? 'bad' : 'warn') },
        { title: 'From', cell: (e) => e.client ?? '' },
        { title: 'Detail', cell: (e) => e.detail ?? '' },
      ], entries, { empty: 'No entries match.' }));
      msg.show(`${entries.length} entries, newest first.`);
    } catch (e) { msg.error(e); }
  }
  await Promise.all([showChain(), load()]);
}
