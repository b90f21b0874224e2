import { describeWith } from '../support/services';
import { createTestDeployment, type TestDeployment, type TestHerald } from '../support/testHerald';
import { startSmtpSink, type SinkReply, type SmtpSink } from '../senders/support/smtpSink';
import { heraldApi, type HeraldApi, type MessageJson } from '../support/heraldApi';

const RETRY_DELAYS = [300, 600, 1200];
/**
 * The least time between two attempt rows: retryDelayAfter jitters a step down to 80 % at most, and a
 * row is stamped when it is written, a little after the wait was computed (the 100 ms margin).
 */
const MIN_GAPS = RETRY_DELAYS.map((d) => d * 0.8 - 100);

const busy: SinkReply = { code: 451, message: '4.3.0 Mailbox busy, try again later' };
const unknownUser: SinkReply = { code: 550, message: '5.1.1 No such user here' };

describeWith(['postgres', 'rabbitmq'], 'pipeline on RabbitMQ: mail send failures', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let api: HeraldApi;
  let sink: SmtpSink;
  /** RCPT TO commands the sink refused so far, per address. */
  const refused = new Map<string, number>();

  beforeAll(async () => {
    dep = createTestDeployment({ HERALD_RETRY_DELAYS: RETRY_DELAYS.map((d) => `${d}ms`).join(',') });
    h = await dep.start();
    api = heraldApi(h.baseUrl);
    sink = await startSmtpSink();
    sink.setBehaviour({
      rcpt: (address) => {
        const n = refused.get(address) ?? 0;
        const reply =
          address === 'flaky@example.com' && n < 2
            ? busy
            : address === 'busy@example.com'
              ? busy
              : address === 'gone@example.com'
                ? unknownUser
                : undefined;
        if (reply) refused.set(address, n + 1);
        return reply;
      },
    });
    await api.createSmtpAccount('sink', sink.port);
    await api.createTemplate({
      code: 'receipt',
      name: 'Receipt',
      variables: { total: 'number' },
      channels: { mail: { subject: 'Your receipt: {{ total }}', html: '<p>Total {{ total }}</p>' } },
    });
  });
  afterAll(async () => {
    await dep?.destroy();
    await sink?.close();
  });

  const publish = (id: string, email: string) =>
    api.expectStatus(202, 'POST', '/v1/messages', {
      id,
      template: 'receipt',
      to: [{ email }],
      data: { total: 12.5 },
    });
  const onlyDelivery = (m: MessageJson) => {
    expect(m.deliveries).toHaveLength(1);
    return m.deliveries[0] as MessageJson['deliveries'][number];
  };

  it('retries a 451 with growing delays, then sends', async () => {
    await publish('flaky-1', 'flaky@example.com');
    const m = await api.finished('flaky-1');
    expect(m.status).toBe('completed');
    const d = onlyDelivery(m);
    expect(d).toMatchObject({ status: 'sent', attempts: 3, reason: null });
    expect(d.attemptLog.map((a) => [a.attempt, a.outcome, a.errorCode])).toEqual([
      [1, 'retryable', 'smtp_451'],
      [2, 'retryable', 'smtp_451'],
      [3, 'sent', null],
    ]);
    expect(d.attemptLog[0]?.errorText).toContain('Mailbox busy');
    const at = d.attemptLog.map((a) => Date.parse(a.createdAt));
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
    // Each wait is at least its own backoff step (300 ms, then 600 ms), so the waits grow.
    expect(gaps[0]).toBeGreaterThanOrEqual(MIN_GAPS[0] as number);
    expect(gaps[1]).toBeGreaterThanOrEqual(MIN_GAPS[1] as number);
    expect(refused.get('flaky@example.com')).toBe(2);
    expect(sink.messages.filter((mail) => mail.envelope.to.includes('flaky@example.com'))).toHaveLength(1);
  });

  it('fails a 550 after exactly one attempt', async () => {
    await publish('gone-1', 'gone@example.com');
    const m = await api.finished('gone-1');
    expect(m.status).toBe('failed');
    const d = onlyDelivery(m);
    expect(d).toMatchObject({ status: 'failed', attempts: 1 });
    expect(d.reason).toContain('5.1.1 No such user here');
    expect(d.attemptLog.map((a) => [a.attempt, a.outcome, a.errorCode])).toEqual([
      [1, 'permanent', 'smtp_550'],
    ]);
    expect(refused.get('gone@example.com')).toBe(1);
  });

  it('gives up on a server that keeps answering 451 after retries + 1 attempts, with the reason', async () => {
    await publish('busy-1', 'busy@example.com');
    const m = await api.finished('busy-1', 30_000);
    expect(m.status).toBe('failed');
    const d = onlyDelivery(m);
    const attempts = RETRY_DELAYS.length + 1;
    expect(d).toMatchObject({ status: 'failed', attempts });
    expect(d.reason).toMatch(new RegExp(`^gave up after ${attempts} attempts: .*4\\.3\\.0 Mailbox busy`));
    expect(d.attemptLog.map((a) => [a.attempt, a.outcome, a.errorCode])).toEqual(
      Array.from({ length: attempts }, (_, i) => [i + 1, 'retryable', 'smtp_451']),
    );
    const at = d.attemptLog.map((a) => Date.parse(a.createdAt));
    at.slice(1).forEach((t, i) =>
      expect(t - (at[i] as number)).toBeGreaterThanOrEqual(MIN_GAPS[i] as number),
    );
    expect(refused.get('busy@example.com')).toBe(attempts);
    expect(sink.messages.filter((mail) => mail.envelope.to.includes('busy@example.com'))).toEqual([]);
  });
});
