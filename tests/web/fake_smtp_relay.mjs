// A fake SMTP relay for the web test, not a mail server: it speaks just enough SMTP
// (EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) for custodian serve to hand it alarm
// e-mails over TLS, and writes each message it accepts to OUT_DIR/NNN.eml, preceded by a
// line saying whether it came over TLS and who signed in. Nothing is relayed anywhere.
//
//   node fake_smtp_relay.mjs PORT_FILE OUT_DIR CERT KEY USER:PASSWORD
//
// It listens on a free loopback port and writes the port to PORT_FILE once listening.
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [portFile, outDir, certFile, keyFile, login] = process.argv.slice(2);
const cert = readFileSync(certFile);
const key = readFileSync(keyFile);
let count = 0;

function converse(socket) {
  let stream = socket;
  let buffer = '';
  let inData = false;
  let mail = { from: '', to: [], data: [], auth: '' };
  const write = (s) => stream.write(s + '\r\n');
  const onLine = (line) => {
    if (inData) {
      if (line === '.') {
        inData = false;
        const n = String(++count).padStart(3, '0');
        writeFileSync(path.join(outDir, `${n}.eml`),
          `X-Fake-Relay: tls=${stream !== socket} auth=${mail.auth} from=${mail.from} to=${mail.to.join(',')}\n` + mail.data.join('\n') + '\n');
        mail = { from: '', to: [], data: [], auth: mail.auth };
        write('250 queued (by a fake relay)');
      } else {
        mail.data.push(line.startsWith('.') ? line.slice(1) : line);
      }
      return;
    }
    const verb = line.split(' ')[0].toUpperCase();
    if (verb === 'EHLO') {
      write('250-fake-relay.test');
      if (stream === socket) write('250-STARTTLS');
      write('250 AUTH PLAIN');
    } else if (verb === 'STARTTLS') {
      write('220 go ahead');
      socket.removeAllListeners('data');
      stream = new tls.TLSSocket(socket, { isServer: true, cert, key });
      buffer = '';
      stream.on('data', onData);
      stream.on('error', () => {});
    } else if (verb === 'AUTH') {
      const plain = Buffer.from(line.split(' ').pop(), 'base64').toString('utf8').split('\0');
      const given = `${plain[1]}:${plain[2]}`;
      if (stream !== socket && given === login) { mail.auth = plain[1]; write('235 accepted'); } else write('535 refused');
    } else if (verb === 'MAIL') {
      mail.from = (line.match(/<(.*)>/) || [])[1] || '';
      write('250 ok');
    } else if (verb === 'RCPT') {
      mail.to.push((line.match(/<(.*)>/) || [])[1] || '');
      write('250 ok');
    } else if (verb === 'DATA') {
      inData = true;
      write('354 end with .');
    } else if (verb === 'QUIT') {
      write('221 bye');
      stream.end();
    } else {
      write('500 unknown');
    }
  };
  const onData = (chunk) => {
    buffer += chunk.toString('utf8');
    let i;
    while ((i = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      onLine(line);
    }
  };
  socket.on('data', onData);
  socket.on('error', () => {});
  write('220 fake-relay.test ESMTP (a test fake)');
}

const server = net.createServer(converse);
server.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)));
process.on('SIGTERM', () => process.exit(0));
