// The DPO's signed checkpoint of the access log's head: kept off the box, it is
// what exposes a log later cut at its end or rebuilt (`custodian audit verify --checkpoint`).
// The checkpoint and its minisign signature are saved as two files.
import { post } from './api.js';
import { h, button, messageLine } from './ui.js';

function save(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function checkpointPanel() {
  const msg = messageLine();
  const take = button('Download a signed checkpoint', async () => {
    take.disabled = true;
    try {
      const c = await post('/api/v1/access-log/checkpoint');
      save(c.file_name, c.checkpoint);
      save(c.file_name + '.minisig', c.minisig);
      msg.show(`Checkpoint of entry ${c.entry} saved as ${c.file_name} and ${c.file_name}.minisig. Keep both away from this appliance; “${c.verify_command}” later shows whether the log was cut or rebuilt.`, 'ok');
    } catch (e) { msg.error(e); } finally { take.disabled = false; }
  });
  return h('section', { class: 'card checkpoint', 'aria-labelledby': 'checkpoint-h' },
    h('h2', { id: 'checkpoint-h' }, 'Checkpoints'),
    h('p', {}, 'A checkpoint is the log’s newest entry and its hash, signed with this appliance’s export key. ',
      'Keep copies somewhere else (the DPO’s own files, not this box): a log cut at its end or rebuilt no longer matches them. ',
      'The appliance also writes one a day into its data directory.'),
    take, msg);
}
