// Users (admin): accounts, roles, camera permissions; create, change role, disable/enable.
import { get, post, patch, put } from '../api.js';
import { h, clear, field, select, table, pageHeader, messageLine, button, formValues, badge } from '../ui.js';
import { timeEl } from '../time.js';

const ROLES = [['staff', 'staff'], ['manager', 'manager'], ['dpo', 'DPO'], ['admin', 'admin']];
const roleText = (r) => Object.fromEntries(ROLES)[r] || r;

export async function render(main, { session }) {
  const msg = messageLine();
  const out = h('div');
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
  main.append(pageHeader('Users and roles'), msg, out, form);

  async function change(user, body, what) {
    try {
      const r = await patch(`/api/v1/users/${user.id}`, body);
      msg.show(r?.pending_grant
        ? `${user.name}: the ${roleText(r.pending_grant.role)} role takes effect when another admin or the DPO confirms it under Role grants.`
        : `${user.name}: ${what}.`, 'ok');
      load();
    } catch (e) { msg.error(e); load(); }
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
          s.addEventListener('change', () => change(u, { role: s.value }, `role now ${s.value}`));
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
        { title: '', cell: (u) => u.id === session.user.id ? '(you)' : button(u.disabled ? 'Enable' : 'Disable',
          () => change(u, { disabled: !u.disabled }, u.disabled ? 'enabled' : 'disabled'), { 'aria-label': `${u.disabled ? 'Enable' : 'Disable'} ${u.name}` }) },
      ], users, { caption: 'Accounts' }));
    } catch (e) { msg.error(e); }
  }
  await load();
}
