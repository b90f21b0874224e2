import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { createMailSender, type MailSender } from '../../src/senders/mail/mailSender';
import type { MailJob, SmtpAccountConfig } from '../../src/senders/mail/mailJob';
import pino from 'pino';
import type { Database } from '../../src/db/database';
import { createLocalImBus } from '../../src/inbox/imBus';
import type { InboxStore } from '../../src/inbox/inboxStore';
import { bindChannels, type RecipientFieldsOf, type RenderedPartsOf } from '../../src/senders/channelSet';
import { channels } from '../../src/senders/registry';
import { startSmtpSink, type SmtpSink } from './support/smtpSink';
import { closedPort } from '../support/tcpProxy';

/** Never touched: the mail channel needs no database or inbox. */
const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used')) });

const silentLog = { info: () => undefined, warn: () => undefined, debug: () => undefined };

function job(account: SmtpAccountConfig | undefined, over: Partial<MailJob> = {}): MailJob {
  return {
    channel: 'mail',
    deliveryId: 'dlv-1',
    messageId: 'order-981-shipped',
    attempt: 1,
    account,
    to: { email: 'li@example.com', name: 'Li Lei' },
    subject: 'Order 981 shipped',
    html: '<p>Hello <b>Li</b>, it arrives 2026-11-25.</p>',
    ...over,
  };
}

describe('mail sender over SMTP', () => {
  let sink: SmtpSink;
  let sender: MailSender;
  let account: SmtpAccountConfig;
  const outboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-outbox-'));

  beforeEach(async () => {
    sink = await startSmtpSink({ auth: { user: 'noreply@example.com', pass: 's3cret-pass' } });
    sender = createMailSender({ outboxDir, log: silentLog });
    account = {
      name: 'default-smtp',
      host: sink.host,
      port: sink.port,
      secure: false,
      user: 'noreply@example.com',
      password: 's3cret-pass',
      allowInsecureAuth: true, // the sink offers no STARTTLS; see the test that leaves this out
      from: 'Example Shop <noreply@example.com>',
      replyTo: 'help@example.com',
    };
  });
  afterEach(async () => {
    await sender.close();
    await sink.close();
  });
  afterAll(() => fs.rmSync(outboxDir, { recursive: true, force: true }));

  it('delivers subject, html, derived text, To name, From, Reply-To and a stable Message-ID', async () => {
    const outcome = await sender.send(job(account));
    expect(outcome).toEqual({ kind: 'sent', providerId: 'SINK000001', answer: '250' });
    const [mail] = sink.messages;
    expect(sink.messages).toHaveLength(1);
    expect(mail?.envelope).toEqual({ from: 'noreply@example.com', to: ['li@example.com'] });
    expect(mail?.subject).toBe('Order 981 shipped');
    expect(mail?.html).toBe('<p>Hello <b>Li</b>, it arrives 2026-11-25.</p>');
    expect(mail?.text?.trim()).toBe('Hello Li, it arrives 2026-11-25.');
    expect(mail?.to).toMatchObject({ value: [{ name: 'Li Lei', address: 'li@example.com' }] });
    expect(mail?.from).toMatchObject({ value: [{ name: 'Example Shop', address: 'noreply@example.com' }] });
    expect(mail?.replyTo).toMatchObject({ value: [{ address: 'help@example.com' }] });
    expect(mail?.messageId).toBe('<dlv-1@herald>');
  });

  it('keeps the template text when there is one, and the same Message-ID on a retry', async () => {
    await sender.send(job(account, { text: 'Plain words', attempt: 1 }));
    await sender.send(job(account, { text: 'Plain words', attempt: 2 }));
    expect(sink.messages.map((m) => m.text?.trim())).toEqual(['Plain words', 'Plain words']);
    expect(sink.messages.map((m) => m.messageId)).toEqual(['<dlv-1@herald>', '<dlv-1@herald>']);
  });

  it('reuses one pooled connection for the account', async () => {
    for (const n of [1, 2, 3, 4]) await sender.send(job(account, { deliveryId: `dlv-${n}` }));
    expect(sink.messages.map((m) => m.messageId)).toEqual([
      '<dlv-1@herald>',
      '<dlv-2@herald>',
      '<dlv-3@herald>',
      '<dlv-4@herald>',
    ]);
    expect(sink.connections()).toBe(1);
  });

  it('treats a 4xx answer as retryable, and the next attempt goes through', async () => {
    sink.replyNext('rcpt', { code: 451, message: '4.3.0 Mailbox temporarily unavailable' });
    const first = await sender.send(job(account));
    expect(first).toEqual({
      kind: 'retryable',
      code: 'smtp_451',
      message: expect.stringContaining('4.3.0 Mailbox temporarily unavailable'),
    });
    sink.replyNext('data', { code: 452, message: '4.3.1 Insufficient system storage' });
    expect(await sender.send(job(account, { attempt: 2 }))).toMatchObject({
      kind: 'retryable',
      code: 'smtp_452',
    });
    expect(sink.messages).toHaveLength(0);
    const third = await sender.send(job(account, { attempt: 3 }));
    expect(third).toEqual({ kind: 'sent', providerId: 'SINK000001', answer: '250' });
    expect(sink.messages).toHaveLength(1);
  });

  it('treats a 5xx answer as permanent with the server text', async () => {
    sink.setBehaviour({
      rcpt: (to) =>
        to === 'nobody@example.com'
          ? { code: 550, message: '5.1.1 <nobody@example.com>: unknown mailbox' }
          : undefined,
    });
    const outcome = await sender.send(job(account, { to: { email: 'nobody@example.com' } }));
    expect(outcome).toEqual({
      kind: 'permanent',
      code: 'smtp_550',
      message: expect.stringContaining('5.1.1 <nobody@example.com>: unknown mailbox'),
    });
    expect(sink.messages).toHaveLength(0);
  });

  it('reports wrong credentials as permanent without the password in the message', async () => {
    const outcome = await sender.send(job({ ...account, password: 'wrong-pass-123' }));
    expect(outcome).toMatchObject({ kind: 'permanent', code: 'smtp_535' });
    expect(JSON.stringify(outcome)).not.toContain('wrong-pass-123');
  });

  it('refuses to send AUTH in the clear to a server without STARTTLS unless the account allows it', async () => {
    const { allowInsecureAuth: _allowed, ...strict } = account;
    const outcome = await sender.send(job(strict));
    expect(outcome).toMatchObject({ kind: 'permanent', code: 'smtp_starttls_required' });
    expect(JSON.stringify(outcome)).not.toContain('s3cret-pass');
    expect(sink.auths()).toBe(0);
    expect(sink.messages).toHaveLength(0);

    expect(await sender.send(job(account))).toMatchObject({ kind: 'sent' });
    expect(sink.auths()).toBe(1);
  });

  it('treats a dead server as retryable', async () => {
    const port = await closedPort();
    const outcome = await sender.send(job({ ...account, port }));
    expect(outcome).toMatchObject({ kind: 'retryable', code: 'smtp_unreachable' });
    expect(JSON.stringify(outcome)).not.toContain('s3cret-pass');
  });

  it('answers word for word the same for a closed port, a silent one, one speaking another protocol and a failed TLS', async () => {
    const debug: Array<Record<string, unknown>> = [];
    const probing = createMailSender({
      outboxDir,
      log: { ...silentLog, debug: (o: Record<string, unknown>) => void debug.push(o) },
      timeouts: { connectionTimeout: 1500, greetingTimeout: 500, socketTimeout: 1500 },
    });
    const silent = await listening(() => undefined);
    const http = await listening((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    try {
      const probes = [
        { ...account, name: 'closed', port: await closedPort() },
        { ...account, name: 'silent', port: silent.port },
        { ...account, name: 'http', port: http.port },
        { ...account, name: 'tls-to-plain', port: sink.port, secure: true },
      ];
      const outcomes = [];
      for (const probe of probes) outcomes.push(await probing.send(job(probe)));
      expect(outcomes[0]).toEqual({
        kind: 'retryable',
        code: 'smtp_unreachable',
        message: expect.stringContaining('could not be reached'),
        concealDuration: true,
      });
      for (const o of outcomes) expect(o).toEqual(outcomes[0]);
      // The cause, for the operator, is in the server log at debug level only.
      expect(debug.map((d) => d.account)).toEqual(['closed', 'silent', 'http', 'tls-to-plain']);
      expect(String(debug[0]?.detail)).toMatch(/ECONNREFUSED/);
      expect(String(debug[2]?.detail)).toMatch(/greeting/i);
    } finally {
      await probing.close();
      await silent.close();
      await http.close();
    }
  });

  it('records a refused port and a timed-out one with the same attempt duration', async () => {
    const probing = createMailSender({
      outboxDir,
      log: silentLog,
      timeouts: { connectionTimeout: 1500, greetingTimeout: 500, socketTimeout: 1500 },
    });
    const silent = await listening(() => undefined);
    const probes = new Map<string, SmtpAccountConfig>([
      ['closed', { ...account, name: 'closed', port: await closedPort() }],
      ['silent', { ...account, name: 'silent', port: silent.port }],
      ['open', account],
    ]);
    const mailOnly = bindChannels(channels, {
      accounts: { find: async (_type, name) => probes.get(name ?? '') as never },
      deps: {
        db: unused as Database,
        log: pino({ level: 'silent' }),
        homeDir: outboxDir,
        inbox: unused as InboxStore,
        imBus: createLocalImBus(),
        onAccountChange: () => () => undefined,
        webhookAllowHosts: [],
      },
      slotFor: () => undefined,
      senders: { mail: probing },
    }).get('mail');
    try {
      const results = [];
      // One at a time: the silent server's timeout is then all its attempt's time.
      for (const name of probes.keys()) {
        const parts: RenderedPartsOf<typeof channels> = {
          mail: { account: name, subject: 's', html: '<p>h</p>' },
        };
        const recipient: RecipientFieldsOf<typeof channels> = { email: 'li@example.com' };
        results.push(
          ...((await mailOnly?.sendBatch(
            [
              {
                base: { deliveryId: `d-${name}`, messageId: 'm-duration', attempt: 1 },
                parts,
                recipient,
              },
            ],
            { to: [], atAll: false },
          )) ?? []),
        );
      }
      expect(results.map((r) => (r.kind === 'tried' ? [r.outcome.kind, r.durationMs] : r.kind))).toEqual([
        ['retryable', 0],
        ['retryable', 0],
        ['sent', expect.any(Number)],
      ]);
    } finally {
      await probing.close();
      await silent.close();
    }
  });

  it("still tells an SMTP server's own refusal after its greeting by its reply code", async () => {
    sink.replyNext('mail', { code: 451, message: '4.3.0 try later' });
    expect(await sender.send(job(account))).toMatchObject({ kind: 'retryable', code: 'smtp_451' });
  });

  it('opens a new pool when the account changes, and after forgetAccount', async () => {
    const other = await startSmtpSink();
    try {
      await sender.send(job(account));
      await sender.send(
        job({ ...account, host: other.host, port: other.port, user: undefined, password: undefined }),
      );
      expect(other.messages).toHaveLength(1);
      await sender.forgetAccount(account.name);
      await sender.send(job(account));
      expect(sink.messages).toHaveLength(2);
    } finally {
      await other.close();
    }
  });
});

describe('mail sender without an SMTP account', () => {
  it('writes one parseable .eml per send into the outbox and logs where once', async () => {
    const outboxDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'herald-home-')), 'outbox');
    const lines: string[] = [];
    const sender = createMailSender({
      outboxDir,
      log: {
        info: (_o: unknown, msg?: string) => void lines.push(String(msg)),
        warn: () => undefined,
        debug: () => undefined,
      },
    });
    const first = await sender.send(job(undefined));
    const second = await sender.send(job(undefined, { attempt: 2 }));
    await sender.close();
    expect(first).toEqual({ kind: 'sent', providerId: 'dlv-1-1.eml' });
    expect(second).toEqual({ kind: 'sent', providerId: 'dlv-1-2.eml' });
    expect(fs.readdirSync(outboxDir).sort()).toEqual(['dlv-1-1.eml', 'dlv-1-2.eml']);
    const mail = await simpleParser(fs.readFileSync(path.join(outboxDir, 'dlv-1-1.eml')));
    expect(mail.subject).toBe('Order 981 shipped');
    expect(mail.messageId).toBe('<dlv-1@herald>');
    expect(mail.to).toMatchObject({ value: [{ name: 'Li Lei', address: 'li@example.com' }] });
    expect(mail.html).toBe('<p>Hello <b>Li</b>, it arrives 2026-11-25.</p>');
    expect(lines).toEqual([`no SMTP account: mails are written as .eml files to ${outboxDir}`]);
    fs.rmSync(path.dirname(outboxDir), { recursive: true, force: true });
  });
});

/** A TCP server on an ephemeral port that does `onConnect` with each socket (and nothing else). */
async function listening(onConnect: (socket: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    onConnect(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('mail sender with the audience hooks', () => {
  let sink: SmtpSink;
  const outboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-outbox-'));
  const scopes: unknown[] = [];
  const rejected: unknown[] = [];
  const audience = {
    unsubscribeUrl: (scope: unknown) => {
      scopes.push(scope);
      return 'https://herald.example.com/unsubscribe?token=abc.def';
    },
    addressRejected: async (r: unknown) => void rejected.push(r),
  };
  const sinkAccount = (): SmtpAccountConfig => ({
    name: 'sink',
    host: sink.host,
    port: sink.port,
    secure: false,
    from: 'Shop <noreply@example.com>',
  });

  beforeAll(async () => {
    sink = await startSmtpSink();
    sink.setBehaviour({
      rcpt: (to) =>
        to === 'gone@example.com'
          ? { code: 550, message: '5.1.1 <gone@example.com>: Recipient address rejected: User unknown' }
          : to === 'spam@example.com'
            ? { code: 550, message: '5.7.1 rejected as spam' }
            : undefined,
    });
  });
  afterAll(async () => {
    await sink.close();
    fs.rmSync(outboxDir, { recursive: true, force: true });
  });

  it('sends List-Unsubscribe with one-click for the scope the job carries, none without one', async () => {
    const sender = createMailSender({ outboxDir, log: silentLog, audience });
    try {
      await sender.send(job(sinkAccount(), { unsubscribe: { userId: 'u-17', category: 'news' } }));
      await sender.send(job(sinkAccount(), { deliveryId: 'dlv-2' }));
    } finally {
      await sender.close();
    }
    const [linked, plain] = sink.messages;
    expect(linked?.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    expect(linked?.raw).toMatch(
      /^List-Unsubscribe:\s+<https:\/\/herald\.example\.com\/unsubscribe\?token=abc\.def>\r?$/m,
    );
    expect(plain?.raw).not.toMatch(/^List-Unsubscribe/im);
    expect(scopes).toEqual([
      { userId: 'u-17', category: 'news', channel: 'mail', address: 'li@example.com', deliveryId: 'dlv-1' },
    ]);
  });

  it('reports an address whose mailbox does not exist (5.1.1), not one refused for policy (5.7.1)', async () => {
    const sender = createMailSender({ outboxDir, log: silentLog, audience });
    try {
      const gone = await sender.send(job(sinkAccount(), { to: { email: 'gone@example.com' } }));
      const spam = await sender.send(job(sinkAccount(), { to: { email: 'spam@example.com' } }));
      expect([gone.kind, spam.kind]).toEqual(['permanent', 'permanent']);
    } finally {
      await sender.close();
    }
    expect(rejected).toEqual([
      {
        address: 'gone@example.com',
        detail: expect.stringMatching(/^smtp_550: 550 5\.1\.1 <gone@example\.com>/),
        messageId: 'order-981-shipped',
        deliveryId: 'dlv-1',
      },
    ]);
  });
});
