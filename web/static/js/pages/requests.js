// Footage requests: the list, logging a new one (the form asks what its type needs), and a
// request's page (requests_detail.js). The disclosure register is at #/requests/register.
import { get, post, query } from '../api.js';
import { h, clear, field, select, table, pageHeader, messageLine, button, badge } from '../ui.js';
import { timeEl, fromUkLocal, toUkInputs, utcIso } from '../time.js';
import { TYPES, STEPS, STATES } from '../requests_rules.js';

export async function render(main, ctx) {
  if (ctx.rest[0] === 'new') return renderNew(main, ctx);
  if (ctx.rest[0] === 'register') return (await import('./disclosures.js')).render(main, ctx);
  if (/^\d+$/.test(ctx.rest[0] || '')) return (await import('./request_detail.js')).render(main, ctx, Number(ctx.rest[0]));
  return renderList(main, ctx);
}

function stateBadge(state) {
  const kind = { approved: 'ok', disclosed: 'ok', refused: 'bad', withdrawn: 'muted', closed: 'muted' }[state] || 'warn';
  return badge(STATES[state] || state, kind);
}
export { stateBadge };

export function deadlineEl(r) {
  if (!r.deadline) return '—';
  const left = (Date.parse(r.deadline) - Date.now()) / 86400_000;
  const open = r.open;  // the server's rule (requests/rules.h IsOpen)
  if (open && r.clock?.stopped_since) return h('span', {}, timeEl(r.deadline, { endOfDay: true }), ' (clock stopped)');
  return h('span', { class: open && left < 7 ? 'overdue' : '' }, timeEl(r.deadline, { endOfDay: true }),
    open ? ` (${left < 0 ? 'overdue' : Math.ceil(left) + ' days left'})` : '');
}

async function renderList(main, { session, params, navigate }) {
  const msg = messageLine();
  const out = h('div');
  const canList = ['staff', 'manager', 'dpo'].includes(session.user.role);
  const ownOnly = session.user.role === 'staff';
  const header = pageHeader('Footage requests',
    button('Log a request', () => navigate('requests/new'), { class: 'primary' }),
    session.user.role === 'dpo' ? h('a', { href: '#/requests/register', class: 'button' }, 'Disclosure register') : null);
  const openId = h('input', { type: 'number', min: 1, name: 'id' });
  const openForm = h('form', { class: 'toolbar' }, field('Open request number', openId), h('button', { type: 'submit' }, 'Open'));
  openForm.addEventListener('submit', (ev) => { ev.preventDefault(); if (openId.value) navigate(`requests/${openId.value}`); });
  main.append(header, msg, out, openForm);
  if (!canList) {
    out.append(h('p', {}, 'Managers and the DPO see the list of requests. You can log one, and open those you logged by number.'));
    return;
  }
  const stateSel = select('state', [['', 'any state'], ...Object.entries(STATES)], params.get('state') || '');
  const typeSel = select('type', [['', 'any type'], ...Object.entries(TYPES).map(([k, v]) => [k, v.label])], params.get('type') || '');
  const filters = h('form', { class: 'toolbar' }, field('State', stateSel), field('Type', typeSel), h('button', { type: 'submit' }, 'Filter'));
  filters.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  main.insertBefore(filters, msg);
  if (ownOnly) main.insertBefore(h('p', { class: 'hint' }, 'The requests you logged or asked for. You can withdraw one of yours until a manager decides it.'), filters);
  async function load() {
    try {
      const { requests } = await get('/api/v1/requests' + query({ state: stateSel.value, type: typeSel.value }));
      clear(out, table([
        { title: 'No.', cell: (r) => h('a', { href: `#/requests/${r.id}` }, `#${r.id}`) },
        { title: 'Type', cell: (r) => TYPES[r.type]?.label || r.type },
        { title: 'State', cell: (r) => stateBadge(r.state) },
        { title: 'Requester', cell: (r) => [r.requester_name, r.organisation ? ` (${r.organisation})` : ''] },
        { title: 'Reference', cell: (r) => r.reference || '—' },
        { title: 'Received', cell: (r) => timeEl(r.received) },
        { title: 'Deadline', cell: (r) => deadlineEl(r) },
        { title: 'Footage', cell: (r) => r.ranges.map((x) => x.camera).join(', ') },
      ], requests, { empty: 'No requests match.', caption: 'Requests' }));
    } catch (e) { msg.error(e); }
  }
  await load();
}

// "2026-02-28" as "28 February 2026".
function longDate(isoDate) {
  const [y, m, d] = isoDate.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'long', year: 'numeric' });
}

async function renderNew(main, { session, navigate }) {
  const msg = messageLine();
  // What each type needs comes from the server's rules (requests/rules.h), not a copy here.
  let rules;
  try { rules = await get('/api/v1/request-rules'); } catch (e) {
    main.append(pageHeader('Log a request'), msg);
    msg.error(e);
    return;
  }
  const cameras = session.cameras || [];
  // Cameras by name, as everywhere else in the UI (the id is the value sent).
  const list = await get('/api/v1/cameras').catch(() => ({ cameras: [] }));
  const names = Object.fromEntries(list.cameras.map((c) => [c.id, c.name || c.id]));
  const type = select('type', Object.entries(TYPES).map(([k, v]) => [k, v.label]), 'police');
  const basis = h('select', { name: 'legal_basis' });
  const basisDetail = h('input', { name: 'legal_basis_detail', maxlength: 2000 });
  const requester = h('input', { name: 'requester_name', required: true, maxlength: 200 });
  const org = h('input', { name: 'organisation', maxlength: 200 });
  const contact = h('input', { name: 'contact', maxlength: 2000 });
  const ref = h('input', { name: 'reference', maxlength: 200 });
  const now = toUkInputs(new Date());
  const recvDate = h('input', { type: 'date', name: 'received_date', value: now.date, required: true });
  const recvTime = h('input', { type: 'time', name: 'received_time', value: now.time, required: true });
  const description = h('textarea', { name: 'description', rows: 3, maxlength: 2000 });
  const orgField = field('Organisation', org);
  const refField = field('Reference', ref);
  const stepsNote = h('div', { class: 'note' });
  const dsarNote = h('p', { class: 'note', hidden: true });
  const ranges = h('div', { class: 'ranges' });

  function addRange() {
    const from = toUkInputs(new Date(Date.now() - 3600_000)), to = toUkInputs(new Date());
    const row = h('fieldset', { class: 'range-row' }, h('legend', {}, 'Footage'),
      field('Camera', select('camera', cameras.map((c) => [c, names[c] || c]), cameras[0])),
      field('From (UK date)', h('input', { type: 'date', name: 'from_date', value: from.date, required: true })),
      field('time', h('input', { type: 'time', name: 'from_time', value: from.time, required: true })),
      field('To (UK date)', h('input', { type: 'date', name: 'to_date', value: to.date, required: true })),
      field('time', h('input', { type: 'time', name: 'to_time', value: to.time, required: true })),
      button('Remove', () => { if (ranges.children.length > 1) row.remove(); }, { class: 'link' }));
    ranges.append(row);
  }
  addRange();

  function update() {
    const t = TYPES[type.value];
    const need = rules.types[type.value];
    clear(basis, need.legal_bases.map((b) => h('option', { value: b.id }, b.text)));
    orgField.querySelector('label').textContent = t.org;
    refField.querySelector('label').textContent = t.ref + (t.refRequired ? ' (required)' : '');
    ref.required = !!t.refRequired;
    const steps = need.required_verifications;
    clear(stepsNote, steps.length
      ? [h('strong', {}, 'Before a manager can decide, record these checks: '), h('ul', {}, steps.map((s) => h('li', {}, STEPS[s])))]
      : 'An internal request needs no outside verification.');
    dsarNote.hidden = type.value !== 'dsar';
    if (type.value === 'dsar') showDsarDue();
  }
  async function showDsarDue() {
    try {
      const due = await get(`/api/v1/request-rules?received=${encodeURIComponent(utcIso(fromUkLocal(recvDate.value, recvTime.value || '12:00')))}`);
      dsarNote.textContent = `Deadline: the end of ${longDate(due.dsar.due_date)} (one calendar month after receipt; it can be extended by up to ${due.dsar.max_extension_months} months).`;
    } catch (e) { dsarNote.textContent = ''; }
  }
  type.addEventListener('change', update);
  recvDate.addEventListener('change', update);
  recvTime.addEventListener('change', update);

  const form = h('form', { class: 'card form-grid request-form', 'aria-labelledby': 'new-request' },
    h('h2', { id: 'new-request' }, 'Log a footage request'),
    field('Type of request', type), field('Legal basis', basis), field('Legal basis details', basisDetail, 'e.g. the order number or the officer’s rank and collar number'),
    field('Requester’s name', requester), orgField, field('Contact details', contact), refField,
    field('Received on (UK date)', recvDate), field('at (UK time)', recvTime), dsarNote,
    field('What happened and what footage is needed', description),
    h('h3', {}, 'Footage asked for'), ranges, button('Add another camera or time', addRange),
    stepsNote,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Log request'),
      h('a', { href: '#/requests', class: 'button' }, 'Cancel')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const rangeList = [...ranges.querySelectorAll('.range-row')].map((row) => {
      const v = (n) => row.querySelector(`[name=${n}]`).value;
      return { camera: v('camera'), from: utcIso(fromUkLocal(v('from_date'), v('from_time'))), to: utcIso(fromUkLocal(v('to_date'), v('to_time'))) };
    });
    const body = {
      type: type.value, legal_basis: basis.value, legal_basis_detail: basisDetail.value.trim(),
      requester_name: requester.value.trim(), organisation: org.value.trim(), contact: contact.value.trim(),
      reference: ref.value.trim(), description: description.value.trim(),
      received: utcIso(fromUkLocal(recvDate.value, recvTime.value)), ranges: rangeList,
    };
    try {
      const r = await post('/api/v1/requests', body);
      navigate(`requests/${r.id}`);
    } catch (e) { msg.error(e); }
  });
  main.append(pageHeader('Log a request'), msg, cameras.length ? form : h('p', {}, 'You have no cameras; a request names footage of cameras you may see.'));
  update();
}
