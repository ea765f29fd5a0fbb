// The alarm banner: open alarms on every page for managers, the DPO and admins, so that
// people who are not on the Health page see them. Refreshed on every page change and
// every 30 s while signed in.
import { get } from './api.js';
import { h, clear } from './ui.js';

const REFRESH_MS = 30_000;
const ROLES = ['manager', 'dpo', 'admin'];
const SHOWN = 3;
let timer = null;
let enabled = false;

export async function refreshAlarmBanner() {
  const banner = document.getElementById('alarm-banner');
  if (!banner || !enabled) return;
  try {
    const { alarms } = await get('/api/v1/alarms');
    if (!alarms.length) { banner.hidden = true; clear(banner); return; }
    // Newest first, those no one has acknowledged before those someone is dealing with.
    const order = [...alarms].sort((a, b) => (!!a.acknowledged - !!b.acknowledged) || Date.parse(b.raised) - Date.parse(a.raised));
    const shown = order.slice(0, SHOWN).map((a) => a.title + (a.acknowledged ? ' (acknowledged)' : ''));
    const more = alarms.length - shown.length;
    clear(banner,
      h('strong', {}, alarms.length === 1 ? '1 open alarm: ' : `${alarms.length} open alarms: `),
      shown.join('; '), more > 0 ? `; and ${more} more` : '',
      ' — ', h('a', { href: '#/health' }, 'see the Health page'));
    banner.hidden = false;
  } catch { /* the page's own requests report errors; the banner stays as it was */ }
}

export function startAlarmBanner(role) {
  stopAlarmBanner();
  enabled = ROLES.includes(role);
  if (!enabled) return;
  refreshAlarmBanner();
  timer = setInterval(refreshAlarmBanner, REFRESH_MS);
}

export function stopAlarmBanner() {
  enabled = false;
  if (timer) clearInterval(timer);
  timer = null;
  const banner = document.getElementById('alarm-banner');
  if (banner) { banner.hidden = true; clear(banner); }
}
