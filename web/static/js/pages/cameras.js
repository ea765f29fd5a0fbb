// Cameras: a grid of the cameras this account may see, with recording status, linking to
// live view and review (both ask for a stated purpose first; admins see status only), and
// each camera's clock against the appliance's (from its RTCP sender reports).
import { get } from '../api.js';
import { h, clear, pageHeader, messageLine, badge, button } from '../ui.js';
import { timeEl } from '../time.js';

function statusBadge(status) {
  if (!status) return badge('never connected', 'warn');
  return status.online ? badge('recording', 'ok') : badge('offline', 'bad');
}

// "+30.2 s (30 s ahead of the appliance's clock)"; unknown when the camera sends no reports.
function clockText(clock) {
  if (!clock || clock.state === 'unknown') return badge('camera clock unknown', 'warn');
  const figure = `${clock.offset_us >= 0 ? '+' : ''}${(clock.offset_us / 1e6).toFixed(1)} s`;
  return h('span', { class: 'camera-clock', dataset: { offsetUs: String(clock.offset_us) } },
    badge(figure, clock.state === 'adrift' ? 'bad' : 'ok'), ` ${clock.text.replace(/^camera clock /, '')}`);
}

export async function render(main, { session, navigate }) {
  const msg = messageLine();
  const grid = h('ul', { class: 'camera-grid' });
  const refresh = button('Refresh', () => load());
  main.append(pageHeader('Cameras', refresh), msg, grid);
  const footage = ['staff', 'manager', 'dpo'].includes(session.user.role);

  async function load() {
    try {
      const { cameras } = await get('/api/v1/cameras');
      clear(grid, cameras.map((c) => {
        const s = c.status;
        return h('li', { class: 'camera-card card' },
          h('h2', {}, c.name || c.id), h('p', { class: 'camera-id' }, c.id),
          statusBadge(s),
          h('dl', {},
            h('dt', {}, 'Last video'), h('dd', {}, timeEl(s?.last_packet)),
            h('dt', {}, 'Camera clock'), h('dd', {}, clockText(c.clock)),
            h('dt', {}, 'Bit rate'), h('dd', {}, s?.bitrate_bps ? `${(s.bitrate_bps / 1e6).toFixed(2)} Mbit/s` : '—'),
            s?.last_error ? [h('dt', {}, 'Last error'), h('dd', {}, s.last_error)] : null),
          footage ? h('div', { class: 'actions' },
            button('Review', () => navigate('review', { camera: c.id })),
            button('Live view', () => navigate('live', { camera: c.id }), { 'aria-label': `Live view of ${c.name || c.id}` })) : null);
      }));
      msg.show(cameras.length ? `${cameras.length} cameras; updated every 10 s.` : 'No cameras are configured for you.');
    } catch (e) { msg.error(e); }
  }
  await load();
  const timer = setInterval(load, 10_000);
  return () => clearInterval(timer);
}
