// The alarm banner: open alarms on every page for managers, the DPO and admins, so that
// people who are not on the Health page see them. Refreshed on every page change and
// every 30 s while signed in.
import { get } from './api.js';
import { h, clear } from './ui.js';

const REFRESH_MS = 30_000;
const ROLES = ['manager', 'dpo', 'admin'];
let timer = null;
let enabled = false;

export async function refreshAlarmBanner() {
  const banner = document.getElementById('alarm-banner');
  if (!banner || !enabled) return;
  try {
    const { alarms } = await get('/api/v1/alarms');
    const open = alarms.filter((a) => !a.acknowledged);
    if (!alarms.length) { banner.hidden = true; clear(banner); return; }
    const first = (open[0] || alarms[0]).title;
    const more = alarms.length - 1;
    clear(banner,
      h('strong', {}, alarms.length === 1 ? '1 open alarm: ' : `${alarms.length} open alarms: `),
      first, more > 0 ? ` and ${more} more` : '',
      open.length < alarms.length ? ` (${alarms.length - open.length} acknowledged)` : '',
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
