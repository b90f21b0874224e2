import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** An SMTP reply the sink gives instead of accepting, e.g. `{ code: 451, message: '4.3.0 try later' }`. */
export interface SinkReply {
  code: number;
  message: string;
}

export type SinkStage = 'mail' | 'rcpt' | 'data';

/** What arrived: the parsed mail, its SMTP envelope and the raw source. */
export type ReceivedMail = ParsedMail & {
  envelope: { from: string; to: string[] };
  raw: string;
  /** Date.now() when the DATA command's body had been received. */
  receivedAt: number;
};

export interface SmtpSinkOptions {
  /** Require AUTH with these credentials; without it the sink takes mail from anyone. */
  auth?: { user: string; pass: string };
}

export interface SmtpSink {
  host: string;
  port: number;
  messages: ReceivedMail[];
  /** How many SMTP connections clients have opened so far. */
  connections(): number;
  /** How many AUTH commands clients have sent so far (each carries a password, in the clear here). */
  auths(): number;
  /**
   * Persistent behaviour per stage: return a reply to refuse the command, undefined to accept.
   * `rcpt` gets the recipient address, `mail` the sender address.
   */
  setBehaviour(b: Partial<Record<SinkStage, (address: string) => SinkReply | undefined>>): void;
  /** Refuse the next commands of a stage with these replies, one each, then go back to the behaviour. */
  replyNext(stage: SinkStage, ...replies: SinkReply[]): void;
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** A real SMTP server (nodemailer's smtp-server) on an ephemeral port that keeps what it receives. */
export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const queued: Record<SinkStage, SinkReply[]> = { mail: [], rcpt: [], data: [] };
  let behaviour: Partial<Record<SinkStage, (address: string) => SinkReply | undefined>> = {};
  let queueId = 0;
  let connections = 0;
  let auths = 0;

  const refusal = (stage: SinkStage, address: string): Error | null => {
    const reply = queued[stage].shift() ?? behaviour[stage]?.(address);
    if (!reply) return null;
    return Object.assign(new Error(reply.message), { responseCode: reply.code });
  };

  const server = new SMTPServer({
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, cb) {
      connections += 1;
      cb();
    },
    onAuth(auth, _session, cb) {
      auths += 1;
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) {
        cb(null, { user: auth.username });
      } else {
        cb(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
      }
    },
    onMailFrom(address, _session, cb) {
      cb(refusal('mail', address.address));
    },
    onRcptTo(address, _session, cb) {
      cb(refusal('rcpt', address.address));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const err = refusal('data', '');
        if (err) return cb(err);
        const receivedAt = Date.now();
        const raw = Buffer.concat(chunks).toString('utf8');
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        queueId += 1;
        const id = `SINK${String(queueId).padStart(6, '0')}`;
        simpleParser(raw).then(
          (mail) => {
            messages.push(Object.assign(mail, { envelope, raw, receivedAt }));
            cb(null, `2.0.0 Ok: queued as ${id}`);
          },
          (parseErr: unknown) => cb(parseErr as Error),
        );
      });
    },
  });
  // smtp-server reports a client that vanished mid-session (a Herald killed with -9, say) as an 'error'
  // event on the server; unheard, it would crash the test process.
  server.on('error', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    messages,
    connections: () => connections,
    auths: () => auths,
    setBehaviour(b) {
      behaviour = b;
    },
    replyNext(stage, ...replies) {
      queued[stage].push(...replies);
    },
    async waitForMessages(count, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > until) throw new Error(`smtp sink: ${messages.length} of ${count} mails arrived`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return messages;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
