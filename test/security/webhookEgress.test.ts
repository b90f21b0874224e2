import dns from 'node:dns';
import { ConfigError, loadConfig } from '../../src/config/loadConfig';
import { createDingTalkSender } from '../../src/senders/dingtalk/dingtalkSender';
import type { RobotBudget } from '../../src/senders/dingtalk/robotBudget';
import type { DingTalkJob } from '../../src/senders/dingtalk/robotJob';
import { createEgressGuard, isInsideAddress, parseAllowedHost } from '../../src/senders/egress';
import { startFakeRobot, type FakeRobot } from '../senders/support/fakeRobot';
import { describeWith } from '../support/services';
import { auth, createTestApp, type TestApp } from '../support/testApp';
import { createTestPostgres, type TestDatabase } from '../support/testDatabase';

const SECRET = 'SECb1f2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';
const silentLog = { info: () => undefined, warn: () => undefined };
const unlimited: RobotBudget = {
  windows: [{ limit: 20, windowMs: 60_000 }],
  acquire: async () => ({ ok: true, settle: async () => undefined }),
  hold: async () => undefined,
};

/** A resolver that answers `address` for every name, as a rebinding DNS server would. */
const resolvesTo =
  (address: string) =>
  (
    _host: string,
    _opts: { all: true },
    cb: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
  ) =>
    cb(null, [{ address, family: address.includes(':') ? 6 : 4 }]);

const job = (webhook: string): DingTalkJob => ({
  channel: 'dingtalk',
  deliveryId: 'dlv-egress',
  messageId: 'm-egress',
  attempt: 1,
  account: { name: 'ops-robot', webhook, secret: SECRET },
  msgtype: 'text',
  text: 'hello',
  atMobiles: [],
  atUserIds: [],
  isAtAll: false,
});

describe('HERALD_WEBHOOK_ALLOW_HOSTS', () => {
  it('takes host and host:port entries, IPv6 in brackets', () => {
    expect(loadConfig({ HERALD_WEBHOOK_ALLOW_HOSTS: 'gw.internal, 10.0.0.5:8443,[::1]:9000' })).toMatchObject(
      {
        HERALD_WEBHOOK_ALLOW_HOSTS: [
          { host: 'gw.internal' },
          { host: '10.0.0.5', port: 8443 },
          { host: '::1', port: 9000 },
        ],
      },
    );
    expect(loadConfig({}).HERALD_WEBHOOK_ALLOW_HOSTS).toEqual([]);
  });

  it.each(['https://gw.internal', 'gw.internal:0', 'gw.internal:70000', 'a b', 'user@gw'])(
    'refuses %s at start, naming the entry',
    (entry) => {
      expect(parseAllowedHost(entry)).toBeUndefined();
      expect(() => loadConfig({ HERALD_WEBHOOK_ALLOW_HOSTS: entry })).toThrow(ConfigError);
      expect(() => loadConfig({ HERALD_WEBHOOK_ALLOW_HOSTS: entry })).toThrow(/HERALD_WEBHOOK_ALLOW_HOSTS/);
    },
  );
});

describe('inside addresses', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
  ])('%s is inside', (a) => expect(isInsideAddress(a)).toBe(true));
  it.each(['106.11.35.1', '8.8.8.8', '172.32.0.1', '2001:4860:4860::8888'])('%s is outside', (a) =>
    expect(isInsideAddress(a)).toBe(false),
  );
});

describe('the egress guard', () => {
  const guard = (allow = '') =>
    createEgressGuard({
      vendorHosts: ['oapi.dingtalk.com'],
      allowHosts: loadConfig({ HERALD_WEBHOOK_ALLOW_HOSTS: allow }).HERALD_WEBHOOK_ALLOW_HOSTS,
      label: 'DingTalk robot',
    });

  it('lets the vendor host through over https on 443 only', () => {
    expect(() => guard().checkUrl('https://oapi.dingtalk.com/robot/send')).not.toThrow();
    expect(() => guard().checkUrl('https://OAPI.dingtalk.com./robot/send')).not.toThrow();
    expect(() => guard().checkUrl('http://oapi.dingtalk.com/robot/send')).toThrow(/https on port 443/);
    expect(() => guard().checkUrl('https://oapi.dingtalk.com:8443/robot/send')).toThrow(
      /"oapi.dingtalk.com:8443" to HERALD_WEBHOOK_ALLOW_HOSTS/,
    );
  });

  it.each([
    'https://127.0.0.1/robot/send',
    'https://localhost/robot/send',
    'https://[::1]/robot/send',
    'https://oapi.dingtalk.com.evil.example/robot/send',
    'https://open.feishu.cn/open-apis/bot/v2/hook/x',
  ])('refuses %s, naming the host and the variable', (url) => {
    expect(() => guard().checkUrl(url)).toThrow(/is not a DingTalk robot host.*HERALD_WEBHOOK_ALLOW_HOSTS/);
  });

  it('lets an allow-listed host through on http, and only on its port when it names one', () => {
    expect(() => guard('127.0.0.1').checkUrl('http://127.0.0.1:9/robot/send')).not.toThrow();
    expect(() => guard('127.0.0.1:8080').checkUrl('http://127.0.0.1:8080/x')).not.toThrow();
    expect(() => guard('127.0.0.1:8080').checkUrl('http://127.0.0.1:8081/x')).toThrow(/127.0.0.1/);
    expect(() => guard('gw.internal:80').checkUrl('http://gw.internal/x')).not.toThrow();
  });
});

describe('the DingTalk sender checks the address after DNS resolution', () => {
  let robot: FakeRobot;
  beforeAll(async () => {
    robot = await startFakeRobot({ secret: SECRET });
  });
  afterAll(() => robot.close());

  it('refuses, for good, a vendor name that resolves to a loopback address, sending nothing', async () => {
    const sender = createDingTalkSender({
      budget: unlimited,
      log: silentLog,
      timeoutMs: 2000,
      egress: createEgressGuard({
        vendorHosts: ['oapi.dingtalk.com'],
        allowHosts: [],
        label: 'DingTalk robot',
        lookup: resolvesTo('127.0.0.1'),
      }),
    });
    const outcome = await sender.send(job('https://oapi.dingtalk.com/robot/send?access_token=tok-1'));
    expect(outcome).toEqual({
      kind: 'permanent',
      code: 'dingtalk_host_not_allowed',
      message: expect.stringMatching(/"oapi.dingtalk.com" resolved to the private address 127\.0\.0\.1/),
    });
    expect(JSON.stringify(outcome)).not.toContain('tok-1');
    expect(robot.requests).toHaveLength(0);
  });

  it('refuses a URL outside the list before any lookup', async () => {
    const lookups: string[] = [];
    const sender = createDingTalkSender({
      budget: unlimited,
      log: silentLog,
      egress: createEgressGuard({
        vendorHosts: ['oapi.dingtalk.com'],
        allowHosts: [],
        label: 'DingTalk robot',
        lookup: (host, opts, cb) => {
          lookups.push(host);
          resolvesTo('127.0.0.1')(host, opts, cb);
        },
      }),
    });
    expect(await sender.send(job(robot.url))).toMatchObject({
      kind: 'permanent',
      code: 'dingtalk_host_not_allowed',
      message: expect.stringContaining('HERALD_WEBHOOK_ALLOW_HOSTS'),
    });
    expect(lookups).toEqual([]);
    expect(robot.requests).toHaveLength(0);
  });

  it('sends to an allow-listed name that resolves to a private address, over http', async () => {
    const port = new URL(robot.url).port;
    const webhook = new URL(robot.url);
    webhook.hostname = 'robot-gateway.internal';
    const sender = createDingTalkSender({
      budget: unlimited,
      log: silentLog,
      egress: createEgressGuard({
        vendorHosts: ['oapi.dingtalk.com'],
        allowHosts: [{ host: 'robot-gateway.internal', port: Number(port) }],
        label: 'DingTalk robot',
        lookup: resolvesTo('127.0.0.1'),
      }),
    });
    expect(await sender.send(job(webhook.toString()))).toEqual({ kind: 'sent' });
    expect(robot.requests).toHaveLength(1);
  });
});

describeWith(['postgres'], 'robot accounts are refused at save when their host is not allowed', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  let allowing: TestApp;

  beforeAll(async () => {
    tdb = await createTestPostgres();
    t = await createTestApp(tdb.db);
    allowing = await createTestApp(tdb.db, { HERALD_WEBHOOK_ALLOW_HOSTS: '127.0.0.1:8443' });
  });
  afterAll(async () => {
    await t?.close();
    await allowing?.close();
    await tdb?.drop();
  });

  const post = (app: TestApp, payload: object) =>
    app.app.inject({ method: 'POST', url: '/v1/channel-accounts', headers: auth, payload });

  it.each([
    ['dingtalk-robot', { webhook: 'https://127.0.0.1/robot/send?access_token=t' }, '127.0.0.1'],
    ['dingtalk-robot', { webhook: 'https://169.254.169.254/robot/send?access_token=t' }, '169.254.169.254'],
    [
      'dingtalk-robot',
      { webhook: 'http://oapi.dingtalk.com/robot/send?access_token=t' },
      'oapi.dingtalk.com',
    ],
    ['feishu-robot', { webhook: 'https://oapi.dingtalk.com/open-apis/bot/v2/hook/t' }, 'oapi.dingtalk.com'],
    ['wecom-robot', { webhook: 'https://intranet.example/cgi-bin/webhook/send?key=k' }, 'intranet.example'],
    ['dingtalk-work', { appKey: 'k', appSecret: 's', agentId: 1, apiBase: 'https://10.0.0.8' }, '10.0.0.8'],
  ])('refuses a %s pointing at %j with 400 naming the host and the variable', async (type, config, host) => {
    const name = `egress-${type}-${host.replace(/\W/g, '')}`;
    const res = await post(t, { name, type, config });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'webhook_host_not_allowed' });
    expect(res.json().detail).toContain(`"${host}"`);
    expect(res.json().detail).toContain('HERALD_WEBHOOK_ALLOW_HOSTS');
    const got = await t.app.inject({ method: 'GET', url: `/v1/channel-accounts/${name}`, headers: auth });
    expect(got.statusCode).toBe(404);
  });

  it('takes each vendor host, and an allow-listed host:port over http', async () => {
    for (const [type, config] of [
      ['dingtalk-robot', { webhook: 'https://oapi.dingtalk.com/robot/send?access_token=t' }],
      ['feishu-robot', { webhook: 'https://open.larksuite.com/open-apis/bot/v2/hook/t' }],
      ['wecom-robot', { webhook: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k' }],
      ['dingtalk-work', { appKey: 'k', appSecret: 's', agentId: 1 }],
    ] as const)
      expect((await post(t, { name: `vendor-${type}`, type, config })).statusCode).toBe(201);

    const local = { webhook: 'http://127.0.0.1:8443/robot/send?access_token=t' };
    expect((await post(t, { name: 'local-robot', type: 'dingtalk-robot', config: local })).statusCode).toBe(
      400,
    );
    expect(
      (await post(allowing, { name: 'local-robot', type: 'dingtalk-robot', config: local })).statusCode,
    ).toBe(201);
    const otherPort = { webhook: 'http://127.0.0.1:8444/robot/send?access_token=t' };
    expect(
      (await post(allowing, { name: 'other-port', type: 'dingtalk-robot', config: otherPort })).statusCode,
    ).toBe(400);
  });

  it('refuses a PUT that moves a robot off its vendor host, keeping the stored one', async () => {
    const webhook = 'https://oapi.dingtalk.com/robot/send?access_token=t';
    await post(t, { name: 'stays-put', type: 'dingtalk-robot', config: { webhook } });
    const res = await t.app.inject({
      method: 'PUT',
      url: '/v1/channel-accounts/stays-put',
      headers: auth,
      payload: { type: 'dingtalk-robot', config: { webhook: 'https://10.1.1.1/robot/send?access_token=t' } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('webhook_host_not_allowed');
    const view = await t.app.inject({ method: 'GET', url: '/v1/channel-accounts/stays-put', headers: auth });
    expect(view.json().config.webhook).toMatch(/^https:\/\/oapi\.dingtalk\.com\//);
  });
});
