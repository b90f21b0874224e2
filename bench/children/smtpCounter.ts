import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { serveRpc } from '../lib/childRpc';

/**
 * The mail sink of the benchmark, in a process of its own: a real smtp-server that reads every mail to
 * its end and counts it (distinct recipients too), without parsing, so it is never the bottleneck.
 */
let accepted = 0;
let bytes = 0;
let lastAt = 0;
let connections = 0;
const recipients = new Set<string>();

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  size: 1024 * 1024,
  onConnect(_s, cb) {
    connections += 1;
    cb();
  },
  onData(stream, session, cb) {
    let n = 0;
    stream.on('data', (c: Buffer) => (n += c.length));
    stream.on('end', () => {
      accepted += 1;
      bytes += n;
      lastAt = Date.now();
      for (const r of session.envelope.rcptTo) recipients.add(r.address);
      cb(null, `2.0.0 Ok: queued as B${accepted}`);
    });
  },
});
// A client reset mid-session is an 'error' event on the server; unheard, it would end this process.
server.on('error', () => undefined);

serveRpc({
  async listen(): Promise<{ port: number }> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return { port: (server.server.address() as AddressInfo).port };
  },
  counts: () => ({ accepted, bytes, lastAt, connections, distinctRecipients: recipients.size }),
  reset(): null {
    accepted = 0;
    bytes = 0;
    lastAt = 0;
    connections = 0;
    recipients.clear();
    return null;
  },
});
