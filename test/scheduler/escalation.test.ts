import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { heraldApi, type HeraldApi, type MessageJson } from '../support/heraldApi';
import { describeWith } from '../support/services';
import { createTestDeployment, eventually, type TestDeployment } from '../support/testHerald';

type Delivery = MessageJson['deliveries'][number] & { cause?: string | null };

describeWith(['postgres', 'rabbitmq'], 'escalation and fallback across channels', () => {
  let dep: TestDeployment;
  let api: HeraldApi;
  let sink: SmtpSink;
  const mailsTo = (address: string) => sink.messages.filter((m) => m.envelope.to.includes(address));

  beforeAll(async () => {
    sink = await startSmtpSink();
    // Mail to bounce@ is refused for good.
    sink.setBehaviour({
      rcpt: (a) => (a.startsWith('bounce@') ? { code: 550, message: '5.1.1 no such user' } : undefined),
    });
    dep = createTestDeployment();
    api = heraldApi((await dep.start()).baseUrl);
    await api.createSmtpAccount('sink', sink.port);
    await api.post(
      '/v1/templates',
      {
        code: 'invoice_due',
        name: 'Invoice due',
        variables: { no: 'string' },
        escalate: { after: '3s', unless: 'read', channels: ['mail'] },
        channels: {
          im: { title: 'Invoice {{ no }} is due', body: 'Please pay' },
          mail: { subject: 'Invoice {{ no }} is still unpaid', html: '<p>Please pay {{ no }}</p>' },
        },
      },
      201,
    );
    await api.post(
      '/v1/templates',
      {
        code: 'disk_alert',
        name: 'Disk alert',
        variables: {},
        fallback: ['im'],
        channels: {
          mail: { subject: 'Disk full', html: '<p>Disk full</p>' },
          im: { title: 'Disk full (mail failed)', body: 'Disk full' },
        },
      },
      201,
    );
  }, 60_000);
  afterAll(async () => {
    await dep?.destroy();
    await sink?.close();
  });

  it('refuses an escalation or fallback channel the template lacks, or one that leaves nothing to send first', async () => {
    const base = { name: 'x', variables: {}, channels: { im: { title: 't', body: 'b' } } };
    const lacking = await api.call<{ code: string }>('POST', '/v1/templates', {
      ...base,
      code: 'lacking',
      fallback: ['mail'],
    });
    expect([lacking.status, lacking.body.code]).toEqual([422, 'unknown_channel']);
    const nothingFirst = await api.call<{ code: string }>('POST', '/v1/templates', {
      ...base,
      code: 'nothing_first',
      escalate: { after: '1m', unless: 'sent', channels: ['im'] },
    });
    expect([nothingFirst.status, nothingFirst.body.code]).toEqual([422, 'no_first_channel']);
  });

  it('mails a recipient whose in-site item is not read within the time, not before it, and not one who read it', async () => {
    const unread = { userId: 'u-late', email: 'late@example.com' };
    const reader = { userId: 'u-reader', email: 'reader@example.com' };
    const publishedAt = Date.now();
    await api.post(
      '/v1/messages',
      { id: 'inv-1', template: 'invoice_due', to: [unread], data: { no: '1' } },
      202,
    );
    await api.post(
      '/v1/messages',
      { id: 'inv-2', template: 'invoice_due', to: [reader], data: { no: '2' } },
      202,
    );
    // First only the in-site item, for both.
    for (const id of ['inv-1', 'inv-2']) {
      const m = await api.finished(id);
      expect(m.deliveries.map((d) => [d.channel, d.status])).toEqual([['im', 'sent']]);
    }
    // One reads it in time.
    await api.post(`/v1/users/${reader.userId}/inbox/read`, { all: true }, 200);

    const escalated = await eventually(async () => {
      const m = await api.message('inv-1');
      const mail = m?.deliveries.find((d) => d.channel === 'mail') as Delivery | undefined;
      return mail?.status === 'sent' ? { m, mail } : undefined;
    }, 30_000);
    expect(escalated.mail.cause).toBe('escalation: im not read within 3s');
    expect(escalated.m?.status).toBe('completed');
    const sentAt = new Date(escalated.mail.attemptLog[0]?.createdAt as string).getTime();
    expect(sentAt).toBeGreaterThanOrEqual(publishedAt + 3000);
    expect(mailsTo(unread.email).map((m) => m.subject)).toEqual(['Invoice 1 is still unpaid']);

    // The reader's check came due at the same time (published together): give it generous time too.
    await new Promise((r) => setTimeout(r, 3000));
    const read = await api.message('inv-2');
    expect(read?.deliveries.map((d) => [d.channel, d.status])).toEqual([['im', 'read']]);
    expect(mailsTo(reader.email)).toEqual([]);
  }, 60_000);

  it('sends the fallback channel, with its reason, when another fails permanently', async () => {
    const to = [
      { userId: 'u-bounce', email: 'bounce@example.com' },
      { userId: 'u-fine', email: 'fine@example.com' },
    ];
    await api.post('/v1/messages', { id: 'disk-1', template: 'disk_alert', to }, 202);
    const m = await api.finished('disk-1', 30_000);
    const rows = (m.deliveries as Delivery[]).map((d) => [
      d.channel,
      d.recipientIndex,
      d.status,
      d.cause ?? null,
    ]);
    // In the channel enum's order, as the API lists them.
    expect(rows).toEqual([
      ['mail', 0, 'failed', null],
      ['mail', 1, 'sent', null],
      ['im', 0, 'sent', expect.stringMatching(/^fallback: mail failed: .*no such user/)],
    ]);
    expect(m.status).toBe('partially_failed');
    expect(await api.inboxCount('u-bounce')).toBe(1);
    expect(await api.inboxCount('u-fine')).toBe(0);
  }, 60_000);
});
