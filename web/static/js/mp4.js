// Reads the codec of a recorded fragmented MP4's init segment (ftyp+moov), as the RFC 6381
// string that MediaSource.addSourceBuffer needs: avc1.PPCCLL, hvc1.P.C.TL.CC, mp4a.40.x.
// Only box headers and the few sample-entry fields below are read.

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl']);

function fourcc(view, at) {
  return String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
}

function* boxes(view, start, end) {
  let at = start;
  while (at + 8 <= end) {
    let size = view.getUint32(at);
    const type = fourcc(view, at + 4);
    let header = 8;
    if (size === 1) { size = Number(view.getBigUint64(at + 8)); header = 16; }
    if (size === 0) size = end - at;
    if (size < header || at + size > end) return;
    yield { type, start: at, body: at + header, end: at + size };
    at += size;
  }
}

const hex2 = (n) => n.toString(16).padStart(2, '0').toUpperCase();

function avcCodec(entry, view, box) {
  return `${entry}.${hex2(view.getUint8(box.body + 1))}${hex2(view.getUint8(box.body + 2))}${hex2(view.getUint8(box.body + 3))}`;
}

function hevcCodec(entry, view, box) {
  const b = box.body;
  const first = view.getUint8(b + 1);
  const space = ['', 'A', 'B', 'C'][first >> 6];
  const tier = (first >> 5) & 1 ? 'H' : 'L';
  const profile = first & 0x1f;
  let compat = view.getUint32(b + 2);
  let reversed = 0;
  for (let i = 0; i < 32; i++) { reversed = (reversed << 1) | (compat & 1); compat >>>= 1; }
  const constraints = [];
  for (let i = 0; i < 6; i++) constraints.push(view.getUint8(b + 6 + i));
  while (constraints.length && constraints[constraints.length - 1] === 0) constraints.pop();
  const level = view.getUint8(b + 12);
  let s = `${entry}.${space}${profile}.${(reversed >>> 0).toString(16).toUpperCase()}.${tier}${level}`;
  for (const c of constraints) s += '.' + c.toString(16).toUpperCase();
  return s;
}

function sampleEntryCodec(view, entry) {
  const type = entry.type;
  if (['avc1', 'avc3', 'hvc1', 'hev1'].includes(type)) {
    for (const child of boxes(view, entry.body + 78, entry.end)) {
      if (child.type === 'avcC') return avcCodec(type, view, child);
      if (child.type === 'hvcC') return hevcCodec(type, view, child);
    }
    return null;
  }
  if (type === 'mp4a') return 'mp4a.40.2';
  if (type === 'Opus') return 'opus';
  return type;
}

// The codecs of every track, e.g. ["avc1.64001F", "mp4a.40.2"].
export function codecsOf(buffer) {
  const view = new DataView(buffer);
  const found = [];
  const walk = (start, end) => {
    for (const box of boxes(view, start, end)) {
      if (CONTAINERS.has(box.type)) walk(box.body, box.end);
      else if (box.type === 'stsd') {
        for (const entry of boxes(view, box.body + 8, box.end)) {
          const c = sampleEntryCodec(view, entry);
          if (c) found.push(c);
        }
      }
    }
  };
  walk(0, view.byteLength);
  return found;
}
