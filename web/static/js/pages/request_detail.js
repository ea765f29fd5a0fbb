// One footage request: its details, DSAR deadline, verification steps, the decision
// (offered only to someone who may decide: never the person who logged or asked for it),
// exports with progress that survives a reload (the server keeps the job; this page polls
// it), download, the encrypted copy, handover records and the request's history.
import { get, post, query } from '../api.js';
import { h, clear, field, select, table, pageHeader, messageLine, button, progressBar, badge } from '../ui.js';
import { timeEl, fromUkLocal, toUkInputs, utcIso, ukDateTime } from '../time.js';
import { TYPES, STEPS, METHODS, STATES } from '../requests_rules.js';
import { stateBadge, deadlineEl } from './requests.js';
import { redactionPanel } from './redaction_panel.js';

// The history's actions in words.
const ACTIONS = { logged: 'logged', verifying: 'check recorded', submitted: 'sent for decision', approved: 'approved',
  refused: 'refused', withdrawn: 'withdrawn', export_prepared: 'export prepared', disclosed: 'handed over', closed: 'closed',
  clock_stopped_identity: 'DSAR clock stopped: proof of identity asked for', clock_stopped_clarification: 'DSAR clock stopped: clarification asked for',
  clock_restarted: 'DSAR clock restarted: the requester answered' };
// A DSAR's package shows other people: the server lets it leave (download, encrypted zip,
// handover) only redacted and signed off, or with a recorded reason to send it unredacted
// (requests/workflow.cpp). Until then the page offers none of those, and says why.
const heldBack = (r, e) => r.type === 'dsar' && !e.redacted && !e.unredacted_justification;
const HELD_BACK = 'This package shows other people, so it cannot be downloaded or handed over yet: '
  + 'under Exports, redact it and sign the redaction off, or record why it may go out unredacted.';
// An export handed over (in the disclosure register): what left cannot be redacted any more.
const handedOver = (r, e) => r.disclosures.some((d) => d.export_id === e.id);
// Why a DSAR's clock was stopped, in words.
const STOPPED_FOR = { identity: 'waiting for proof of identity', clarification: 'waiting for a clarification' };

export async function render(main, { session }, id) {
  const msg = messageLine();
  const body = h('div');
  main.append(pageHeader(`Request #${id}`), msg, body);
  const timers = new Set();
  const manager = ['manager', 'dpo'].includes(session.user.role);
  // Which state allows what comes from the server's rules (requests/rules.h), not a copy here.
  let rules;
  try { rules = await get('/api/v1/request-rules'); } catch (e) {
    msg.error(e);
    return undefined;
  }
  const stateRules = (r) => rules.states[r.state] || { open: false, undecided: false, may_export: false, next: [] };

  async function act(path, payload, done) {
    try {
      await post(`/api/v1/requests/${id}/${path}`, payload);
      msg.show(done, 'ok');
      await load();
    } catch (e) { msg.error(e); }
  }

  function section(title, ...children) {
    const hid = `sec-${title.toLowerCase().replace(/\W+/g, '-')}`;
    return h('section', { class: 'card', 'aria-labelledby': hid }, h('h2', { id: hid }, title), ...children);
  }

  function details(r) {
    return section('Details', h('dl', { class: 'details' },
      h('dt', {}, 'Type'), h('dd', {}, TYPES[r.type]?.label || r.type),
      h('dt', {}, 'State'), h('dd', {}, stateBadge(r.state)),
      h('dt', {}, 'Requester'), h('dd', {}, r.requester_name, r.organisation ? ` (${r.organisation})` : ''),
      h('dt', {}, 'Contact'), h('dd', {}, r.contact || '—'),
      h('dt', {}, 'Reference'), h('dd', {}, r.reference || '—'),
      h('dt', {}, 'Legal basis'), h('dd', {}, r.legal_basis_text, r.legal_basis_detail ? ` — ${r.legal_basis_detail}` : ''),
      h('dt', {}, 'Received'), h('dd', {}, timeEl(r.received)),
      r.type === 'dsar' ? [h('dt', {}, 'Deadline'), h('dd', { class: 'deadline' }, deadlineEl(r),
        r.extension?.months ? ` (extended by ${r.extension.months} months: ${r.extension.reason})` : '',
        r.clock?.stopped_days ? ` (moved on by ${r.clock.stopped_days} days while the clock was stopped)` : '',
        r.clock?.stopped_since ? h('div', { class: 'clock-stopped' }, badge('clock stopped', 'warn'), ' since ', timeEl(r.clock.stopped_since),
          `, ${STOPPED_FOR[r.clock.stopped_for] || r.clock.stopped_for}; the deadline moves on by the days it stays stopped.`) : null)] : null,
      h('dt', {}, 'Description'), h('dd', {}, r.description || '—'),
      h('dt', {}, 'Footage'), h('dd', {}, h('ul', { class: 'plain' }, r.ranges.map((x) =>
        h('li', {}, `${x.camera}: `, timeEl(x.from), ' – ', timeEl(x.to))))),
      r.assessment?.over_broad ? [h('dt', {}, 'Minimisation'), h('dd', {}, badge('over-broad', 'warn'), ' ', r.assessment.reasons.join('; '))] : null,
      h('dt', {}, 'Logged by'), h('dd', {}, r.logged_by_who ?? `account ${r.logged_by}`),
      r.requester_user_who ? [h('dt', {}, 'Asked for by'), h('dd', {}, r.requester_user_who)] : null,
      r.decided ? [h('dt', {}, 'Decision'), h('dd', {}, `${r.state === 'refused' ? 'Refused' : 'Approved'} by ${r.decided_by_who ?? 'someone'} `, timeEl(r.decided), ` — ${r.decision_reason || ''}`)] : null));
  }

  function verifications(r) {
    const done = new Set(r.verifications.map((v) => v.step));
    const open = stateRules(r).next.includes('awaiting_decision');  // it can still be sent for decision
    const step = select('step', Object.entries(STEPS), r.required_verifications.find((s) => !done.has(s)) || 'other');
    const note = h('input', { name: 'note', maxlength: 2000 });
    const form = h('form', { class: 'toolbar' }, field('Check done', step), field('Note', note, 'who, how, which number or document'),
      h('button', { type: 'submit' }, 'Record check'));
    form.addEventListener('submit', (ev) => { ev.preventDefault(); act('verifications', { step: step.value, note: note.value.trim() }, 'Check recorded.'); });
    const missing = r.required_verifications.filter((s) => !done.has(s));
    return section('Verification',
      h('ul', { class: 'checklist' }, r.required_verifications.map((s) =>
        h('li', { class: done.has(s) ? 'done' : 'todo' }, done.has(s) ? '✔ ' : '✗ ', STEPS[s] || s))),
      table([{ title: 'Check', cell: (v) => STEPS[v.step] || v.step }, { title: 'When', cell: (v) => timeEl(v.at) },
        { title: 'By', cell: (v) => v.done_by_who ?? `account ${v.done_by}` }, { title: 'Note', cell: (v) => v.note }], r.verifications, { empty: 'No checks recorded yet.' }),
      open ? form : null,
      open ? h('div', { class: 'actions' }, button('Send for decision', () => act('submit', {}, 'Sent for decision.'), {
        class: 'primary', disabled: missing.length > 0, title: missing.length ? 'Record the required checks first' : null })) : null);
  }

  function decision(r) {
    if (!manager || !stateRules(r).undecided) return null;
    if (!r.can_decide) return section('Decision', h('p', { class: 'note' }, r.cannot_decide_reason || 'You cannot decide this request.'));
    const reason = h('textarea', { name: 'reason', rows: 2, required: true, maxlength: 2000 });
    const just = h('textarea', { name: 'over_broad_justification', rows: 2, maxlength: 2000 });
    const decide = (approve) => {
      if (!reason.value.trim()) return msg.show('Give the reason for the decision.', 'error');
      const payload = { approve, reason: reason.value.trim() };
      if (just.value.trim()) payload.over_broad_justification = just.value.trim();
      act('decision', payload, approve ? 'Approved.' : 'Refused.');
    };
    return section('Decision', h('form', { class: 'decision' },
      field('Reason for the decision', reason),
      r.assessment?.over_broad ? field('Why the broad range is needed', just, 'Required to approve an over-broad request.') : null,
      h('div', { class: 'actions' }, button('Approve', () => decide(true), { class: 'primary' }), button('Refuse', () => decide(false), { class: 'danger' }))));
  }

  function exportRow(e, r) {
    const row = h('div', { class: 'export card-inner' });
    const bar = progressBar(`Export ${e.id} progress`);
    const purposeText = h('input', { name: 'purpose_text', value: `Handover of request #${r.id}${r.reference ? ' (' + r.reference + ')' : ''}`, maxlength: 500 });
    // A DSAR's package is its signed-off redacted copy once there is one: the link says so.
    const link = h('a', { class: 'button primary', download: `export-${e.id}.tar` }, r.type === 'dsar' && e.redacted ? 'Download redacted package' : 'Download package');
    const setHref = () => { link.href = `/api/v1/exports/${e.id}/download` + query({ purpose: 'request', purpose_text: purposeText.value.trim() }); };
    purposeText.addEventListener('input', setHref);
    setHref();
    const zipOut = h('div');
    const render = (x) => {
      // Footage still being recorded is waited for before the build starts: show how much
      // of the range is recorded, and why, instead of a bar stuck at 0.
      const waiting = x.state === 'building' ? x.waiting_for_recording : null;
      if (waiting) bar.set(waiting.recorded_percent, 'waiting for recording');
      else bar.set(x.progress ?? 0, x.state);
      clear(row, h('h3', {}, `Export ${x.id} `, badge(waiting ? 'waiting for recording' : x.state, x.state === 'ready' ? 'ok' : x.state === 'failed' ? 'bad' : 'warn')),
        bar, waiting ? h('p', { class: 'waiting' }, `Waiting for footage that is still being recorded (${waiting.recorded_percent}% of the range recorded so far): ${waiting.text}. The package is built and signed once it is all recorded.`) : null,
        x.error ? h('p', { class: 'error' }, x.error) : null,
        x.state === 'building' ? button('Cancel export', async () => {
          try { await post(`/api/v1/exports/${x.id}/cancel`, {}); msg.show('Cancel requested.'); } catch (err) { msg.error(err); }
        }) : null,
        x.state === 'ready' ? [
          h('p', {}, `${(x.bytes / 1e6).toFixed(1)} MB; manifest SHA-256 `, h('code', {}, x.manifest_sha256 || '')),
          r.type === 'dsar' && !x.redacted ? justification(x) : null,
          manager ? redactionPanel(x, r, { msg, timers, reload: load, handedOver: handedOver(r, x), heldBack: heldBack(r, x) }) : null,
          verifyHelp(),
          heldBack(r, x) ? h('p', { class: 'note held-back' }, HELD_BACK) :
          [field('Why you are downloading it (for the access log)', purposeText), h('div', { class: 'actions' }, link,
            button('Make encrypted zip for removable media', async () => {
              try {
                const z = await post(`/api/v1/exports/${x.id}/encrypted-zip`, {});
                clear(zipOut, h('p', { class: 'secret' }, `File ${z.file}. Password (shown once, give it separately): `, h('code', {}, z.password)), h('p', {}, z.note));
              } catch (err) { msg.error(err); }
            })), zipOut]] : null);
    };
    render(e);
    // The outcome replaces "Export N started." once the build ends (ui.js messageLine).
    const settle = (x) => {
      const key = `export-${x.id}`;
      if (x.state === 'ready') msg.settle(key, `Export ${x.id} is ready: ${(x.bytes / 1e6).toFixed(1)} MB, signed.`);
      else if (x.state === 'failed') msg.settle(key, `Export ${x.id} failed${x.error ? ': ' + x.error : '.'}`, 'error');
      else if (x.state !== 'building') msg.settle(key, `Export ${x.id} ${x.state}.`, 'warn');
    };
    const poll = async () => {
      try {
        const x = await get(`/api/v1/exports/${e.id}`);
        render(x);
        settle(x);
        if (x.state === 'building') schedule();
        else if (x.state === 'ready') load();
      } catch (err) { msg.error(err); }
    };
    const schedule = () => { const t = setTimeout(() => { timers.delete(t); poll(); }, 1000); timers.add(t); };
    // The request lists its exports briefly; the export itself has progress, files,
    // redaction state. Poll while it builds (a reload resumes here).
    const first = async () => {
      try {
        const x = await get(`/api/v1/exports/${e.id}`);
        render(x);
        settle(x);
        if (x.state === 'building') schedule();
        else if (x.state !== e.state) load();  // finished since the request was read
      } catch (err) { msg.error(err); }
    };
    first();
    return row;
  }

  // A DSAR export shows other people unless redacted; without redaction it may go out
  // only with a recorded reason.
  function justification(x) {
    if (x.unredacted_justification) return h('p', { class: 'note' }, 'Not redacted; recorded reason: ', x.unredacted_justification);
    const why = h('input', { name: 'why', required: true, maxlength: 2000 });
    const f = h('form', { class: 'toolbar' }, field('Why it may go out unredacted (e.g. nobody else is shown)', why),
      h('button', { type: 'submit' }, 'Record reason'));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await post(`/api/v1/exports/${x.id}/justify-unredacted`, { why: why.value.trim() }); msg.show('Reason recorded.', 'ok'); await load(); } catch (err) { msg.error(err); }
    });
    return f;
  }

  let signingKey = null;
  function verifyHelp() {
    const box = h('details', { class: 'verify-help' }, h('summary', {}, 'How the recipient checks the package'));
    (signingKey ??= get('/api/v1/signing-key')).then((k) => box.append(
      h('p', {}, `Signed with ${k.algorithm}, key id ${k.key_id}. The recipient runs, in the unpacked folder:`),
      h('pre', {}, k.verify_command, '\nsha256sum -c SHA256SUMS'),
      h('p', {}, 'Public key file:'), h('pre', {}, k.public_key_file))).catch(() => box.append(h('p', {}, 'The signing key could not be read.')));
    return box;
  }

  function exportsSection(r) {
    if (!manager) return null;
    const can = stateRules(r).may_export;
    const originals = h('input', { type: 'checkbox', name: 'include_originals' });
    // Police evidence keeps the master exhibit (the recorded files, bit for bit) beside the
    // working copies, as UK police guidance asks; a DSAR is redacted from the working copies.
    originals.checked = r.type === 'police';
    const burned = h('input', { type: 'checkbox', name: 'burned_in_copy' });
    const start = h('form', { class: 'toolbar' },
      h('label', {}, originals, ' Include the master exhibit: the recorded files, bit for bit (master/)'),
      h('label', {}, burned, ' Also make working copies with the time drawn into the picture (re-encoded; for players without subtitles; slower)'),
      h('button', { type: 'submit', class: 'primary' }, 'Start export'));
    start.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const x = await post(`/api/v1/requests/${id}/exports`, { include_originals: originals.checked, burned_in_copy: burned.checked });
        msg.pending(`export-${x.export_id}`, `Export ${x.export_id} started.`);
        await load();
      } catch (e) { msg.error(e); }
    });
    return section('Exports', r.exports.length ? r.exports.map((e) => exportRow(e, r)) : h('p', {}, 'No exports yet.'),
      can && r.state === 'approved' ? start : null,
      !can ? h('p', { class: 'note' }, 'A request can be exported once it is approved.') : null);
  }

  function handover(r) {
    // An export handed over is not offered again, so a handover cannot be recorded twice by
    // accident: the form closes once every ready export has been recorded.
    const given = (e) => handedOver(r, e);
    const ready = r.exports.filter((e) => e.state === 'ready' && !given(e) && !heldBack(r, e));
    const held = r.exports.some((e) => e.state === 'ready' && !given(e) && heldBack(r, e));
    if (!manager || !ready.length) {
      const note = manager && held ? h('p', { class: 'note held-back' }, HELD_BACK) : null;
      return r.disclosures.length || note ? section('Handovers', r.disclosures.length ? handoverTable(r.disclosures) : null, note) : null;
    }
    const police = r.type === 'police';
    const exp = select('export_id', ready.map((e) => [String(e.id), `Export ${e.id}`]), String(ready[ready.length - 1].id));
    const method = select('method', Object.entries(METHODS), 'download');
    const recipient = h('input', { name: 'recipient_name', required: true, value: r.requester_name, maxlength: 200 });
    const org = h('input', { name: 'organisation', value: r.organisation || '', maxlength: 200 });
    const ref = h('input', { name: 'reference', value: police ? '' : r.reference || '', maxlength: 200, required: police });
    const note = h('input', { name: 'note', maxlength: 2000 });
    const form = h('form', { class: 'form-grid' }, field('Export', exp), field('How it was handed over', method),
      field('Recipient', recipient), field('Organisation', org),
      police ? field('Officer\'s collar or warrant number', ref, 'As the police guide asks: the number of the officer who takes the footage.') : field('Their reference', ref),
      field('Note', note),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Record handover')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await post('/api/v1/disclosures', { export_id: Number(exp.value), method: method.value, recipient_name: recipient.value.trim(),
          organisation: org.value.trim(), reference: ref.value.trim(), note: note.value.trim() });
        msg.show('Handover recorded in the disclosure register.', 'ok');
        await load();
      } catch (e) { msg.error(e); }
    });
    return section('Handovers', handoverTable(r.disclosures), form);
  }

  function handoverTable(list) {
    return table([{ title: 'When', cell: (d) => timeEl(d.at) }, { title: 'Export', cell: (d) => String(d.export_id) },
      { title: 'Authorised by', cell: (d) => d.authorised_by_who ?? `account ${d.authorised_by}` },
      { title: 'To', cell: (d) => [d.recipient_name, d.organisation ? ` (${d.organisation})` : ''] },
      { title: 'How', cell: (d) => METHODS[d.method] || d.method }, { title: 'Reference', cell: (d) => d.reference || '' },
      { title: 'Continuity', cell: (d) => button('Continuity record', () => continuityRecord(d)) }],
    list, { empty: 'Nothing handed over yet.' });
  }

  // A printable record of one handover, for the exhibit's continuity: the request, the
  // exhibit, every file with its SHA-256, who exported, approved and handed over to whom and
  // when, and lines for both sides to sign.
  async function continuityRecord(d) {
    let x;
    try { x = await get(`/api/v1/exports/${d.export_id}`); } catch (err) { msg.error(err); return; }
    const r = current;
    const exp = r.exports.find((e) => e.id === d.export_id) || {};
    const row = (k, v) => h('tr', {}, h('th', {}, k), h('td', {}, v ?? ''));
    const sign = (who) => h('div', { class: 'signature' }, h('p', {}, who),
      h('p', {}, 'Name: ______________________________  Signature: ______________________________  Date and time: __________________'));
    const sheet = h('section', { class: 'continuity-sheet', 'aria-label': 'Continuity record' },
      h('h2', {}, `Continuity record: export ${d.export_id} of request #${r.id}`),
      h('table', { class: 'continuity' }, h('tbody', {},
        row('Request', `#${r.id}, ${TYPES[r.type]?.label || r.type}${r.reference ? ', reference ' + r.reference : ''}`),
        row('Requested by', `${r.requester_name}${r.organisation ? ' (' + r.organisation + ')' : ''}`),
        row('Legal basis', `${r.legal_basis_text || r.legal_basis}${r.legal_basis_detail ? ' (' + r.legal_basis_detail + ')' : ''}`),
        row('Exhibit', `Export ${d.export_id}${d.reference ? ', recipient reference ' + d.reference : ''}; manifest.json SHA-256 ${x.manifest_sha256 || ''}`),
        row('Exported by', `${exp.created_by_who || 'account ' + x.created_by}, ${ukDateTime(x.created)}`),
        row('Approved by', `${r.decided_by_who || ''}${r.decided ? ', ' + ukDateTime(r.decided) : ''}`),
        row('Handed over', `${ukDateTime(d.at)} by ${d.authorised_by_who || 'account ' + d.authorised_by} to ${d.recipient_name}${d.organisation ? ' (' + d.organisation + ')' : ''}, ${METHODS[d.method] || d.method}`))),
      h('h3', {}, 'Files'),
      table([{ title: 'File', cell: (f) => f.path }, { title: 'Bytes', cell: (f) => String(f.bytes) },
        { title: 'SHA-256', cell: (f) => h('code', {}, f.sha256) }], x.files || [], { empty: 'No files listed.' }),
      sign('Handed over by (for the site)'), sign('Received by'),
      h('div', { class: 'actions no-print' },
        button('Print', () => window.print(), { class: 'primary' }),
        button('Close', () => { document.body.classList.remove('printing-continuity'); sheet.remove(); })));
    document.querySelector('.continuity-sheet')?.remove();
    document.body.classList.remove('printing-continuity');
    document.body.append(sheet);
    document.body.classList.add('printing-continuity');
    sheet.scrollIntoView();
  }

  // Stops the DSAR's clock while the requester is asked for something, or restarts it.
  function clockForm(r) {
    if (r.clock?.stopped_since) {
      const answer = h('input', { name: 'answer', required: true, maxlength: 2000 });
      const f = h('form', { class: 'toolbar' }, field('What the requester answered', answer), h('button', { type: 'submit' }, 'Restart the clock'));
      f.addEventListener('submit', (ev) => { ev.preventDefault(); act('clock-restart', { answer: answer.value.trim() }, 'Clock restarted; the deadline has moved on.'); });
      return f;
    }
    if (!r.clock?.can_stop) return null;  // the server's rule: only before the decision and the deadline
    const reason = select('reason', [['identity', 'Proof of identity'], ['clarification', 'A clarification of what is wanted']], 'identity');
    const asked = h('input', { name: 'asked', required: true, maxlength: 2000 });
    const f = h('form', { class: 'toolbar' }, field('Stop the clock while asking for', reason), field('What was asked, and how', asked),
      h('button', { type: 'submit' }, 'Stop the clock'));
    f.addEventListener('submit', (ev) => { ev.preventDefault(); act('clock-stop', { reason: reason.value, asked: asked.value.trim() }, 'Clock stopped.'); });
    return f;
  }

  function otherActions(r) {
    if (!manager) {
      // Staff withdraw their own request until a manager decides it.
      if (!stateRules(r).undecided) return null;
      return section('Withdraw', h('p', { class: 'hint' }, 'If the request is no longer needed, withdraw it before a manager decides it.'),
        button('Withdraw request', () => {
          if (!window.confirm(`Withdraw request #${r.id}? It cannot be reopened.`)) return;
          act('withdraw', {}, 'Withdrawn.');
        }));
    }
    const parts = [];
    if (r.type === 'dsar' && stateRules(r).open) {
      const months = select('further_months', [['1', '1 month'], ['2', '2 months']], '1');
      const reason = h('input', { name: 'reason', required: true });
      const told = toUkInputs(new Date());
      const toldDate = h('input', { type: 'date', value: told.date, required: true });
      const f = h('form', { class: 'toolbar' }, field('Extend by', months), field('Why (complex or many requests)', reason), field('Requester told on', toldDate),
        h('button', { type: 'submit' }, 'Extend deadline'));
      f.addEventListener('submit', (ev) => { ev.preventDefault(); act('extension', { further_months: Number(months.value), reason: reason.value.trim(), requester_told: utcIso(fromUkLocal(toldDate.value, '12:00')) }, 'Deadline extended.'); });
      parts.push(h('h3', {}, 'DSAR deadline'), f);
      parts.push(clockForm(r));
    }
    // No default: recording whether the person was told is a decision, not a click-through.
    const told = select('told', [['', 'Choose…'], ['true', 'The data subject was told'], ['false', 'The data subject was not told (reason in the note)']], '');
    told.required = true;
    const note = h('input', { name: 'note' });
    const nf = h('form', { class: 'toolbar' }, field('Subject notification', told), field('Note', note), h('button', { type: 'submit' }, 'Record'));
    nf.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!told.value) return msg.show('Choose whether the data subject was told.', 'error');
      if (!window.confirm(told.value === 'true' ? 'Record that the data subject was told?' : 'Record that the data subject was not told? Give the reason in the note.')) return;
      act('subject-notification', { told: told.value === 'true', note: note.value.trim() }, 'Recorded.');
    });
    parts.push(nf);
    if (stateRules(r).next.includes('withdrawn')) {
      parts.push(button('Withdraw request', () => {
        if (!window.confirm(`Withdraw request #${r.id}? It cannot be reopened; its exports can no longer leave the appliance.`)) return;
        act('withdraw', {}, 'Withdrawn.');
      }));
    }
    if (stateRules(r).next.includes('closed')) parts.push(button('Close request', () => act('close', {}, 'Closed.')));
    return section('Other actions', parts);
  }

  function history(r) {
    const stateText = (s) => STATES[s] || s.replaceAll('_', ' ');
    return section('History', table([{ title: 'When', cell: (e) => timeEl(e.at) }, { title: 'What', cell: (e) => ACTIONS[e.action] || e.action.replaceAll('_', ' ') },
      { title: 'State', cell: (e) => e.from ? `${stateText(e.from)} → ${stateText(e.to)}` : stateText(e.to) }, { title: 'By', cell: (e) => e.user_who ?? `account ${e.user_id}` },
      // A recorded check's note is the check's code: in words, as in the verification table.
      { title: 'Note', cell: (e) => (e.action === 'verifying' && STEPS[e.note]) || e.note || '' }], r.history, { empty: 'No history.' }));
  }

  let current = null;  // the request as last loaded
  async function load() {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    try {
      const r = await get(`/api/v1/requests/${id}`);
      current = r;
      clear(body, details(r), verifications(r), decision(r), exportsSection(r), handover(r), otherActions(r), history(r));
    } catch (e) { msg.error(e); }
  }
  await load();
  return () => { for (const t of timers) clearTimeout(t); };
}
