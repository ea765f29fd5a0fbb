// Users (admin): accounts, roles, camera permissions; create, change role, disable/enable,
// unlock after failed sign-ins, and a one-time password for someone who forgot theirs.
import { get, post, patch, put } from '../api.js';
import { h, clear, field, select, table, pageHeader, messageLine, button, formValues, badge } from '../ui.js';
import { timeEl } from '../time.js';

const ROLES = [['staff', 'staff'], ['manager', 'manager'], ['dpo', 'DPO'], ['admin', 'admin']];
const roleText = (r) => Object.fromEntries(ROLES)[r] || r;

export async function render(main, { session }) {
  const msg = messageLine();
  const out = h('div');
  const secretBox = h('div');
  const { cameras } = await get('/api/v1/cameras').catch(() => ({ cameras: [] }));
  const cameraBoxes = (name, chosen = []) => h('fieldset', { class: 'checks' }, h('legend', {}, 'Cameras'),
    cameras.map((c) => h('label', {}, h('input', { type: 'checkbox', name, value: c.id, checked: chosen.includes(c.id) }), ' ', c.name || c.id)));
  const form = h('form', { class: 'card form-grid', 'aria-labelledby': 'new-user' },
    h('h2', { id: 'new-user' }, 'Add an account'),
    field('Name', h('input', { name: 'name', required: true, autocomplete: 'off', maxlength: 64 })),
    field('Role', select('role', ROLES, 'staff'), 'Manager, DPO and admin need a second person: another admin or the DPO confirms them under Role grants.'),
    field('First password', h('input', { name: 'password', type: 'password', required: true, minlength: 10, autocomplete: 'new-password' }), 'At least 10 characters; they choose their own at first sign-in.'),
    cameraBoxes('cameras'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Add account')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    const chosen = [...form.querySelectorAll('input[name=cameras]:checked')].map((i) => i.value);
    try {
      const r = await post('/api/v1/users', { name: v.name, role: v.role, password: v.password, cameras: chosen });
      msg.show(r.pending_grant
        ? `Account ${v.name} added as staff. The ${roleText(r.pending_grant.role)} role takes effect when another admin or the DPO confirms it under Role grants.`
        : `Account ${v.name} added.`, 'ok');
      form.reset();
      load();
    } catch (e) { msg.error(e); }
  });
  main.append(pageHeader('Users and roles'), msg, secretBox, out, form);

  async function change(user, body, what) {
    try {
      const r = await patch(`/api/v1/users/${user.id}`, body);
      msg.show(r?.pending_grant
        ? `${user.name}: the ${roleText(r.pending_grant.role)} role takes effect when another admin or the DPO confirms it under Role grants.`
        : `${user.name}: ${what}.`, 'ok');
      load();
    } catch (e) { msg.error(e); load(); }
  }

  async function unlock(user) {
    try {
      await post(`/api/v1/users/${user.id}/unlock`, {});
      msg.show(`${user.name} is unlocked and can sign in again.`, 'ok');
      load();
    } catch (e) { msg.error(e); }
  }

  // The one-time password is shown here once; it is not stored anywhere in the browser.
  async function resetPassword(user) {
    const privileged = user.role !== 'staff';
    const note = privileged ? ` As you will know the password, the account becomes staff until another admin or the DPO confirms its ${roleText(user.role)} role again under Role grants.` : '';
    if (!window.confirm(`Give ${user.name} a one-time password? Their current password stops working, they are signed out, and they must choose a new one at their next sign-in.${note}`)) return;
    try {
      const r = await post(`/api/v1/users/${user.id}/password-reset`, {});
      clear(secretBox, h('div', { class: 'card secret', role: 'status' },
        h('p', {}, `One-time password for ${user.name}: `, h('code', { class: 'one-time-password' }, r.one_time_password)),
        h('p', { class: 'hint' }, 'Give it to them in person or by phone, not by e-mail. It is shown only now.'),
        r.pending_grant ? h('p', {}, `${user.name} is staff until another admin or the DPO confirms the ${roleText(r.pending_grant.role)} role under Role grants.`) : null,
        button('Done', () => clear(secretBox))));
      msg.show(`${user.name}: password reset.`, 'ok');
      load();
    } catch (e) { msg.error(e); }
  }

  function editCameras(user, cell) {
    const box = cameraBoxes(`cams-${user.id}`, user.cameras || []);
    const save = button('Save cameras', async () => {
      const chosen = [...box.querySelectorAll('input:checked')].map((i) => i.value);
      try { await put(`/api/v1/users/${user.id}/cameras`, { cameras: chosen }); msg.show(`${user.name}: cameras saved.`, 'ok'); load(); } catch (e) { msg.error(e); }
    });
    clear(cell, box, save);
  }

  async function load() {
    try {
      const { users } = await get('/api/v1/users');
      const { grants } = await get('/api/v1/role-grants').catch(() => ({ grants: [] }));
      const pending = new Map(grants.filter((g) => g.state === 'pending').map((g) => [g.user_id, g]));
      clear(out, table([
        { title: 'Name', cell: (u) => u.name },
        { title: 'Role', cell: (u) => {
          const s = select(`role-${u.id}`, ROLES, u.role);
          s.setAttribute('aria-label', `Role of ${u.name}`);
          s.disabled = u.id === session.user.id;
          s.addEventListener('change', () => {
            // Say what the new role grants before anything changes.
            const grants = {
              staff: 'footage of the cameras ticked for the account',
              manager: 'deciding footage requests, exports and holds, on the account\'s cameras',
              dpo: 'the access log, every request and the disclosure register, and confirming role grants',
              admin: 'accounts, roles and cameras (no footage), and confirming role grants',
            };
            const second = s.value === 'staff' ? '' : ' It takes effect when another admin or the DPO confirms it.';
            if (!window.confirm(`Make ${u.name} ${roleText(s.value)}? That role gives ${grants[s.value]}.${second}`)) { s.value = u.role; return; }
            change(u, { role: s.value }, `role now ${s.value}`);
          });
          return s;
        } },
        { title: 'Cameras', cell: (u) => {
          const cell = h('div', {}, (u.cameras || []).join(', ') || '—', ' ');
          if (u.role !== 'admin') cell.append(button('Edit', () => editCameras(u, cell), { class: 'link', 'aria-label': `Edit cameras of ${u.name}` }));
          return cell;
        } },
        { title: 'State', cell: (u) => [u.disabled ? badge('disabled', 'bad') : badge('active', 'ok'),
          u.must_change_password ? [' ', badge('must change password', 'warn')] : null,
          u.locked_until && Date.parse(u.locked_until) > Date.now() ? [' ', badge('locked', 'warn')] : null,
          pending.has(u.id) ? [' ', badge(`${roleText(pending.get(u.id).role)} awaiting confirmation`, 'warn')] : null] },
        { title: 'Created', cell: (u) => timeEl(u.created) },
        { title: '', cell: (u) => u.id === session.user.id ? '(you)' : h('div', { class: 'actions' }, button(u.disabled ? 'Enable' : 'Disable',
          () => {
            if (!u.disabled && !window.confirm(`Disable ${u.name}? They are signed out at once and cannot sign in until enabled again.`)) return;
            change(u, { disabled: !u.disabled }, u.disabled ? 'enabled' : 'disabled');
          }, { 'aria-label': `${u.disabled ? 'Enable' : 'Disable'} ${u.name}` }),
          u.locked_until && Date.parse(u.locked_until) > Date.now()
            ? button('Unlock', () => unlock(u), { 'aria-label': `Unlock ${u.name}` }) : null,
          button('Reset password', () => resetPassword(u), { 'aria-label': `Reset the password of ${u.name}` })) },
      ], users, { caption: 'Accounts' }));
    } catch (e) { msg.error(e); }
  }
  await load();
}
