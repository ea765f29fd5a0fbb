// Small DOM helpers: build elements without innerHTML (no markup from data ever reaches
// the parser), tables, form fields with labels, status messages.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
export const nextId = (prefix) => `${prefix}-${++uid}`;

// A labelled field: label, control, optional hint, wrapped in a div.
export function field(labelText, control, hint) {
  if (!control.id) control.id = nextId('f');
  const hintEl = hint ? h('p', { class: 'hint', id: nextId('h') }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, labelText), control, hintEl);
}

export function select(name, options, value) {
  return h('select', { name },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
}

// With `stack`, a phone-width screen shows each row as a card of "title: value" lines
// (app.css) instead of a table wider than the screen; each cell carries its column's title.
export function table(columns, rows, { empty = 'Nothing to show.', caption, stack = false } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('div', { class: stack ? 'table-wrap stack' : 'table-wrap' },
    h('table', {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.title)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) => (stack
        // One box for the value, so that its parts (text, times, badges) stay one grid cell.
        ? h('td', { dataset: { label: c.title } }, h('div', { class: 'cell-value' }, c.cell(r)))
        : h('td', {}, c.cell(r)))))))));
}

// A live status line for a page: errors are announced to screen readers.
// `pending(key, text)` shows a message about work that goes on (an export building) and
// `settle(key, text, kind)` replaces it with the outcome, unless something else has been
// said since; so "Export 1 started." does not stay up after the export is ready.
export function messageLine() {
  const el = h('p', { class: 'message', role: 'status', 'aria-live': 'polite' });
  const say = (text, kind) => { el.textContent = text || ''; el.dataset.kind = kind; };
  el.show = (text, kind = 'info') => { delete el.dataset.pending; say(text, kind); };
  el.error = (e) => el.show(e?.message || String(e), 'error');
  el.pending = (key, text) => { say(text, 'info'); el.dataset.pending = key; };
  el.settle = (key, text, kind = 'ok') => { if (el.dataset.pending === key) el.show(text, kind); };
  return el;
}

export function pageHeader(title, ...extra) {
  return h('header', { class: 'page-header' }, h('h1', { tabindex: '-1' }, title), ...extra);
}

// Collects a form's named controls into an object (trimmed strings).
export function formValues(form) {
  const out = {};
  for (const [k, v] of new FormData(form).entries()) out[k] = typeof v === 'string' ? v.trim() : v;
  return out;
}

export function button(text, onclick, attrs = {}) {
  return h('button', { type: 'button', onclick, ...attrs }, text);
}

export function badge(text, kind) { return h('span', { class: `badge badge-${kind}` }, text); }

export function progressBar(label) {
  const bar = h('progress', { max: 100, value: 0, 'aria-label': label });
  const text = h('span', { class: 'progress-text' }, '0%');
  const wrap = h('div', { class: 'progress' }, bar, text);
  wrap.set = (pct, note) => {
    bar.value = pct;
    text.textContent = `${Math.round(pct)}%${note ? ' — ' + note : ''}`;
  };
  return wrap;
}
