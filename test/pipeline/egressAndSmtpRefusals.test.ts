import { startFakeRobot, type FakeRobot } from '../senders/support/fakeRobot';
import { heraldApi } from '../support/heraldApi';
import { describeWith } from '../support/services';
import { createTestDeployment, LOCAL_VENDOR_FAKES, type TestDeployment } from '../support/testHerald';
import { closedPort } from '../support/tcpProxy';

const SECRET = 'SECb1f2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';

/** The README's bad-input rows for robot egress and unreachable SMTP, through RabbitMQ and PostgreSQL. */
describeWith(['postgres', 'rabbitmq'], 'egress and SMTP refusals leave rows that say why', () => {
  let dep: TestDeployment;
  let robot: FakeRobot;

  beforeAll(async () => {
    robot = await startFakeRobot({ secret: SECRET });
    dep = createTestDeployment({ HERALD_RETRY_DELAYS: '100ms,100ms' });
  }, 60_000);
  afterAll(async () => {
    await dep?.destroy();
    await robot?.close();
  }, 60_000);

  it('fails, for good and without a request, a robot whose host the sending instance does not allow', async () => {
    // Saved where an operator allow-listed the robot's host, sent where nobody did (or after the list shrank).
    const allowing = await dep.start({ ...LOCAL_VENDOR_FAKES, HERALD_ROLES: 'api' });
    const admin = heraldApi(allowing.baseUrl);
    await admin.post(
      '/v1/channel-accounts',
      { name: 'gw-robot', type: 'dingtalk-robot', config: { webhook: robot.url, secret: SECRET } },
      201,
    );
    await admin.post(
      '/v1/templates',
      {
        code: 'egress_row',
        name: 'Egress row',
        channels: { dingtalk: { account: 'gw-robot', msgtype: 'text', text: 'hello' } },
      },
      201,
    );
    const refusing = await dep.start();
    const api = heraldApi(refusing.baseUrl);
    const saved = await api.call('POST', '/v1/channel-accounts', {
      name: 'gw-robot-2',
      type: 'dingtalk-robot',
      config: { webhook: robot.url, secret: SECRET },
    });
    expect(saved.status).toBe(400);
    expect(saved.body).toMatchObject({ code: 'webhook_host_not_allowed' });

    await api.post(
      '/v1/messages',
      { id: 'egress-row-1', template: 'egress_row', to: [{ userId: 'u-1' }] },
      202,
    );
    const m = await api.finished('egress-row-1');
    expect(m.status).toBe('failed');
    const [d] = m.deliveries;
    expect(d?.attemptLog.map((a) => [a.outcome, a.errorCode])).toEqual([
      ['permanent', 'dingtalk_host_not_allowed'],
    ]);
    expect(d?.attemptLog[0]?.errorText).toMatch(/"127\.0\.0\.1".*HERALD_WEBHOOK_ALLOW_HOSTS/);
    expect(d?.attemptLog[0]?.errorText).not.toContain('access_token');
    expect(robot.requests).toHaveLength(0);
    await allowing.stop();
  });

  it('records an unreachable SMTP server as smtp_unreachable on every attempt, then failed', async () => {
    const h = await dep.start();
    const api = heraldApi(h.baseUrl);
    await api.post(
      '/v1/channel-accounts',
      {
        name: 'nowhere-smtp',
        type: 'smtp',
        config: { host: '127.0.0.1', port: await closedPort(), secure: false, from: 'H <h@example.com>' },
      },
      201,
    );
    await api.post(
      '/v1/templates',
      {
        code: 'smtp_row',
        name: 'SMTP row',
        channels: { mail: { account: 'nowhere-smtp', subject: 's', html: '<p>h</p>' } },
      },
      201,
    );
    await api.post(
      '/v1/messages',
      { id: 'smtp-row-1', template: 'smtp_row', to: [{ email: 'a@example.com' }] },
      202,
    );
    const m = await api.finished('smtp-row-1', 30_000);
    expect(m.status).toBe('failed');
    const [d] = m.deliveries;
    expect(d?.attemptLog.map((a) => [a.outcome, a.errorCode])).toEqual([
      ['retryable', 'smtp_unreachable'],
      ['retryable', 'smtp_unreachable'],
      ['retryable', 'smtp_unreachable'],
    ]);
    expect(d?.attemptLog.every((a) => !/ECONNREFUSED|\d{4,5}/.test(a.errorText ?? ''))).toBe(true);
  });
});
