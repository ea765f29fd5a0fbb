// A small HLS-over-fMP4 player on Media Source Extensions, for the playlists the API makes
// (docs/design/api.md): every recorded file is one HLS segment with its own EXT-X-MAP
// (ftyp+moov byte range) and one byte range of fragments, preceded by a discontinuity and
// its wall-clock start. Chromium plays no HLS by itself, so this fetches the byte ranges and
// appends them to one SourceBuffer in "sequence" mode, each file placed end to end on the
// media timeline. Gaps in the recording take no media time; the player maps media time to
// wall-clock time and back through the segment table.
//
// Only the segment at the play position and the next one are fetched; what lies more than
// a minute behind is removed, so memory stays at two or three segment files.
import { codecsOf } from './mp4.js';

const LOOKAHEAD_S = 20;   // fetch the next segment when this close to its start
const KEEP_BEHIND_S = 60; // drop buffered media further back than this

function parseRange(s) {
  const [length, offset] = s.split('@').map(Number);
  return { offset: offset || 0, length };
}

// Parses the API's playlist into [{url, map: {url, offset, length}, range, start (ms), duration (s)}].
export function parsePlaylist(text) {
  const lines = text.split(/\r?\n/);
  if (lines[0] !== '#EXTM3U') throw new Error('not an HLS playlist');
  const segments = [];
  let map = null, start = null, duration = 0, range = null;
  for (const line of lines.slice(1)) {
    if (line.startsWith('#EXT-X-MAP:')) {
      const uri = /URI="([^"]*)"/.exec(line)?.[1];
      const br = /BYTERANGE="([^"]*)"/.exec(line)?.[1];
      map = { url: uri, ...(br ? parseRange(br) : { offset: 0, length: 0 }) };
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      start = Date.parse(line.slice(25));
    } else if (line.startsWith('#EXTINF:')) {
      duration = parseFloat(line.slice(8));
    } else if (line.startsWith('#EXT-X-BYTERANGE:')) {
      range = parseRange(line.slice(17));
    } else if (line && !line.startsWith('#')) {
      segments.push({ url: line, map, range, start, duration });
      range = null;
    }
  }
  let media = 0;
  for (const s of segments) { s.mediaStart = media; media += s.duration; }
  return segments;
}

async function fetchRange(url, { offset, length }, signal) {
  const headers = length ? { Range: `bytes=${offset}-${offset + length - 1}` } : {};
  const r = await fetch(url, { headers, credentials: 'same-origin', cache: 'no-store', signal });
  if (!r.ok) {
    const data = await r.json().catch(() => null);
    const e = new Error(data?.error?.message || `segment fetch failed (${r.status})`);
    e.status = r.status;
    throw e;
  }
  return r.arrayBuffer();
}

// The MIME type of the server's H.264 copy, from its init section.
function h264Mime(data) {
  const codecs = codecsOf(data).join(',');
  const mime = `video/mp4; codecs="${codecs}"`;
  if (!MediaSource.isTypeSupported(mime)) throw new Error(`This browser cannot play the server's H.264 copy either (${codecs}).`);
  return mime;
}

// A piece of the server's H.264 copy of a segment file (api/transcoded_footage.h).
async function fetchTranscoded(url, { offset, fromFragment = 0 }, signal) {
  const sep = url.includes('?') ? '&' : '?';
  const r = await fetch(`${url}${sep}transcode=h264&offset=${offset}&from_fragment=${fromFragment}`,
    { credentials: 'same-origin', cache: 'no-store', signal });
  if (!r.ok) {
    const data = await r.json().catch(() => null);
    const e = new Error(data?.error?.message || `the H.264 copy failed (${r.status})`);
    e.status = r.status;
    throw e;
  }
  return {
    data: await r.arrayBuffer(),
    complete: r.headers.get('X-Transcode-Complete') === 'yes',
    wallFrom: Date.parse(r.headers.get('X-Transcode-Wall-From') || ''),
  };
}

export class FootagePlayer {
  constructor(video, { onError = () => {}, onBuffering = () => {} } = {}) {
    this.video = video;
    this.onError = onError;
    this.onBuffering = onBuffering;
    this.segments = [];
    this.loaded = new Set();
    this.initCache = new Map();
    this.abort = new AbortController();
    this.busy = false;
    this.closed = false;
    this.mimeCodecs = null;
    this.onTick = () => this.pump();
    this.onWaiting = () => this.skipSmallGap();
  }

  // Loads a playlist text (already fetched with the purpose). Resolves when the first
  // segment is buffered.
  async open(playlistText) {
    this.segments = parsePlaylist(playlistText);
    if (!this.segments.length) throw new Error('the playlist is empty');
    this.mediaSource = new MediaSource();
    this.objectUrl = URL.createObjectURL(this.mediaSource);
    this.video.src = this.objectUrl;
    await new Promise((resolve) => this.mediaSource.addEventListener('sourceopen', resolve, { once: true }));
    const last = this.segments[this.segments.length - 1];
    this.mediaSource.duration = last.mediaStart + last.duration;
    this.video.addEventListener('timeupdate', this.onTick);
    this.video.addEventListener('seeking', this.onTick);
    this.video.addEventListener('waiting', this.onWaiting);
    this.gapTimer = setInterval(() => this.skipSmallGap(), 500);
    // Open once the first segment is buffered, or, for a server-side copy that comes in
    // pieces, once its first piece is: a failure before that is the open's failure, one
    // after it is reported like any later one.
    let opened = false;
    const firstPiece = new Promise((resolve) => { this.onFirstPiece = resolve; });
    firstPiece.then(() => { opened = true; });
    const pumping = this.pump({ rethrow: true });
    pumping.catch((e) => { if (opened && !this.closed && e.name !== 'AbortError') this.onError(e); });
    await Promise.race([pumping, firstPiece]);
  }

  close() {
    this.closed = true;
    this.abort.abort();
    clearInterval(this.gapTimer);
    this.video.removeEventListener('timeupdate', this.onTick);
    this.video.removeEventListener('seeking', this.onTick);
    this.video.removeEventListener('waiting', this.onWaiting);
    this.video.pause();
    this.video.removeAttribute('src');
    this.video.load();
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
  }

  get duration() {
    const last = this.segments[this.segments.length - 1];
    return last ? last.mediaStart + last.duration : 0;
  }

  indexAtMedia(t) {
    const segs = this.segments;
    for (let i = segs.length - 1; i >= 0; i--) if (t >= segs[i].mediaStart - 1e-3) return i;
    return 0;
  }

  // Wall-clock time (ms since epoch) of a media time.
  wallAt(t = this.video.currentTime) {
    const s = this.segments[this.indexAtMedia(t)];
    return s ? s.start + (t - s.mediaStart) * 1000 : NaN;
  }

  // The media time of a wall-clock time; in a gap, the start of the next segment.
  mediaAt(wallMs) {
    for (const s of this.segments) {
      if (wallMs < s.start) return s.mediaStart;
      if (wallMs < s.start + s.duration * 1000) return s.mediaStart + (wallMs - s.start) / 1000;
    }
    return Math.max(0, this.duration - 0.1);
  }

  seekWall(wallMs) { this.video.currentTime = this.mediaAt(wallMs); }

  // Buffers the segment at the play position and, near its end, the next one.
  async pump({ rethrow = false } = {}) {
    if (this.busy || this.closed) return;
    this.busy = true;
    try {
      for (;;) {
        const t = this.video.currentTime;
        const i = this.indexAtMedia(t);
        let want = null;
        if (!this.loaded.has(i)) want = i;
        else if (i + 1 < this.segments.length && !this.loaded.has(i + 1) &&
                 this.segments[i + 1].mediaStart - t < LOOKAHEAD_S) want = i + 1;
        if (want === null || this.closed) break;
        this.onBuffering(true);
        await this.append(want);
      }
      await this.evict();
      if (!this.closed && this.loaded.has(this.segments.length - 1) &&
          this.mediaSource.readyState === 'open' && !this.sourceBuffer.updating) {
        this.mediaSource.endOfStream();
      }
    } catch (e) {
      if (rethrow) throw e;
      if (!this.closed && e.name !== 'AbortError') this.onError(e);
    } finally {
      this.busy = false;
      this.onBuffering(false);
    }
  }

  async initFor(seg) {
    const key = `${seg.map.url}#${seg.map.offset}`;
    if (!this.initCache.has(key)) this.initCache.set(key, await fetchRange(seg.map.url, seg.map, this.abort.signal));
    return this.initCache.get(key);
  }

  async append(index) {
    const seg = this.segments[index];
    const init = await this.initFor(seg);
    const codecs = codecsOf(init).join(',');
    const mime = `video/mp4; codecs="${codecs}"`;
    if (!MediaSource.isTypeSupported(mime)) {
      this.transcoded = codecs;
      await this.appendTranscoded(seg);
      this.loaded.add(index);
      return;
    }
    if (!this.sourceBuffer) {
      this.sourceBuffer = this.mediaSource.addSourceBuffer(mime);
      this.sourceBuffer.mode = 'sequence';
    } else if (mime !== this.mimeCodecs && this.sourceBuffer.changeType) {
      this.sourceBuffer.changeType(mime);
    }
    this.mimeCodecs = mime;
    const media = await fetchRange(seg.url, seg.range, this.abort.signal);
    if (this.closed) return;
    await this.bufferOp((sb) => sb.appendBuffer(init));
    this.sourceBuffer.timestampOffset = seg.mediaStart;
    await this.bufferOp((sb) => sb.appendBuffer(media));
    this.loaded.add(index);
  }

  // The server's H.264 copy of a segment, taken in the pieces the server has made so far
  // until it says the copy is complete.
  async appendTranscoded(seg) {
    let offset = 0, first = true;
    for (;;) {
      const { data, complete } = await fetchTranscoded(seg.url, { offset }, this.abort.signal);
      if (this.closed) return;
      if (data.byteLength) {
        if (first) {
          await this.useMime(h264Mime(data));
          this.sourceBuffer.timestampOffset = seg.mediaStart;
          first = false;
        }
        await this.bufferOp((sb) => sb.appendBuffer(data));
        offset += data.byteLength;
        if (this.onFirstPiece) { this.onFirstPiece(); this.onFirstPiece = null; }
      }
      if (complete) return;
    }
  }

  async useMime(mime) {
    if (!this.sourceBuffer) {
      this.sourceBuffer = this.mediaSource.addSourceBuffer(mime);
      this.sourceBuffer.mode = 'sequence';
    } else if (mime !== this.mimeCodecs && this.sourceBuffer.changeType) {
      this.sourceBuffer.changeType(mime);
    }
    this.mimeCodecs = mime;
  }

  bufferOp(fn) {
    const sb = this.sourceBuffer;
    return new Promise((resolve, reject) => {
      const done = () => { sb.removeEventListener('error', fail); resolve(); };
      const fail = () => { sb.removeEventListener('updateend', done); reject(new Error('the browser could not decode this footage')); };
      sb.addEventListener('updateend', done, { once: true });
      sb.addEventListener('error', fail, { once: true });
      fn(sb);
    });
  }

  async evict() {
    const t = this.video.currentTime;
    for (const i of [...this.loaded]) {
      const s = this.segments[i];
      if (s.mediaStart + s.duration < t - KEEP_BEHIND_S || s.mediaStart > t + LOOKAHEAD_S + 120) {
        this.loaded.delete(i);
        await this.bufferOp((sb) => sb.remove(s.mediaStart, s.mediaStart + s.duration));
      }
    }
  }

  // Segments are laid end to end by their playlist durations, which may differ from the
  // media by a frame; hop over such a hole instead of stalling.
  skipSmallGap() {
    const v = this.video;
    if (v.paused || v.seeking) return;
    const b = v.buffered;
    for (let i = 0; i < b.length; i++) {
      if (v.currentTime >= b.start(i) && v.currentTime < b.end(i) - 0.1) return;
    }
    for (let i = 0; i < b.length; i++) {
      if (b.start(i) > v.currentTime && b.start(i) - v.currentTime < 1.0) {
        v.currentTime = b.start(i) + 0.01;
        return;
      }
    }
  }
}

// Parses the API's live playlist: [{seq, map, url, range, start (ms), duration (s)}].
export function parseLivePlaylist(text) {
  const lines = text.split(/\r?\n/);
  if (lines[0] !== '#EXTM3U') throw new Error('not an HLS playlist');
  let seq = 0, map = null, start = null, duration = 0, range = null;
  const entries = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) seq = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-MAP:')) {
      const br = /BYTERANGE="([^"]*)"/.exec(line)?.[1];
      map = { url: /URI="([^"]*)"/.exec(line)?.[1], ...(br ? parseRange(br) : { offset: 0, length: 0 }) };
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) start = Date.parse(line.slice(25));
    else if (line.startsWith('#EXTINF:')) duration = parseFloat(line.slice(8));
    else if (line.startsWith('#EXT-X-BYTERANGE:')) range = parseRange(line.slice(17));
    else if (line && !line.startsWith('#')) {
      entries.push({ seq: seq++, map, url: line, range, start, duration });
      range = null;
    }
  }
  return entries;
}

// Live view: reloads the live playlist about every second and appends each fragment it
// has not appended yet, in "sequence" mode so that fragments of consecutive files follow
// one another. Stays within a few seconds of the newest fragment.
export class LivePlayer {
  constructor(video, playlistUrl, { onError = () => {} } = {}) {
    this.video = video;
    this.playlistUrl = playlistUrl;
    this.onError = onError;
    this.lastSeq = null;
    this.mapKey = null;
    this.mime = null;
    this.marks = [];  // {media, wall}: where each appended fragment begins
    this.abort = new AbortController();
    this.closed = false;
  }

  async open() {
    this.mediaSource = new MediaSource();
    this.objectUrl = URL.createObjectURL(this.mediaSource);
    this.video.src = this.objectUrl;
    await new Promise((resolve) => this.mediaSource.addEventListener('sourceopen', resolve, { once: true }));
    await this.tick();
    this.loop();
  }

  loop() {
    if (this.closed) return;
    this.timer = setTimeout(async () => {
      try { await this.tick(); } catch (e) { if (!this.closed && e.name !== 'AbortError') this.onError(e); }
      this.loop();
    }, 1000);
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.abort.abort();
    this.video.pause();
    this.video.removeAttribute('src');
    this.video.load();
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
  }

  wallAt(t = this.video.currentTime) {
    let best = null;
    for (const m of this.marks) if (m.media <= t + 1e-3) best = m;
    return best ? best.wall + (t - best.media) * 1000 : NaN;
  }

  bufferedEnd() {
    const b = this.video.buffered;
    return b.length ? b.end(b.length - 1) : 0;
  }

  async tick() {
    const r = await fetch(this.playlistUrl, { credentials: 'same-origin', cache: 'no-store', signal: this.abort.signal });
    if (!r.ok) throw new Error((await r.json().catch(() => null))?.error?.message || `live playlist failed (${r.status})`);
    this.stream = r.headers.get('X-Live-Stream');  // 'main' or 'sub': which the server chose
    const entries = parseLivePlaylist(await r.text());
    if (this.transcoded === undefined && entries.length) this.transcoded = (await this.playable(entries[0])) ? null : this.codecs;
    if (this.transcoded) await this.tickTranscoded(entries);
    else await this.tickDirect(entries);
    const v = this.video, end = this.bufferedEnd();
    // A picture the person paused stays paused: only a playing one is kept near the newest.
    if (!this.userPaused && v.buffered.length && (v.currentTime < v.buffered.start(0) || end - v.currentTime > 4)) v.currentTime = Math.max(0, end - 1);
    if (v.paused && !this.userPaused && v.buffered.length) v.play().catch(() => {});
    if (v.currentTime > 60 && this.sourceBuffer && !this.sourceBuffer.updating) {
      await this.bufferOp((sb) => sb.remove(0, v.currentTime - 30));
      this.marks = this.marks.filter((m, i, all) => i === all.length - 1 || all[i + 1].media > v.currentTime - 30);
    }
  }

  // Whether the browser decodes the camera's codec (the init section of the entry's file).
  async playable(e) {
    const init = await fetchRange(e.map.url, e.map, this.abort.signal);
    this.codecs = codecsOf(init).join(',');
    return MediaSource.isTypeSupported(`video/mp4; codecs="${this.codecs}"`);
  }

  // The server's H.264 copy of the file being recorded, from the playlist's first keyframe,
  // then each later file from its start; a piece each reload.
  async tickTranscoded(entries) {
    if (!entries.length) return;
    if (!this.copy) {
      const e = entries[0];
      this.copy = { url: e.url, fromFragment: e.seq % 1e9, offset: 0, started: false };
    }
    for (;;) {
      const c = this.copy;
      let piece;
      try {
        piece = await fetchTranscoded(c.url, c, this.abort.signal);
      } catch (e) {
        // The server dropped this copy (memory, or idle) and starts it again from zero.
        if (e.status === 400 && c.offset > 0) { this.copy = null; return; }
        throw e;
      }
      const { data, complete, wallFrom } = piece;
      if (this.closed) return;
      if (data.byteLength) {
        if (!c.started) {
          await FootagePlayer.prototype.useMime.call(this, h264Mime(data));
          this.marks.push({ media: this.bufferedEnd(), wall: wallFrom });
          c.started = true;
        }
        await this.bufferOp((sb) => sb.appendBuffer(data));
        c.offset += data.byteLength;
      }
      if (!complete) return;
      const next = entries.find((e) => e.url !== c.url && entries.indexOf(e) > entries.findLastIndex((x) => x.url === c.url));
      if (!next) return;
      this.copy = { url: next.url, fromFragment: 0, offset: 0, started: false };
    }
  }

  async tickDirect(entries) {
    if (this.lastSeq !== null && entries.length && entries[entries.length - 1].seq < this.lastSeq - 10) this.lastSeq = null;  // a new run
    for (const e of entries) {
      if (this.closed) return;
      if (this.lastSeq !== null && e.seq <= this.lastSeq) continue;
      await this.appendEntry(e);
      this.lastSeq = e.seq;
    }
  }

  async appendEntry(e) {
    const key = `${e.map.url}#${e.map.offset}`;
    if (key !== this.mapKey) {
      const init = await fetchRange(e.map.url, e.map, this.abort.signal);
      const mime = `video/mp4; codecs="${codecsOf(init).join(',')}"`;
      if (!MediaSource.isTypeSupported(mime)) throw new Error(`This browser cannot play this camera's footage (${mime}).`);
      if (!this.sourceBuffer) {
        this.sourceBuffer = this.mediaSource.addSourceBuffer(mime);
        this.sourceBuffer.mode = 'sequence';
      } else if (mime !== this.mime && this.sourceBuffer.changeType) this.sourceBuffer.changeType(mime);
      this.mime = mime;
      await this.bufferOp((sb) => sb.appendBuffer(init));
      this.mapKey = key;
    }
    const data = await fetchRange(e.url, e.range, this.abort.signal);
    this.marks.push({ media: this.bufferedEnd(), wall: e.start });
    await this.bufferOp((sb) => sb.appendBuffer(data));
  }
}
LivePlayer.prototype.bufferOp = FootagePlayer.prototype.bufferOp;
