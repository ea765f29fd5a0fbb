// Camera setup (admin): find ONVIF cameras on the network and fill the form from one, add a
// camera, change one, test its connection. No footage here.
// Cameras added here are files in the site's cameras_dir; cameras written in the site file
// itself are shown read-only. The password field is write-only: the API never returns a
// password, so an empty field on an edit leaves the stored one as it is.
import { get, post, patch } from '../api.js';
import { h, clear, field, select, table, pageHeader, messageLine, button, formValues, badge } from '../ui.js';
import { timeEl } from '../time.js';

const TRANSPORTS = [['tcp', 'TCP (recommended)'], ['udp', 'UDP'], ['auto', 'Automatic']];

function testResult(r) {
  if (r.reachable) {
    const size = r.width ? ` ${r.width}×${r.height}` : '';
    return [badge('reachable', 'ok'), ` ${r.codec ?? 'no video'}${size}`];
  }
  const what = {
    unauthorized: 'the camera refused the user name or password (401)',
    forbidden: 'the camera refused access (403)',
    no_such_stream: 'the camera has no stream at that path (404)',
    unsupported: 'the stream has no format the recorder can store',
    protocol_error: 'the camera did not answer as an RTSP camera should',
  }[r.error] || 'no answer: check the address, the port and the network';
  return [badge('not reachable', 'bad'), ` ${what}`, r.message ? h('br') : null, r.message ? h('small', {}, r.message) : null];
}

// "Acme Dome 9, firmware 5.7.3" under a camera's name, when known.
function deviceLine(config) {
  if (!config || !(config.make || config.model)) return null;
  const text = [config.make, config.model].filter(Boolean).join(' ') + (config.firmware ? `, firmware ${config.firmware}` : '');
  return [h('br'), h('small', { class: 'device' }, text)];
}

// A camera id suggested from the name the person gives it: "back-porch" from "Back porch".
// Not from the camera's model: a site's cameras are often all one model, and the id names
// the footage folder for good. An id already in use gets "-2", "-3", ...
function suggestId(name, taken) {
  const base = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60).replace(/-+$/, '');
  if (!base) return '';
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return id;
}

// Finding ONVIF cameras: a WS-Discovery probe of the local network (or of one address, for
// a camera on another subnet), then, for the camera chosen, its stream addresses for the
// credentials given. onUse receives the values for the camera form.
function discoveryCard(onUse) {
  const msg = messageLine();
  const results = h('div', { class: 'results' });
  const address = h('input', { name: 'probe_address', maxlength: 300, autocomplete: 'off', placeholder: '192.168.1.64' });
  const user = h('input', { name: 'onvif_username', maxlength: 256, autocomplete: 'off' });
  const pass = h('input', { name: 'onvif_password', type: 'password', maxlength: 256, autocomplete: 'new-password' });
  const search = h('button', { type: 'submit' }, 'Search for cameras');
  const form = h('form', { class: 'card form-grid', 'aria-labelledby': 'camera-find-title' },
    h('h2', { id: 'camera-find-title' }, 'Find cameras on the network'),
    h('p', { class: 'hint' }, 'ONVIF cameras answer a search of the local network. Give the camera\'s user name and password to have its stream addresses filled in for you.'),
    field('Address to search', address, 'Optional: a camera\'s IP address (or address:port) when it is on another network; empty searches this one.'),
    field('ONVIF user name', user),
    field('ONVIF password', pass, 'Used to ask the camera for its streams, and stored with the camera when you add it; never shown again.'),
    h('div', { class: 'actions' }, search), msg, results);

  async function use(camera) {
    msg.show(`Asking the camera at ${camera.address} for its streams…`);
    try {
      // An https:// camera's certificate as the search saw it: the streams call must meet the
      // same one (pinned on first use), or it sends nothing.
      const body = { address: camera.address, username: user.value.trim(), password: pass.value };
      if (camera.certificate_sha256) body.certificate_sha256 = camera.certificate_sha256;
      const r = await post('/api/v1/camera-discovery/streams', body);
      if (!r.ok) {
        // A certificate other than the search's: another device, or one in the middle. Say
        // what to do rather than offer to trust it here.
        const next = /presented another certificate/.test(r.message || '')
          ? ' Search again to see the certificate it presents now, and use the camera only if that matches the fingerprint on the camera\'s own page.' : '';
        msg.show(`The camera at ${camera.address} did not give its streams: ${r.message}${next}`, 'error');
        return;
      }
      msg.show(`Found the streams of ${r.make} ${r.model}.`, 'ok');
      onUse({ address: camera.address, url: r.main_url,
        sub_url: r.sub_url || '', make: r.make, model: r.model, firmware: r.firmware, username: user.value.trim(), password: pass.value });
    } catch (e) { msg.error(e); }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.show('Searching…');
    clear(results);
    try {
      const body = { username: user.value.trim() || undefined, password: pass.value || undefined };
      if (address.value.trim()) body.address = address.value.trim();
      const r = await post('/api/v1/camera-discovery', body);
      const by = r.interfaces?.length ? ` (searched by ${r.interfaces.join(', ')})` : '';
      msg.show(`${r.cameras.length} camera(s) found on ${r.probed}${by}.`, r.cameras.length ? 'ok' : 'info');
      clear(results, table([
        { title: 'Address', cell: (c) => [c.from || '', h('br'), h('small', {}, c.address),
          c.certificate_sha256 ? [h('br'), h('small', {}, 'TLS certificate SHA-256 '), h('code', { class: 'hash' }, c.certificate_sha256)] : null] },
        { title: 'Make', cell: (c) => c.make || '—' },
        { title: 'Model', cell: (c) => c.model || '—' },
        { title: 'Firmware', cell: (c) => c.firmware ?? h('small', {}, c.note || 'unknown') },
        { title: '', cell: (c) => button('Use this camera', () => use(c), { 'aria-label': `Use camera ${[c.make, c.model].filter(Boolean).join(' ') || c.address}` }) },
      ], r.cameras, { caption: 'Cameras found', empty: 'No ONVIF camera answered. Check that the camera is on this network and has ONVIF turned on, or give its address.' }));
    } catch (e) { msg.error(e); }
  });
  return form;
}

export async function render(main) {
  const msg = messageLine();
  const notice = h('div');
  const out = h('div');
  const formTitle = h('h2', { id: 'camera-form-title' }, 'Add a camera');
  const idInput = h('input', { name: 'id', required: true, autocomplete: 'off', maxlength: 64, pattern: '[a-z0-9\\-]{1,64}' });
  const nameInput = h('input', { name: 'name', maxlength: 200, autocomplete: 'off', placeholder: 'Where it looks: Porch, Back door' });
  // The id follows the name until the person types an id of their own (or empties it).
  let idTyped = false;
  let taken = new Set();
  nameInput.addEventListener('input', () => { if (!editing && !idTyped) idInput.value = suggestId(nameInput.value, taken); });
  idInput.addEventListener('input', () => { idTyped = idInput.value !== ''; });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', maxlength: 256 });
  const removePassword = h('input', { type: 'checkbox', name: 'remove_password' });
  const removeBox = h('label', { hidden: true }, removePassword, ' Remove the stored password');
  const allowBasic = h('input', { type: 'checkbox', name: 'allow_basic_auth' });
  const basicBox = h('div', { class: 'field' }, h('label', {}, allowBasic, ' Allow Basic authentication'),
    h('p', { class: 'hint' }, 'Only for a camera that cannot do Digest, on a camera network you trust: over plain rtsp:// Basic sends the password in the clear, and over UDP Custodian cannot refuse it.'));
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Add camera');
  const cancel = button('Cancel', () => reset(), { hidden: true });
  const form = h('form', { class: 'card form-grid', 'aria-labelledby': 'camera-form-title' },
    formTitle,
    field('Name', nameInput, 'Shown on every page; it can be changed later.'),
    field('Camera id', idInput, 'Suggested from the name; lower-case letters, digits and -. It names the camera\'s footage and its records, so it cannot be changed once the camera is added: check it before adding.'),
    field('Stream address', h('input', { name: 'url', required: true, maxlength: 1000, autocomplete: 'off', placeholder: 'rtsp://192.168.1.64:554/stream1' }), 'rtsp:// or rtsps://, without a user name or password in it.'),
    field('Sub stream for live view', h('input', { name: 'sub_url', maxlength: 1000, autocomplete: 'off', placeholder: 'rtsp://192.168.1.64:554/stream2' }),
      'Optional: the camera\'s smaller stream, shown in live grids; the stream above is the one recorded.'),
    field('Make', h('input', { name: 'make', maxlength: 64, autocomplete: 'off' })),
    field('Model', h('input', { name: 'model', maxlength: 64, autocomplete: 'off' })),
    field('Firmware', h('input', { name: 'firmware', maxlength: 64, autocomplete: 'off' })),
    field('Transport', select('transport', TRANSPORTS, 'tcp')),
    field('Camera user name', h('input', { name: 'username', maxlength: 256, autocomplete: 'off' })),
    field('Camera password', password, 'Stored in a file only the appliance can read; never shown again.'),
    removeBox,
    basicBox,
    field('Keep footage for (days)', h('input', { name: 'max_age_days', type: 'number', min: 1, max: 100000 }),
      'Empty: the site default. A shorter period takes effect only after the site\'s delay (retention.shorten_delay_hours).'),
    h('div', { class: 'actions' }, submit, cancel));
  let editing = null;

  function reset() {
    editing = null;
    idTyped = false;
    form.reset();
    idInput.disabled = false;
    password.placeholder = '';
    removeBox.hidden = true;
    cancel.hidden = true;
    formTitle.textContent = 'Add a camera';
    submit.textContent = 'Add camera';
  }

  function edit(c) {
    editing = c;
    form.reset();
    idInput.value = c.id;
    idInput.disabled = true;
    form.elements.name.value = c.name || '';
    form.elements.url.value = c.config.url;
    form.elements.sub_url.value = c.config.sub_url || '';
    for (const k of ['make', 'model', 'firmware']) form.elements[k].value = c.config[k] || '';
    form.elements.transport.value = c.config.transport;
    form.elements.username.value = c.config.username || '';
    password.placeholder = c.config.has_password ? 'unchanged' : '';
    allowBasic.checked = !!c.config.allow_basic_auth;
    removeBox.hidden = !c.config.has_password;
    form.elements.max_age_days.value = c.retention?.camera_override ?? '';
    cancel.hidden = false;
    formTitle.textContent = `Change camera ${c.id}`;
    submit.textContent = 'Save changes';
    form.scrollIntoView({ block: 'start' });
    form.elements.name.focus();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    const body = { name: v.name || undefined, url: v.url, sub_url: v.sub_url || '', make: v.make, model: v.model, firmware: v.firmware,
      transport: v.transport, username: v.username,
      retention: { max_age_days: v.max_age_days ? Number(v.max_age_days) : null }, allow_basic_auth: allowBasic.checked };
    if (password.value) body.password = password.value;
    else if (editing && removePassword.checked) body.password = '';
    try {
      if (editing) {
        const r = await patch(`/api/v1/cameras/${editing.id}`, body);
        if (r?.password_dropped) {
          msg.show(`Camera ${editing.id} saved. Its address changed, so the stored password was removed (a password belongs to the address it was given for): enter the camera's password again.`, 'error');
        } else {
          msg.show(`Camera ${editing.id} saved; the recorder picks the change up within seconds.`, 'ok');
        }
      } else {
        const r = await post('/api/v1/cameras', { id: idInput.value.trim(), ...body });
        // Cameras are granted per account: until then no one (not even the DPO) can see its footage.
        msg.show(`Camera ${r.id} added; the recorder starts it within seconds. No account can see its footage yet: give it to the accounts that need it under Users (Cameras, Edit).`, 'ok');
      }
      reset();
      load();
    } catch (e) { msg.error(e); }
    password.value = '';
  });
  const finder = discoveryCard((found) => {
    reset();
    for (const k of ['url', 'sub_url', 'make', 'model', 'firmware', 'username']) form.elements[k].value = found[k] || '';
    password.value = found.password || '';
    msg.show(`The form is filled in from the camera at ${found.address}: give the camera a name (where it looks), check the id suggested from it, then add the camera.`, 'ok');
    form.scrollIntoView({ block: 'start' });
    nameInput.focus();
  });
  main.append(pageHeader('Camera setup'), notice, msg, out, finder, form);

  async function test(c, cell) {
    clear(cell, 'Connecting…');
    try { clear(cell, testResult(await post(`/api/v1/cameras/${c.id}/test`))); } catch (e) { clear(cell, badge('error', 'bad'), ' ', e.message); }
  }

  // An rtsps:// camera's pinned certificate (SHA-256, subject and expiry as the certificate
  // states them: the pin is the trust, no authority is asked) and, after a change, the new
  // one with a button to trust it: the recorder records the camera again once accepted.
  function certificateCell(c) {
    const cert = c.certificate;
    if (!cert) return '—';
    const expiry = { expired: ['expired', 'bad'], expires_soon: ['expires within 30 days', 'warn'] }[cert.expiry];
    const pinned = [h('code', { class: 'hash' }, cert.sha256), h('br'),
      cert.subject ? [h('small', {}, `subject ${cert.subject}`), h('br')] : null,
      cert.expires ? [h('small', {}, 'expires ', timeEl(cert.expires)), expiry ? [' ', badge(expiry[0], expiry[1])] : null, h('br')] : null,
      h('small', {}, `pinned ${cert.pinned_by === 'first use' ? 'on first use' : `by ${cert.pinned_by}`}`)];
    if (!cert.presented_sha256) return pinned;
    const accept = button('Accept new certificate', async () => {
      if (!window.confirm(`Trust camera ${c.id}'s new certificate ${cert.presented_sha256}? Compare it with the fingerprint on the camera's own page first.`)) return;
      try {
        await post(`/api/v1/cameras/${c.id}/certificate/accept`, { sha256: cert.presented_sha256 });
        msg.show(`Camera ${c.id}'s new certificate is trusted; recording resumes within seconds.`, 'ok');
        load();
      } catch (e) { msg.error(e); }
    }, { 'aria-label': `Accept the new certificate of ${c.id}` });
    const presented = [cert.presented_subject ? ` (${cert.presented_subject}` : ' (', cert.presented_expires ? [cert.presented_subject ? ', expires ' : 'expires ', timeEl(cert.presented_expires)] : null, ')'];
    return [badge('certificate changed: not recording', 'bad'), h('br'), h('small', {}, 'now presents '), h('code', { class: 'hash' }, cert.presented_sha256),
      cert.presented_subject || cert.presented_expires ? h('small', {}, ...presented) : null, h('br'), accept, h('br'), ...pinned];
  }

  async function load() {
    try {
      const { cameras, administration } = await get('/api/v1/cameras');
      taken = new Set(cameras.map((c) => c.id));
      const writable = administration?.cameras_dir_configured;
      clear(notice, writable ? null : h('p', { class: 'hint' },
        'Cameras can be added here once the site file names a cameras_dir (see the configuration reference); until then, change cameras in the site file and reload the recorder.'));
      form.hidden = !writable;
      finder.hidden = !writable;
      clear(out, table([
        { title: 'Camera', cell: (c) => [h('strong', {}, c.name || c.id), h('br'), h('small', {}, c.id), deviceLine(c.config)] },
        { title: 'Stream', cell: (c) => c.config ? [c.config.url, ...(c.config.sub_url ? [h('br'), h('small', {}, `sub stream ${c.config.sub_url}`)] : []), h('br'), h('small', {}, `${c.config.transport}${c.config.username ? `, user ${c.config.username}` : ''}${c.config.has_password ? ', password set' : ''}${c.config.allow_basic_auth ? ', Basic allowed' : ''}`),
          c.config.password_withheld ? [h('br'), badge('password not used', 'warn'), ' ', h('small', {}, c.config.password_withheld)] : null] : '—' },
        { title: 'TLS certificate', cell: (c) => certificateCell(c) },
        { title: 'Keep for', cell: (c) => c.retention ? `${c.retention.max_age_days} days` : '—' },
        { title: 'Recording', cell: (c) => c.status?.online ? badge('online', 'ok') : badge('offline', 'warn') },
        { title: 'Defined in', cell: (c) => !c.config ? 'not in the configuration' : c.config.editable ? 'camera setup' : `${c.config.defined_at} (read-only here)` },
        { title: 'Connection', cell: (c) => {
          if (!c.config) return '';
          const result = h('div', { class: 'test-result', 'aria-live': 'polite' });
          return [button('Test connection', () => test(c, result), { 'aria-label': `Test connection to ${c.id}` }), result];
        } },
        { title: '', cell: (c) => c.config?.editable ? button('Change', () => edit(c), { 'aria-label': `Change camera ${c.id}` }) : '' },
      ], cameras, { caption: 'Cameras', empty: 'No cameras yet.' }));
    } catch (e) { msg.error(e); }
  }
  await load();
}
