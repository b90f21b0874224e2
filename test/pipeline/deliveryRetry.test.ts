import { describeWith } from '../support/services';
import { createTestDeployment, type TestDeployment, type TestHerald } from '../support/testHerald';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { heraldApi, type DeliveryJson, type HeraldApi } from '../support/heraldApi';

describeWith(['postgres', 'rabbitmq'], 'pipeline on RabbitMQ: POST /v1/deliveries/:id/retry', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let api: HeraldApi;
  let sink: SmtpSink;
  let mailboxExists = false;

  beforeAll(async () => {
    dep = createTestDeployment();
    h = await dep.start();
    api = heraldApi(h.baseUrl);
    sink = await startSmtpSink();
    sink.setBehaviour({
      rcpt: () => (mailboxExists ? undefined : { code: 550, message: '5.1.1 No such user here' }),
    });
    await api.createSmtpAccount('sink', sink.port);
    await api.createTemplate({
      code: 'invite',
      name: 'Invite',
      variables: {},
      channels: {
        mail: { subject: 'You are invited', html: '<p>Hi {{ name }}</p>' },
        im: { title: 'You are invited', body: 'see your mail' },
      },
    });
  });
  afterAll(async () => {
    await dep?.destroy();
    await sink?.close();
  });

  it('sends a failed delivery again once the server accepts it; other deliveries are not resent', async () => {
    await api.expectStatus(202, 'POST', '/v1/messages', {
      id: 'invite-1',
      template: 'invite',
      to: [{ userId: 'u-1', email: 'new@example.com', name: 'New' }],
    });
    const failed = await api.finished('invite-1');
    expect(failed.status).toBe('partially_failed');
    const mail = failed.deliveries.find((d) => d.channel === 'mail');
    if (!mail) throw new Error('no mail delivery');
    expect(mail).toMatchObject({ status: 'failed', attempts: 1 });
    const im = failed.deliveries.find((d) => d.channel === 'im');
    expect(im).toMatchObject({ status: 'sent', attempts: 1 });

    // Only a failed delivery can be retried.
    const notFailed = await api.call<{ code: string }>('POST', `/v1/deliveries/${im?.id}/retry`);
    expect(notFailed.status).toBe(409);
    expect(notFailed.body.code).toBe('not_failed');
    const unknown = await api.call('POST', '/v1/deliveries/00000000-0000-4000-8000-000000000000/retry');
    expect(unknown.status).toBe(404);

    // The 5.1.1 put the address on the suppression list: the mailbox exists now, so the admin lifts it
    // before the retry (left there, the retry is skipped with reason `suppressed`).
    mailboxExists = true;
    await api.expectStatus(204, 'DELETE', `/v1/suppressions/${encodeURIComponent('new@example.com')}`);
    const queued = await api.expectStatus<DeliveryJson>(202, 'POST', `/v1/deliveries/${mail.id}/retry`);
    expect(queued).toMatchObject({ id: mail.id, status: 'queued' });

    const done = await api.reaches('invite-1', 'completed');
    const retried = done.deliveries.find((d) => d.channel === 'mail');
    expect(retried).toMatchObject({ status: 'sent', attempts: 2 });
    expect(retried?.attemptLog.map((a) => [a.attempt, a.outcome, a.errorCode])).toEqual([
      [1, 'permanent', 'smtp_550'],
      [2, 'sent', null],
    ]);
    expect(done.deliveries.find((d) => d.channel === 'im')).toMatchObject({ status: 'sent', attempts: 1 });
    expect(sink.messages.map((m) => m.envelope.to)).toEqual([['new@example.com']]);
    expect(await api.inboxCount('u-1')).toBe(1);

    // Once sent, it cannot be retried again.
    expect((await api.call('POST', `/v1/deliveries/${mail.id}/retry`)).status).toBe(409);
  });
});
