import { randomBytes } from 'node:crypto';
import { buildApp, type App } from '../../src/app';
import { loggerOptions } from '../../src/http/logger';
import { describeWith } from '../support/services';
import { auth, createTestApp, type TestApp } from '../support/testApp';
import { createTestPostgres, type TestDatabase } from '../support/testDatabase';

/** Distinctive values, so any trace of one in a body or a log line is found by a plain search. */
const SECRETS = {
  password: 'Pw-LEAKCANARY-3f9a1c',
  password2: 'Pw-LEAKCANARY-new-77d0',
  token: 'tok-LEAKCANARY-b61e55',
  token2: 'tok-LEAKCANARY-new-0c2f',
  signing: 'SECLEAKCANARY9d7e41',
  signing2: 'SECLEAKCANARYnew5e12',
};
const CANARY = 'LEAKCANARY';

const smtpConfig = (password: string) => ({
  host: 'smtp.example.com',
  port: 465,
  secure: true,
  user: 'noreply@example.com',
  password,
  from: 'Example <noreply@example.com>',
});
const robotConfig = (token: string, secret: string) => ({
  webhook: `https://oapi.dingtalk.com/robot/send?access_token=${token}`,
  secret,
});

function captureLogs(): { lines: string[]; logger: object } {
  const lines: string[] = [];
  const base = loggerOptions('trace');
  if (typeof base !== 'object') throw new Error('loggerOptions should give an options object');
  return { lines, logger: { ...base, stream: { write: (line: string) => lines.push(line) } } };
}

describeWith(['postgres'], 'secrets never leave in a response or a log line (PostgreSQL)', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  let wrongKey: TestApp;
  let app: App;
  let wrongKeyApp: App;
  const logs = captureLogs();
  const bodies: string[] = [];

  beforeAll(async () => {
    tdb = await createTestPostgres();
    t = await createTestApp(tdb.db, { HERALD_SECRET_KEY: randomBytes(32).toString('base64') });
    wrongKey = await createTestApp(tdb.db, { HERALD_SECRET_KEY: randomBytes(32).toString('base64') });
    app = await buildApp(t.ctx, { logger: logs.logger });
    wrongKeyApp = await buildApp(wrongKey.ctx, { logger: logs.logger });
  });
  afterAll(async () => {
    await app?.close();
    await wrongKeyApp?.close();
    await wrongKey?.close();
    await t?.close();
    await tdb?.drop();
  });

  async function call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    payload?: unknown,
    on: App = app,
  ): Promise<number> {
    const res = await on.inject({
      method,
      url,
      headers: { ...auth, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined
        ? {}
        : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });
    bodies.push(`${method} ${url} -> ${res.statusCode} ${JSON.stringify(res.headers)} ${res.body}`);
    return res.statusCode;
  }

  it('keeps every secret out of every answer and every log line', async () => {
    const statuses = [
      await call('POST', '/v1/channel-accounts', {
        name: 'mail',
        type: 'smtp',
        config: smtpConfig(SECRETS.password),
      }),
      await call('POST', '/v1/channel-accounts', {
        name: 'robot',
        type: 'dingtalk-robot',
        config: robotConfig(SECRETS.token, SECRETS.signing),
      }),
      await call('GET', '/v1/channel-accounts'),
      await call('GET', '/v1/channel-accounts?type=smtp&limit=1'),
      await call('GET', '/v1/channel-accounts/mail'),
      await call('GET', '/v1/channel-accounts/robot'),
      await call('PUT', '/v1/channel-accounts/mail', { type: 'smtp', config: smtpConfig(SECRETS.password2) }),
      await call('PUT', '/v1/channel-accounts/robot', {
        type: 'dingtalk-robot',
        config: robotConfig(SECRETS.token2, SECRETS.signing2),
      }),
      await call('PUT', '/v1/channel-accounts/robot', {
        type: 'dingtalk-robot',
        config: { webhook: 'https://oapi.dingtalk.com/robot/send' },
      }),
      await call('GET', '/v1/channel-accounts'),
    ];
    expect(statuses).toEqual([201, 201, 200, 200, 200, 200, 200, 200, 200, 200]);

    // Failures whose requests carry secrets.
    const failures = [
      // duplicate name
      await call('POST', '/v1/channel-accounts', {
        name: 'mail',
        type: 'smtp',
        config: smtpConfig(SECRETS.password),
      }),
      // fails validation on another field, and on the secret fields themselves
      await call('POST', '/v1/channel-accounts', {
        name: 'x',
        type: 'smtp',
        config: { ...smtpConfig(SECRETS.password), port: 'not-a-port' },
      }),
      await call('POST', '/v1/channel-accounts', {
        name: 'x',
        type: 'smtp',
        config: { ...smtpConfig(SECRETS.password), password: `${SECRETS.password}${'x'.repeat(1100)}` },
      }),
      await call('POST', '/v1/channel-accounts', {
        name: 'x',
        type: 'dingtalk-robot',
        config: {
          webhook: `http://oapi.dingtalk.com/robot/send?access_token=${SECRETS.token}`,
          secret: `x${SECRETS.signing}`,
        },
      }),
      await call('POST', '/v1/channel-accounts', {
        name: 'x',
        type: 'dingtalk-robot',
        config: { webhook: `https://user:${SECRETS.token}@oapi.dingtalk.com/robot/send` },
      }),
      // a misspelt secret field: the answer names the key, never its value
      await call('POST', '/v1/channel-accounts', {
        name: 'x',
        type: 'smtp',
        config: { ...smtpConfig('p'), passwd: SECRETS.password },
      }),
      // type change refused
      await call('PUT', '/v1/channel-accounts/mail', {
        type: 'dingtalk-robot',
        config: robotConfig(SECRETS.token, SECRETS.signing),
      }),
      // unknown account
      await call('PUT', '/v1/channel-accounts/nope', { type: 'smtp', config: smtpConfig(SECRETS.password) }),
      // body that is not JSON: parsers like to quote the offending text
      await call(
        'POST',
        '/v1/channel-accounts',
        `{"name":"x","config":{"password":"${SECRETS.password}" oops}`,
      ),
      await call('PUT', '/v1/channel-accounts/mail', `{"config":{"password":"${SECRETS.password}"`),
      // the stored secrets cannot be decrypted with another key: 500, logged
      await call('GET', '/v1/channel-accounts/mail', undefined, wrongKeyApp),
      await call('GET', '/v1/channel-accounts', undefined, wrongKeyApp),
    ];
    expect(failures).toEqual([409, 400, 400, 400, 422, 400, 409, 404, 400, 400, 500, 500]);

    expect([
      await call('DELETE', '/v1/channel-accounts/robot'),
      await call('DELETE', '/v1/channel-accounts/mail'),
    ]).toEqual([204, 204]);

    expect(bodies.length).toBeGreaterThan(20);
    expect(logs.lines.length).toBeGreaterThan(20);
    // The failing decrypt was logged, so the error path was exercised rather than silent.
    expect(
      logs.lines.some((l) => l.includes('secret_decrypt_failed') || l.includes('could not be decrypted')),
    ).toBe(true);
    const leaks = [...bodies, ...logs.lines].filter((s) => s.includes(CANARY));
    expect(leaks).toEqual([]);
  });

  it('redacts account secrets that code logs with the account object', () => {
    const before = logs.lines.length;
    const smtp = { name: 'm', ...smtpConfig(SECRETS.password) };
    const robot = { name: 'r', ...robotConfig(SECRETS.token, SECRETS.signing) };
    app.log.info({ account: smtp }, 'smtp account');
    app.log.info({ account: robot }, 'robot account');
    app.log.info({ job: { account: smtp } }, 'mail job');
    app.log.info({ job: { account: robot } }, 'dingtalk job');
    const written = logs.lines.slice(before);
    expect(written).toHaveLength(4);
    expect(written.filter((l) => l.includes(CANARY))).toEqual([]);
  });
});
