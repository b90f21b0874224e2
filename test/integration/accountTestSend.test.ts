import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { heraldApi, type HeraldApi } from '../support/heraldApi';
import { describeWith } from '../support/services';
import { createTestDeployment, type TestDeployment, type TestHerald } from '../support/testHerald';

interface TestResult {
  account: string;
  channel: string;
  outcome: string;
  code: string | null;
  message: string | null;
  providerId: string | null;
  durationMs: number;
}
interface AuditRow {
  action: string;
  target: { id: string };
  detail: Record<string, unknown>;
}

describeWith(['postgres', 'rabbitmq'], 'POST /v1/channel-accounts/:name/test: one real send', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let sink: SmtpSink;
  let api: HeraldApi;

  beforeAll(async () => {
    sink = await startSmtpSink();
    dep = createTestDeployment();
    h = await dep.start();
    api = heraldApi(h.baseUrl);
    await api.createSmtpAccount('outbox', sink.port);
  }, 60_000);
  afterAll(async () => {
    await dep?.destroy();
    await sink?.close();
  }, 60_000);

  const test = (name: string, body: unknown, status = 200) =>
    api.expectStatus<TestResult>(status, 'POST', `/v1/channel-accounts/${name}/test`, body);
  const audited = async () =>
    (
      await api.expectStatus<{ items: AuditRow[] }>(200, 'GET', '/v1/audit?targetType=channelAccount')
    ).items.filter((a) => a.action === 'channelAccount.test');

  it('sends through the account to the address given and answers sent, recording no message', async () => {
    const result = await test('outbox', { to: { email: 'ops@example.com' } });
    expect(result).toMatchObject({ account: 'outbox', channel: 'mail', outcome: 'sent', code: null });
    expect(result.providerId).toEqual(expect.any(String));
    const [mail] = await sink.waitForMessages(1);
    expect(mail?.subject).toBe('Herald test message (outbox)');
    expect(mail?.envelope.to).toEqual(['ops@example.com']);
    expect(mail?.text).toContain('check this channel account');
    expect((await api.deliveries({})).items).toEqual([]);
    const [row] = await audited();
    expect(row).toMatchObject({ target: { id: 'outbox' }, detail: { outcome: 'sent', code: null } });
    expect(JSON.stringify(row)).not.toContain('ops@example.com');
  });

  it('answers what the server said when it refuses, and keeps the code (not the text) in the audit log', async () => {
    sink.replyNext('rcpt', { code: 550, message: '5.1.1 no such mailbox nobody@example.com' });
    const result = await test('outbox', { to: { email: 'nobody@example.com' } });
    expect(result.outcome).toBe('permanent');
    expect(result.code).toEqual(expect.any(String));
    expect(result.message).toContain('no such mailbox');
    const rows = await audited();
    expect(rows).toHaveLength(2);
    expect(rows[0]?.detail).toEqual({ outcome: 'permanent', code: result.code });
    expect(JSON.stringify(rows)).not.toContain('nobody@example.com');
    expect(sink.messages).toHaveLength(1); // the refused one never arrived
  });

  it('refuses a test without an address for mail, and for an account that does not exist', async () => {
    const problem = await test('outbox', {}, 422);
    expect(problem).toMatchObject({ code: 'test_needs_recipient' });
    await test('no-such-account', { to: { email: 'ops@example.com' } }, 404);
    await test('outbox', { to: { email: 'not an address' } }, 400);
    expect(await audited()).toHaveLength(2); // refused calls sent nothing and recorded nothing
  });

  it('needs an admin key', async () => {
    const { key } = await api.post<{ key: string }>(
      '/v1/keys',
      { name: 'publisher', scopes: ['publish', 'read'] },
      201,
    );
    const asKey = heraldApi(h.baseUrl, key);
    await asKey.expectStatus(403, 'POST', '/v1/channel-accounts/outbox/test', {
      to: { email: 'ops@example.com' },
    });
    expect(sink.messages).toHaveLength(1);
  });
});
