// The access log for the DPO: filters (person, camera, action, purpose, and the times either
// of the viewing or of the footage), the entries newest first with names and words, a CSV
// download with the hash chain, and the chain's verification status.
//
// Footage is logged as viewings: a start entry when someone begins looking (who, camera,
// why, what they could reach) and an end entry when they stop (what they fetched, how
// long); the requests in between add no entries (docs/design/api.md, "Viewings").
import { get, query } from '../api.js';
import { h, clear, field, select, table, pageHeader, messageLine, formValues, badge } from '../ui.js';
import { timeEl, fromUkLocal, utcIso } from '../time.js';
import { PURPOSE_LABELS } from '../purpose.js';
import { checkpointPanel } from '../checkpoint.js';

// The routes that start a viewing of footage; each viewing ends with `<action>_end`.
const VIEWING_ACTIONS = ['live_view', 'live_download', 'live_picture', 'play', 'download', 'thumbnail',
  'export_download', 'redaction_contact_sheet', 'redaction_video', 'redaction_original'];

const ACTION_LABELS = {
  live_view: 'Live view', live_download: 'Live view (video)', live_picture: 'Live picture',
  play: 'Playback', download: 'Footage download', thumbnail: 'Still picture', still_save: 'Still saved as a file',
  export_download: 'Export package download', redaction_contact_sheet: 'Redaction contact sheet',
  redaction_video: 'Redacted video', redaction_original: 'Original beside a redaction',
  login: 'Sign-in', login_failed: 'Failed sign-in', logout: 'Sign-out', password_change: 'Password change',
  no_session_refusals: 'Refusals without a session (count)', access_log_query: 'Access log searched',
  access_log_download: 'Access log downloaded', access_log_verify: 'Access log chain checked',
};

function actionLabel(a) {
  if (ACTION_LABELS[a]) return ACTION_LABELS[a];
  if (a.endsWith('_end') && VIEWING_ACTIONS.includes(a.slice(0, -4))) return `${actionLabel(a.slice(0, -4))} ended`;
  const words = a.replace(/_/g, ' ');
  return words[0].toUpperCase() + words.slice(1);
}

// An entry's detail as stored (the hash chain covers it, and the CSV keeps it), with each
// UTC time in it ("2026-09-07T23:00:00.000000Z") shown as UK local time like the rest of
// the page, the stored form on hover.
const ISO_UTC = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g;
export function detailWithTimes(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(ISO_UTC)) {
    const t = Date.parse(m[0]);
    if (Number.isNaN(t)) continue;
    out.push(text.slice(last, m.index), timeEl(t));
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

// What an entry says about a viewing: started, ended, or neither.
function viewingPart(e) {
  if (VIEWING_ACTIONS.includes(e.action) && e.result === 'ok' && (e.detail || '').startsWith('viewing started: ')) return 'started';
  if (e.action.endsWith('_end') && VIEWING_ACTIONS.includes(e.action.slice(0, -4))) return 'ended';
  return '';
}

export async function render(main, { params }) {
  const msg = messageLine();
  const out = h('div');
  const chain = h('p', { class: 'chain' });
  const people = h('datalist', { id: 'access-log-people' });
  const cameraList = h('datalist', { id: 'access-log-cameras' });
  const actionSel = h('select', { name: 'action' }, h('option', { value: '' }, 'any'));
  const form = h('form', { class: 'toolbar filters', 'aria-label': 'Filters' },
    field('Person', h('input', { name: 'user', list: people.id, value: params.get('user') || '', autocomplete: 'off' })),
    field('Camera', h('input', { name: 'camera', list: cameraList.id, value: params.get('camera') || '', autocomplete: 'off' })),
    field('Action', actionSel),
    field('Purpose', select('purpose', [['', 'any'], ...Object.entries(PURPOSE_LABELS)], params.get('purpose') || '')),
    field('From (UK date)', h('input', { type: 'date', name: 'from_date' })),
    field('time', h('input', { type: 'time', name: 'from_time' })),
    field('To (UK date)', h('input', { type: 'date', name: 'to_date' })),
    field('time', h('input', { type: 'time', name: 'to_time' })),
    field('The times are', select('times', [['viewed', 'when it was viewed or done'], ['footage', 'of the footage viewed']], 'viewed')),
    field('At most', h('input', { type: 'number', name: 'limit', value: '200', min: 1, max: 10000 })),
    h('button', { type: 'submit', class: 'primary' }, 'Search'), people, cameraList);
  const csv = h('a', { class: 'button', href: '/api/v1/access-log.csv', download: 'access-log.csv' }, 'Download as CSV (with hash chain)');
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  main.append(pageHeader('Access log'), chain,
    h('p', { class: 'note' }, 'Viewing footage is logged as one entry when a person starts (who, which camera, why, what they could reach) and one when they stop (what they fetched, for how long). To see who looked at a camera between two times and why: choose the camera, “Any viewing of footage, started”, and the dates and times.'),
    form, h('p', {}, csv), msg, out, checkpointPanel());

  let actionsShown = false;
  function showActions(actions) {
    if (actionsShown || !actions?.length) return;
    actionsShown = true;
    const ends = VIEWING_ACTIONS.map((a) => `${a}_end`);
    actionSel.append(
      h('option', { value: VIEWING_ACTIONS.join(',') }, 'Any viewing of footage, started'),
      h('option', { value: ends.join(',') }, 'Any viewing of footage, ended'),
      h('option', { value: [...VIEWING_ACTIONS, ...ends].join(',') }, 'Any viewing of footage, started or ended'),
      h('optgroup', { label: 'One action' },
        [...actions].sort((a, b) => actionLabel(a).localeCompare(actionLabel(b)))
          .map((a) => h('option', { value: a }, `${actionLabel(a)} (${a})`))));
    const wanted = params.get('action');
    if (wanted) actionSel.value = wanted;
  }

  function filters() {
    const v = formValues(form);
    const at = (date, time, endOfDay) => {
      if (!date) return '';
      if (time) return utcIso(fromUkLocal(date, time));
      return utcIso(endOfDay ? fromUkLocal(date, '00:00').getTime() + 86400_000 : fromUkLocal(date, '00:00'));
    };
    const from = at(v.from_date, v.from_time, false), to = at(v.to_date, v.to_time, true);
    const f = { user: v.user, camera: v.camera, action: v.action, purpose: v.purpose, limit: v.limit };
    if (v.times === 'footage') Object.assign(f, { footage_from: from, footage_to: to });
    else Object.assign(f, { from, to });
    return f;
  }

  // One verification of the whole chain per visit: the route is part of this server.
  async function showChain() {
    try {
      const v = await get('/api/v1/access-log/verify');
      clear(chain, 'Hash chain: ', v.ok ? badge('verified', 'ok') : badge('BROKEN', 'bad'),
        ` ${v.entries ?? ''} entries${v.first_bad ? `; first bad entry ${v.first_bad}` : ''}`);
    } catch (e) { clear(chain, 'Hash chain: ', badge('unknown', 'warn'), ' ', e.message); }
  }

  async function load() {
    const f = filters();
    csv.href = '/api/v1/access-log.csv' + query({ ...f });
    try {
      const { entries, actions, camera_names: names = {} } = await get('/api/v1/access-log' + query(f));
      showActions(actions);
      clear(cameraList, Object.entries(names).map(([id, name]) => h('option', { value: id }, name)));
      const seen = new Set(entries.map((e) => e.user_name).filter((n) => n && !n.startsWith('(')));
      for (const o of people.options) seen.add(o.value);
      clear(people, [...seen].sort().map((n) => h('option', { value: n })));
      const cameraName = (id) => (names[id] && names[id] !== id ? [h('strong', {}, names[id]), ` (${id})`] : id);
      clear(out, table([
        { title: 'When', cell: (e) => timeEl(e.at) },
        { title: 'Person', cell: (e) => e.user_name ? h('strong', {}, e.user_name) : '—' },
        { title: 'Action', cell: (e) => {
          const part = viewingPart(e);
          return [actionLabel(e.action), part ? [' ', badge(part, part === 'started' ? 'ok' : 'muted')] : ''];
        } },
        { title: 'Camera', cell: (e) => e.camera_id ? cameraName(e.camera_id) : '' },
        { title: 'Footage', cell: (e) => e.from ? [timeEl(e.from), ' – ', e.to ? timeEl(e.to) : 'live, while it lasts'] : '' },
        { title: 'Purpose', cell: (e) => e.purpose_category ? [h('strong', {}, PURPOSE_LABELS[e.purpose_category] || e.purpose_category), h('br'), e.purpose_text || ''] : '' },
        { title: 'Result', cell: (e) => badge(e.result, e.result === 'ok' ? 'ok' : e.result === 'denied' ? 'bad' : 'warn') },
        { title: 'From', cell: (e) => e.client ?? '' },
        { title: 'Detail', cell: (e) => detailWithTimes(e.detail ?? '') },
      ], entries, { empty: 'No entries match.', stack: true }));
      msg.show(`${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}, newest first.`);
    } catch (e) { msg.error(e); }
  }
  await Promise.all([showChain(), load()]);
}
