import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { createMailSender, type MailSender } from '../../src/senders/mail/mailSender';
import type { MailJob, SmtpAccountConfig } from '../../src/senders/mail/mailJob';
import { startSmtpSink, type SmtpSink } from './support/smtpSink';

const silentLog = { info: () => undefined, warn: () => undefined };

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
    expect(outcome).toEqual({ kind: 'sent', providerId: 'SINK000001' });
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
    expect(third).toEqual({ kind: 'sent', providerId: 'SINK000001' });
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
    expect(outcome).toMatchObject({ kind: 'retryable', code: 'smtp_connection' });
    expect(JSON.stringify(outcome)).not.toContain('s3cret-pass');
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
      log: { info: (_o: unknown, msg?: string) => void lines.push(String(msg)), warn: () => undefined },
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

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
