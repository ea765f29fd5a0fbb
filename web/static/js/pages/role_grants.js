// Role grants (admin, DPO): the manager, DPO and admin roles take effect only when a second
// privileged person confirms them. Pending grants first, with who asked and
// when; the requester and the account concerned cannot decide (the API refuses them too).
import { get, post } from '../api.js';
import { h, clear, table, pageHeader, messageLine, button, badge } from '../ui.js';
import { timeEl } from '../time.js';

const ROLE_TEXT = { manager: 'manager', dpo: 'DPO', admin: 'admin', staff: 'staff' };
const STATE_TEXT = { pending: ['awaiting confirmation', 'warn'], confirmed: ['confirmed', 'ok'],
  refused: ['refused', 'bad'], superseded: ['replaced', 'muted'] };

export async function render(main) {
  const msg = messageLine();
  const out = h('div');
  main.append(pageHeader('Role grants'),
    h('p', {}, 'The manager, DPO and admin roles give the power to approve footage requests, read the access log or manage accounts. ',
      'A grant made by one admin takes effect only when another admin or the DPO confirms it here, so that no one person can give themselves a second pair of eyes. ',
      'A site with no second admin or DPO yet gets its first DPO from the installer on the appliance’s console (custodian user add NAME --role dpo).'),
    msg, out);

  async function decide(g, confirm) {
    const what = `${g.user_name} as ${ROLE_TEXT[g.role]}`;
    if (!window.confirm(confirm
      ? `Confirm ${what}? ${g.user_name} gets the ${ROLE_TEXT[g.role]} role at once.`
      : `Refuse ${what}? The account keeps its current role.`)) return;
    try {
      await post(`/api/v1/role-grants/${g.id}/decision`, { confirm });
      msg.show(confirm ? `${g.user_name} is now ${ROLE_TEXT[g.role]}.` : `The grant of ${ROLE_TEXT[g.role]} to ${g.user_name} was refused.`, 'ok');
      load();
    } catch (e) { msg.error(e); load(); }
  }

  async function load() {
    try {
      const { grants } = await get('/api/v1/role-grants');
      clear(out, table([
        { title: 'Account', cell: (g) => [g.user_name ?? `account ${g.user_id}`, g.current_role ? h('span', { class: 'muted' }, ` (now ${ROLE_TEXT[g.current_role]})`) : null] },
        { title: 'Role asked for', cell: (g) => ROLE_TEXT[g.role] },
        { title: 'Asked for by', cell: (g) => [g.requested_by_name ?? `account ${g.requested_by}`, ' ', timeEl(g.requested)] },
        { title: 'State', cell: (g) => badge(...(STATE_TEXT[g.state] || [g.state, 'muted'])) },
        { title: 'Decided', cell: (g) => g.decided ? [g.decided_by_name ?? '', g.decided_by_name ? ' ' : '', timeEl(g.decided)] : '' },
        { title: '', cell: (g) => {
          if (g.state !== 'pending') return '';
          if (!g.you_may_decide) return h('span', { class: 'muted' }, 'another admin or the DPO decides');
          return [button('Confirm', () => decide(g, true), { class: 'primary', 'aria-label': `Confirm ${g.user_name} as ${ROLE_TEXT[g.role]}` }), ' ',
            button('Refuse', () => decide(g, false), { 'aria-label': `Refuse ${g.user_name} as ${ROLE_TEXT[g.role]}` })];
        } },
      ], grants, { caption: 'Grants of privileged roles', empty: 'No role has been granted through the web UI yet.' }));
    } catch (e) { msg.error(e); }
  }
  await load();
}
