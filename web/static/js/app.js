// The shell: sign-in, the session, navigation between pages (hash routes), and the idle
// lock the confidentiality policy asks for ("lock your screen when unattended").
//
// Nothing sensitive is stored in the browser: the session is an HttpOnly cookie, the CSRF
// token and the stated purpose live in module memory and are dropped on lock and sign-out.
import { get, post, setCsrfToken, setUnauthenticatedHandler, lastApiCallAt } from './api.js';
import { h, clear, field, messageLine } from './ui.js';
import { IdleLock } from './idle.js';
import { startAlarmBanner, stopAlarmBanner, refreshAlarmBanner } from './alarm_banner.js';

const PAGES = [
  { path: 'cameras', title: 'Cameras', roles: ['staff', 'manager', 'dpo', 'admin'], load: () => import('./pages/cameras.js') },
  { path: 'live', title: 'Live view', roles: ['staff', 'manager', 'dpo'], hidden: true, load: () => import('./pages/live.js') },
  { path: 'review', title: 'Review', roles: ['staff', 'manager', 'dpo'], load: () => import('./pages/review.js') },
  { path: 'review-together', title: 'Together', roles: ['staff', 'manager', 'dpo'], load: () => import('./pages/review_grid.js') },
  { path: 'requests', title: 'Requests', roles: ['staff', 'manager', 'dpo'], load: () => import('./pages/requests.js') },
  { path: 'holds', title: 'Holds', roles: ['manager', 'dpo'], load: () => import('./pages/holds.js') },
  { path: 'retention', title: 'Retention', roles: ['dpo'], load: () => import('./pages/retention.js') },
  { path: 'access-log', title: 'Access log', roles: ['dpo'], load: () => import('./pages/access_log.js') },
  { path: 'statistics', title: 'Statistics', roles: ['dpo'], load: () => import('./pages/statistics.js') },
  { path: 'users', title: 'Users', roles: ['admin'], load: () => import('./pages/users.js') },
  { path: 'role-grants', title: 'Role grants', roles: ['admin', 'dpo'], load: () => import('./pages/role_grants.js') },
  { path: 'health', title: 'Health', roles: ['manager', 'dpo', 'admin'], load: () => import('./pages/health.js') },
  { path: 'camera-setup', title: 'Camera setup', roles: ['admin'], load: () => import('./pages/camera_admin.js') },
];

const main = document.getElementById('main');
const state = { session: null, cleanup: null, renderToken: 0, lastName: '' };
let idle = null;

function pagesFor(role) { return PAGES.filter((p) => p.roles.includes(role)); }

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs = ''] = raw.split('?');
  const [page, ...rest] = path.split('/');
  return { page, rest, params: new URLSearchParams(qs) };
}

export function navigate(page, params) {
  const qs = params ? '?' + new URLSearchParams(params).toString() : '';
  location.hash = `#/${page}${qs === '?' ? '' : qs}`;
}

function renderNav() {
  const nav = document.getElementById('nav');
  const current = parseHash().page;
  clear(nav, pagesFor(state.session.user.role).filter((p) => !p.hidden).map((p) =>
    h('li', {}, h('a', { href: `#/${p.path}`, 'aria-current': p.path === current ? 'page' : null }, p.title))));
  document.getElementById('who').textContent =
    `${state.session.user.name} (${state.session.user.role})`;
}

async function route() {
  if (!state.session) return;
  const token = ++state.renderToken;
  if (state.cleanup) { try { state.cleanup(); } catch (e) { console.error(e); } state.cleanup = null; }
  const allowed = pagesFor(state.session.user.role);
  let { page, rest, params } = parseHash();
  let spec = allowed.find((p) => p.path === page);
  if (!spec) {
    spec = allowed[0];
    history.replaceState(null, '', `#/${spec.path}`);
    ({ page, rest, params } = parseHash());
  }
  renderNav();
  refreshAlarmBanner();
  document.title = `${spec.title} — Custodian`;
  const module = await spec.load();
  if (token !== state.renderToken || !state.session) return;
  clear(main);
  state.cleanup = (await module.render(main, { session: state.session, rest, params, navigate })) || null;
  main.querySelector('h1')?.focus({ preventScroll: true });
}

function startSession(session) {
  state.session = session;
  state.lastName = session.user.name;
  setCsrfToken(session.csrf_token);
  document.getElementById('top').hidden = false;
  clear(document.getElementById('lock')).hidden = true;  // no sign-in form left behind
  main.hidden = false;
  main.inert = false;
  idle?.stop();
  idle = new IdleLock({
    timeoutSeconds: session.idle_timeout_seconds || 900,
    onLock: () => lock('You were away, so the screen was locked. Sign in again to carry on.'),
    keepAlive: () => { if (Date.now() - lastApiCallAt() > 25_000) get('/api/v1/auth/session').catch(() => {}); },
  });
  idle.start();
  startAlarmBanner(session.user.role);
  route();
}

// Ends the page's work (stops any video), signs the session out on the server so the
// locked screen cannot be reopened without the password, and shows the sign-in form.
async function lock(reason, { signOut = true } = {}) {
  idle?.stop();
  stopAlarmBanner();
  state.renderToken++;
  if (state.cleanup) { try { state.cleanup(); } catch (e) { console.error(e); } state.cleanup = null; }
  clear(main);
  main.hidden = true;
  const wasSignedIn = !!state.session;
  state.session = null;
  if (signOut && wasSignedIn) await post('/api/v1/auth/logout', {}, { quiet401: true }).catch(() => {});
  setCsrfToken('');
  document.getElementById('top').hidden = true;
  showSignIn(reason, true);
}

function showSignIn(reason, locked) {
  const panel = document.getElementById('lock');
  const msg = messageLine();
  const name = h('input', { name: 'name', autocomplete: 'username', required: true, value: state.lastName });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, locked && state.lastName ? 'Locked' : 'Sign in to Custodian'),
    reason ? h('p', { class: 'lock-reason' }, reason) : null,
    field('Name', name), field('Password', password),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.show('Signing in…');
    try {
      const session = await post('/api/v1/auth/login', { name: name.value.trim(), password: password.value }, { quiet401: true });
      password.value = '';
      if (session.user.must_change_password) return showPasswordChange(session);
      const full = await get('/api/v1/auth/session');
      startSession(full);
    } catch (e) {
      password.value = '';
      msg.error(e);
      password.focus();
    }
  });
  clear(panel, form);
  panel.hidden = false;
  (state.lastName ? password : name).focus();
}

function showPasswordChange(session) {
  setCsrfToken(session.csrf_token);
  const panel = document.getElementById('lock');
  const msg = messageLine();
  const current = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10 });
  const again = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10 });
  const form = h('form', { class: 'signin' },
    h('h1', {}, 'Choose your own password'),
    h('p', {}, 'Your account was made for you; choose a password of at least 10 characters before carrying on.'),
    field('Current password', current), field('New password', next), field('New password again', again),
    h('button', { type: 'submit', class: 'primary' }, 'Change password'), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (next.value !== again.value) return msg.show('The new passwords differ.', 'error');
    try {
      await post('/api/v1/auth/password', { current_password: current.value, new_password: next.value });
      startSession(await get('/api/v1/auth/session'));
    } catch (e) { msg.error(e); }
  });
  clear(panel, form);
  panel.hidden = false;
  current.focus();
}

async function boot() {
  setUnauthenticatedHandler(() => {
    if (state.session) lock('Your session ended. Sign in again to carry on.', { signOut: false });
  });
  document.getElementById('sign-out').addEventListener('click', async () => {
    await lock('You signed out.');
    state.lastName = '';
  });
  document.getElementById('lock-now').addEventListener('click', () => lock('The screen is locked.'));
  document.getElementById('idle-stay').addEventListener('click', () => idle?.activity());
  window.addEventListener('hashchange', () => route());
  try {
    startSession(await get('/api/v1/auth/session', { quiet401: true }));
  } catch {
    main.hidden = true;
    showSignIn('', false);
  }
}

boot();
