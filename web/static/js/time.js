// Times: the API speaks UTC (RFC 3339 with Z); people read UK local time, GMT or BST.
// Every displayed time carries its UTC form in a title (hover) attribute.

const ZONE = 'Europe/London';
const fmt = new Intl.DateTimeFormat('en-GB', {
  timeZone: ZONE, year: 'numeric', month: 'short', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZoneName: 'short',
});
const fmtTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: ZONE, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  timeZoneName: 'short',
});
const parts = new Intl.DateTimeFormat('en-GB', {
  timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
});

export function toDate(t) { return t instanceof Date ? t : new Date(t); }
export function utcIso(t) { return toDate(t).toISOString().replace(/\.000Z$/, 'Z'); }
// "25 Nov 2026, 14:03:07 GMT"
export function ukDateTime(t) { return fmt.format(toDate(t)); }
export function ukTime(t) { return fmtTime.format(toDate(t)); }

const fmtDate = new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, year: 'numeric', month: 'short', day: '2-digit' });

// A <time> element showing UK time with UTC on hover. With `endOfDay`, an instant at UK
// midnight (a deadline: the end of a day) reads "end of 07 Jan 2027", the day it closes,
// not "08 Jan 2027, 00:00:00 GMT", which reads as a day later.
export function timeEl(t, { short = false, endOfDay = false } = {}) {
  const el = document.createElement('time');
  if (t === null || t === undefined || t === '') { el.textContent = '—'; return el; }
  const d = toDate(t);
  el.dateTime = d.toISOString();
  const f = ukFields(d);
  if (endOfDay && f.hour === 0 && f.minute === 0 && f.second === 0) el.textContent = `end of ${fmtDate.format(new Date(d.getTime() - 1))}`;
  else el.textContent = short ? ukTime(d) : ukDateTime(d);
  el.title = 'UTC ' + d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return el;
}

// UK wall-clock fields of an instant: {year, month, day, hour, minute, second}.
function ukFields(d) {
  const out = {};
  for (const p of parts.formatToParts(d)) if (p.type !== 'literal') out[p.type] = Number(p.value);
  if (out.hour === 24) out.hour = 0;
  return out;
}

// The instant of a UK local date ("2026-11-25") and time ("14:03" or "14:03:07"). In the
// autumn hour that happens twice, the first (BST) is chosen; a spring time that does not
// exist moves forward an hour, as clocks do.
export function fromUkLocal(date, time) {
  const [y, mo, d] = date.split('-').map(Number);
  const [h, mi, s = 0] = time.split(':').map(Number);
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  let guess = asUtc;
  for (let i = 0; i < 3; i++) {
    const f = ukFields(new Date(guess));
    const shown = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
    guess += asUtc - shown;
  }
  const bst = asUtc - 3600_000;
  const f = ukFields(new Date(bst));
  if (Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) === asUtc) return new Date(bst);
  return new Date(guess);
}

// The UK local date and time strings for date/time inputs.
export function toUkInputs(t) {
  const f = ukFields(toDate(t));
  const p = (n) => String(n).padStart(2, '0');
  return { date: `${f.year}-${p(f.month)}-${p(f.day)}`, time: `${p(f.hour)}:${p(f.minute)}` };
}

export function duration(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  return h ? `${h} h ${m} min` : m ? `${m} min ${s} s` : `${s} s`;
}
