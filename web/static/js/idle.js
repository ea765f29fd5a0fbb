// The idle lock: after the session's idle time without keyboard, mouse or touch input the
// page locks; a warning with a countdown comes first. The server ends an idle session at
// the same time on its own; while the person is active, keepAlive() lets the page touch the
// session so that reading or typing without server calls does not end it.
// Playing footage is not activity: an unattended screen showing footage is what the policy
// is about.

const EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'];

export class IdleLock {
  constructor({ timeoutSeconds, onLock, keepAlive }) {
    this.timeoutMs = timeoutSeconds * 1000;
    this.warnMs = this.timeoutMs - Math.min(60_000, this.timeoutMs / 4);
    this.onLock = onLock;
    this.keepAlive = keepAlive;
    this.last = Date.now();
    this.listener = () => this.activity();
    this.dialog = document.getElementById('idle-warning');
    this.text = document.getElementById('idle-text');
  }

  start() {
    for (const e of EVENTS) window.addEventListener(e, this.listener, { passive: true, capture: true });
    this.timer = setInterval(() => this.tick(), 1000);
  }

  stop() {
    for (const e of EVENTS) window.removeEventListener(e, this.listener, { capture: true });
    clearInterval(this.timer);
    this.dialog.hidden = true;
  }

  activity() {
    const now = Date.now();
    if (now - (this.lastPing || 0) > 20_000) { this.lastPing = now; this.keepAlive(); }
    this.last = now;
    if (!this.dialog.hidden) this.dialog.hidden = true;
  }

  tick() {
    const idle = Date.now() - this.last;
    if (idle >= this.timeoutMs) {
      this.stop();
      this.onLock();
    } else if (idle >= this.warnMs) {
      const left = Math.ceil((this.timeoutMs - idle) / 1000);
      this.text.textContent = `The screen locks in ${left} s because nothing has been touched. ` +
        'Move the mouse or press a key to stay signed in.';
      if (this.dialog.hidden) {
        this.dialog.hidden = false;
        document.getElementById('idle-stay').focus();
      }
    }
  }
}
