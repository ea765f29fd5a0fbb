// Health (managers, DPO, admins): every alarm in words with what to do, acknowledged by a
// person; the cameras' state, clock and days of footage against retention, the disk and how
// many days it lasts at the current rate, the clock, the last backup, holds past review and
// DSARs due soon. Refreshes every 10 s. Live stills are footage: shown only to those
// permitted a camera, after they state a purpose, and fetched as live pictures (one live
// viewing per camera in the access log, however often the page refreshes).
import { get, post, query } from '../api.js';
import { h, clear, table, pageHeader, messageLine, button, badge } from '../ui.js';
import { timeEl } from '../time.js';
import { refreshAlarmBanner } from '../alarm_banner.js';
import { askPurpose, PURPOSE_LABELS } from '../purpose.js';

const REFRESH_MS = 10_000;

function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

function days(n) {
  const d = Math.floor(n);
  return d === 1 ? '1 day' : `${d} days`;
}

// A days figure is given only once the rate is measured over some hours of recording
// (`from` is when that will be): minutes of a new camera, scaled to a day, swing widely.
function notYet(from, minHours) {
  if (!from) return 'not known yet (no footage in the last day)';
  return h('span', { class: 'estimate-pending' }, `estimate available after ${minHours} hours of recording (at `, timeEl(from), ')');
}

// Days of footage a camera keeps at its current rate, against its retention.
function footageDays(c, minHours) {
  if (c.footage_days === null || c.footage_days === undefined) return notYet(c.footage_days_from, minHours);
  const text = `${days(c.footage_days)} at the current rate`;
  return c.short_of_retention
    ? h('span', {}, badge(text, 'warn'), ` — less than its ${c.retention_days} days: the oldest footage goes early`)
    : text;
}

// The appliance's clock. A site whose file says its clock cannot be synchronised (the demo
// in a container: alarms.clock_sync_watched) raises no alarm for it; the page says so, and
// still says what the kernel reports.
function clockFact(clock) {
  const state = clock.synchronized ? badge('synchronised (NTP)', 'ok') : badge('not synchronised', clock.watched === false ? 'warn' : 'bad');
  if (clock.watched !== false) return state;
  return h('span', { class: 'clock-not-watched' }, badge('not watched on this site', 'muted'), ' ', state,
    ' The site file says this machine\'s clock is not synchronised by design (alarms.clock_sync_watched: false), so no alarm is raised for it; footage times are only as right as this clock.');
}

function cameraClock(clock) {
  if (!clock || clock.state === 'unknown') return h('span', { class: 'camera-clock' }, badge('camera clock unknown', 'warn'));
  const secs = (clock.offset_us / 1e6).toFixed(1);
  const figure = `${clock.offset_us >= 0 ? '+' : ''}${secs} s`;
  return h('span', { class: 'camera-clock', dataset: { offsetUs: String(clock.offset_us) } },
    badge(figure, clock.state === 'adrift' ? 'bad' : 'ok'), ' ', clock.text);
}

// A recorder error in words a site manager can act on; the error itself stays one click away.
const PROBLEMS = [
  [/refused|ECONNREFUSED/i, 'the camera refused the connection: check its address and that RTSP is enabled on it'],
  [/\b401\b|unauthori[sz]ed|password|Basic/i, 'the camera refused the user name or password: check them in Camera setup'],
  [/\b403\b|forbidden/i, 'the camera does not let this user watch the stream: check the user\'s rights on the camera'],
  [/\b404\b|not found|no such stream/i, 'the camera has no stream at that address: check the stream path'],
  [/\b503\b|unavailable|busy/i, 'the camera is busy or restarting: if it lasts, restart the camera'],
  [/timed out|timeout|unreachable|no route|resolve/i, 'the camera does not answer: check that it has power and network, and its address'],
  [/closed the connection|reset/i, 'the camera dropped the connection: check its network cable and power'],
  [/H\.264|H\.265|codec/i, 'the camera sends video Custodian cannot record: set it to H.264 or H.265'],
];
function problemInWords(error) {
  const hit = PROBLEMS.find(([re]) => re.test(error));
  return hit ? hit[1] : 'the camera is not sending pictures';
}

function alarmCard(a, acknowledge) {
  const ack = a.acknowledged
    ? h('p', { class: 'alarm-ack' }, 'Acknowledged by ', h('strong', {}, a.acknowledged_by), ' at ', timeEl(a.acknowledged))
    : button('Acknowledge', () => acknowledge(a), { class: 'primary', 'aria-label': `Acknowledge: ${a.title}` });
  return h('article', { class: `card alarm${a.acknowledged ? ' alarm-acked' : ''}`, dataset: { kind: a.kind } },
    h('h3', {}, a.title),
    h('p', { class: 'alarm-when' }, 'Raised ', timeEl(a.raised), a.emailed ? h('span', {}, ' · e-mailed ', timeEl(a.emailed)) : null),
    h('p', { class: 'alarm-todo' }, h('strong', {}, 'What to do: '), a.what_to_do),
    a.detail ? h('details', {}, h('summary', {}, 'Technical detail'), h('p', { class: 'alarm-detail' }, a.detail)) : null,
    ack);
}

export async function render(main, { session }) {
  const msg = messageLine();
  const alarmsBox = h('section', { 'aria-labelledby': 'open-alarms' });
  const siteBox = h('section', { 'aria-labelledby': 'site-state' });
  const camerasBox = h('section', { 'aria-labelledby': 'camera-state' });
  const clearedBox = h('section', { 'aria-labelledby': 'cleared-alarms' });
  main.append(pageHeader('Health'), msg, alarmsBox, siteBox, camerasBox, clearedBox);
  const mayOpenRequests = session.user.role !== 'admin';
  let stillPurpose = null;
  const purposeBox = h('div');
  const stillsButton = button('Show live stills', async () => {
    stillPurpose = await askPurpose(purposeBox, session.purposes || Object.keys(PURPOSE_LABELS));
    if (stillPurpose) await load();
  });

  async function acknowledge(a) {
    try {
      await post(`/api/v1/alarms/${a.id}/acknowledge`, {});
      msg.show(`Acknowledged: ${a.title}. Others see that you are dealing with it.`, 'ok');
      await load();
      refreshAlarmBanner();
    } catch (e) { msg.error(e); }
  }

  function renderAlarms(alarms, emailOn) {
    const open = alarms.filter((a) => !a.cleared);
    clear(alarmsBox,
      h('h2', { id: 'open-alarms' }, open.length === 1 ? '1 open alarm' : `${open.length} open alarms`),
      h('p', { class: 'hint' }, emailOn ? 'Each alarm is also e-mailed to the people set in the site file.'
        : 'Alarm e-mail is not set up: only this page and the banner show alarms (alarms.email in the site file).'),
      open.length ? open.map((a) => alarmCard(a, acknowledge)) : h('p', { class: 'all-well' }, 'No open alarms: everything is working.'));
    const cleared = alarms.filter((a) => a.cleared);
    clear(clearedBox, h('h2', { id: 'cleared-alarms' }, 'Cleared in the last 7 days'),
      table([
        { title: 'Alarm', cell: (a) => a.title },
        { title: 'Raised', cell: (a) => timeEl(a.raised) },
        { title: 'Cleared', cell: (a) => timeEl(a.cleared) },
        { title: 'Acknowledged by', cell: (a) => a.acknowledged ? h('span', {}, a.acknowledged_by, ' at ', timeEl(a.acknowledged)) : 'no one' },
      ], cleared, { empty: 'No alarms cleared in the last 7 days.' }));
  }

  function renderSite(s) {
    const d = s.disk;
    const rows = [
      ['Disk', d ? `${bytes(d.used_bytes)} used, ${bytes(d.free_bytes)} free of ${bytes(d.total_bytes)}` : 'not known'],
      ['Footage recorded in the last day', d ? bytes(d.footage_bytes_last_day) : '—'],
      ['Free space lasts, at the measured rate', !d ? '—' : d.days_left === null || d.days_left === undefined
        ? notYet(d.days_left_from, d.rate_min_hours)
        : `${days(d.days_left)} (at ${bytes(d.footage_bytes_per_day)} a day, measured over the last day, or the hours recorded if fewer)`],
      ['Clock', clockFact(s.clock)],
      ['Last backup', s.last_backup ? timeEl(s.last_backup) : badge('none recorded', 'warn')],
      ['Holds past their review date', s.holds_past_review ? badge(String(s.holds_past_review), 'warn') : 'none'],
      ['Subject access requests due within 7 days', s.dsars_due_soon.length
        ? h('ul', { class: 'plain' }, s.dsars_due_soon.map((r) => h('li', {},
          mayOpenRequests ? h('a', { href: `#/requests/${r.id}` }, `request ${r.id}`) : `request ${r.id}`, ', due ', timeEl(r.deadline, { endOfDay: true }))))
        : 'none'],
    ];
    clear(siteBox, h('h2', { id: 'site-state' }, 'The appliance'),
      h('dl', { class: 'card health-facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
  }

  // The newest keyframe of the camera, with a cache-busting time so each refresh fetches it.
  function still(c) {
    if (!c.may_view) return h('span', { class: 'hint' }, 'not one of your cameras');
    if (!stillPurpose) return '—';
    const url = `/api/v1/cameras/${encodeURIComponent(c.id)}/live.jpg` + query({ ...stillPurpose, t: String(Date.now()) });
    const img = h('img', { class: 'health-still', src: url, alt: `Live still of ${c.name}`, width: 160 });
    img.addEventListener('error', () => img.replaceWith(h('span', { class: 'hint' }, 'no picture now')));
    return img;
  }

  function renderCameras(cameras, minHours) {
    const viewable = cameras.some((c) => c.may_view);
    clear(camerasBox, h('h2', { id: 'camera-state' }, 'Cameras'),
      viewable && !stillPurpose ? h('p', {}, 'Live stills are footage: say why you need them first. ', stillsButton) : null,
      viewable && stillPurpose ? h('p', { class: 'purpose-line' }, 'Purpose for the live stills: ',
        h('strong', {}, PURPOSE_LABELS[stillPurpose.purpose] || stillPurpose.purpose), ` — “${stillPurpose.purpose_text}”`) : null,
      purposeBox,
      table([
        { title: 'Camera', cell: (c) => h('span', {}, c.name, h('span', { class: 'camera-id' }, ` ${c.id}`)) },
        { title: 'Live still', cell: still },
        { title: 'State', cell: (c) => c.online ? badge('recording', 'ok') : badge('offline', 'bad') },
        { title: 'Last picture', cell: (c) => c.last_picture ? timeEl(c.last_picture) : 'never' },
        { title: 'Problem', cell: (c) => c.online || !c.last_error ? '—'
          : h('details', { class: 'camera-problem' }, h('summary', {}, problemInWords(c.last_error)), h('span', { class: 'alarm-detail' }, c.last_error)) },
        { title: 'Clock', cell: (c) => cameraClock(c.clock) },
        { title: 'Footage in the last day', cell: (c) => bytes(c.bytes_last_day) },
        { title: 'Kept for', cell: (c) => c.retention_days ? `${c.retention_days} days (needs about ${bytes(c.retention_needs_bytes)})` : 'the site\'s period' },
        { title: 'Days of footage', cell: (c) => footageDays(c, minHours) },
      ], cameras, { empty: 'No cameras are configured.' }));
  }

  async function load() {
    try {
      const s = await get('/api/v1/health');
      renderAlarms(s.alarms, s.alarm_email);
      renderSite(s);
      renderCameras(s.cameras, s.disk ? s.disk.rate_min_hours : 3);
    } catch (e) { msg.error(e); }
  }
  await load();
  const timer = setInterval(load, REFRESH_MS);
  return () => clearInterval(timer);
}
