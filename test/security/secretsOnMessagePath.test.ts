import amqplib from 'amqplib';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { buildApp, type App } from '../../src/app';
import { signUserToken } from '../../src/auth/userToken';
import { loadConfig } from '../../src/config/loadConfig';
import { loggerOptions } from '../../src/http/logger';
import { startRuntime, type Runtime } from '../../src/runtime';
import { connect, connectRefused } from '../gateway/support/wsClient';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import { ADMIN_TOKEN, auth } from '../support/testApp';
import {
  createTestDeployment,
  eventually,
  JWT_SECRET,
  SECRET_KEY,
  type TestDeployment,
  LOCAL_VENDOR_FAKES,
} from '../support/testHerald';
import { closedPort } from '../support/tcpProxy';

const CANARY = 'LEAKCANARY';
const SECRETS = {
  password: 'Pw-LEAKCANARY-path-4e1f',
  accessToken: 'tokLEAKCANARYpath93ab',
  signing: 'SECLEAKCANARYpath7c21',
};
const RETRY_DELAYS = '100ms,100ms';

describeWith(
  ['postgres', 'rabbitmq'],
  'secrets stay out of the message path (full Herald, trace logs)',
  () => {
    let dep: TestDeployment;
    let runtime: Runtime;
    let app: App;
    let home: string;
    let wsBase: string;
    const lines: string[] = [];
    const bodies: string[] = [];
    const userToken = signUserToken(JWT_SECRET, 'u-leak');
    /** Everything that must never be written anywhere. */
    const forbidden = [CANARY, ADMIN_TOKEN, JWT_SECRET, userToken];

    beforeAll(async () => {
      dep = createTestDeployment({ HERALD_RETRY_DELAYS: RETRY_DELAYS });
      home = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-leak-'));
      const config = loadConfig({
        HERALD_HOME: home,
        DATABASE_URL: dep.databaseUrl,
        DATABASE_POOL_SIZE: '5',
        AMQP_URL: TEST_AMQP_URL,
        HERALD_QUEUE_PREFIX: dep.prefix,
        HERALD_ADMIN_TOKENS: ADMIN_TOKEN,
        HERALD_JWT_SECRET: JWT_SECRET,
        HERALD_SECRET_KEY: SECRET_KEY,
        HERALD_RETRY_DELAYS: RETRY_DELAYS,
        ...LOCAL_VENDOR_FAKES,
        LOG_LEVEL: 'trace',
      });
      // The production logger options (src/server.ts), writing into memory.
      const log = pino(loggerOptions('trace') as pino.LoggerOptions, {
        write: (line: string) => void lines.push(line),
      });
      runtime = await startRuntime(config, log);
      app = await buildApp(runtime.ctx, { loggerInstance: log });
      await app.listen({ port: 0, host: '127.0.0.1' });
      wsBase = `ws://127.0.0.1:${(app.server.address() as net.AddressInfo).port}`;
    });
    afterAll(async () => {
      await runtime?.drain();
      await app?.close();
      await runtime?.close();
      await dep?.destroy();
      if (home) fs.rmSync(home, { recursive: true, force: true });
    });

    async function call(
      method: 'GET' | 'POST',
      url: string,
      payload?: object,
      headers: Record<string, string> = auth,
    ) {
      const res = await app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
      // The answer only: the request line carries what this test sent on purpose.
      bodies.push(`${res.statusCode} ${JSON.stringify(res.headers)} ${res.body}`);
      return res;
    }

    it('sends through accounts whose servers refuse, and writes no secret anywhere', async () => {
      const [smtpPort, robotPort] = [await closedPort(), await closedPort()];
      const setup = [
        await call('POST', '/v1/channel-accounts', {
          name: 'refusing-smtp',
          type: 'smtp',
          isDefault: true,
          config: {
            host: '127.0.0.1',
            port: smtpPort,
            secure: false,
            user: 'noreply@example.com',
            password: SECRETS.password,
            allowInsecureAuth: true, // the local sink offers no STARTTLS
            from: 'Herald <noreply@example.com>',
          },
        }),
        await call('POST', '/v1/channel-accounts', {
          name: 'refusing-robot',
          type: 'dingtalk-robot',
          config: {
            webhook: `https://127.0.0.1:${robotPort}/robot/send?access_token=${SECRETS.accessToken}`,
            secret: SECRETS.signing,
          },
        }),
        await call('POST', '/v1/templates', {
          code: 'leak_probe',
          name: 'Leak probe',
          variables: { orderNo: 'string' },
          channels: {
            mail: { subject: 'Order {{ orderNo }}', html: '<p>{{ orderNo }}</p>' },
            dingtalk: { account: 'refusing-robot', msgtype: 'text', text: 'Order {{ orderNo }}' },
          },
        }),
      ];
      expect(setup.map((r) => r.statusCode)).toEqual([201, 201, 201]);

      const to = [{ userId: 'u-leak', email: 'li@example.com', name: 'Li', mobile: '13800000000' }];
      const published = [
        await call('POST', '/v1/messages', {
          id: 'leak-1',
          template: 'leak_probe',
          to,
          data: { orderNo: '981' },
        }),
        // Refused at once over HTTP.
        await call('POST', '/v1/messages', { id: 'leak-2', template: 'no_such_template', to, data: {} }),
      ];
      expect(published.map((r) => r.statusCode)).toEqual([202, 422]);
      // Straight on the broker it is rejected by the consumer and lands in dead letters with its reason.
      const conn = await amqplib.connect(TEST_AMQP_URL);
      try {
        const ch = await conn.createConfirmChannel();
        const envelope = { id: 'leak-3', template: 'no_such_template', to, data: {} };
        ch.publish(`${dep.prefix}herald`, 'notify.no_such_template', Buffer.from(JSON.stringify(envelope)), {
          persistent: true,
          messageId: 'leak-3',
        });
        await ch.waitForConfirms();
      } finally {
        await conn.close();
      }

      type View = {
        status: string;
        deliveries: Array<{ channel: string; status: string; attemptLog: unknown[] }>;
      };
      const message = await eventually(
        async () => {
          const body = (await call('GET', '/v1/messages/leak-1')).json<View>();
          const done = body.deliveries.length === 2 && body.deliveries.every((d) => d.status === 'failed');
          return done ? body : undefined;
        },
        20_000,
        'both deliveries failed',
      );
      // Every attempt was made and failed: the error paths ran.
      expect(message.deliveries.map((d) => [d.channel, d.attemptLog.length]).sort()).toEqual([
        ['dingtalk', 3],
        ['mail', 3],
      ]);
      await eventually(async () => {
        const dead = (await call('GET', '/v1/dead-letters?messageId=leak-3')).json<{ items: unknown[] }>();
        return dead.items.length === 1;
      });
      await call('GET', '/v1/deliveries?limit=50');
      await call('GET', '/v1/dead-letters');

      // A user token in the query: the socket (accepted) and the inbox (which reads only the header).
      const socket = await connect(wsBase, { token: userToken });
      socket.close();
      expect((await connectRefused(wsBase, { token: `${userToken}x` })).status).toBe(401);
      await call('GET', `/v1/users/u-leak/inbox?token=${userToken}`, undefined, {});

      const attempts = await runtime.ctx.db.sql.query<{
        channel: string;
        errorCode: string;
        errorText: string;
      }>(
        `SELECT d.channel::text AS channel, a."errorCode", a."errorText"
         FROM "DeliveryAttempt" a JOIN "Delivery" d ON d.id = a."deliveryId"`,
      );
      expect(attempts.rows.length).toBe(6);
      // The robot is allow-listed, so its refusal is named; SMTP's reads the same for any unreachable port.
      expect(
        attempts.rows.every((r) =>
          r.channel === 'mail' ? r.errorCode === 'smtp_unreachable' : /ECONNREFUSED/.test(r.errorText),
        ),
      ).toBe(true);
      expect(attempts.rows.filter((r) => r.channel === 'mail').length).toBeGreaterThan(0);
      const dead = await runtime.ctx.db.sql.query<{ reason: string; payload: Buffer }>(
        `SELECT reason, payload FROM "DeadLetter"`,
      );
      expect(dead.rows.length).toBe(1);

      // The logs saw the failures, the socket and the requests with the query token.
      expect(lines.some((l) => l.includes('leak-1'))).toBe(true);
      expect(lines.some((l) => l.includes('/v1/ws?token=[redacted]'))).toBe(true);
      expect(lines.some((l) => l.includes('/v1/users/u-leak/inbox?token=[redacted]'))).toBe(true);

      const written = [
        ...lines,
        ...bodies,
        ...attempts.rows.map((r) => `${r.errorCode} ${r.errorText}`),
        ...dead.rows.map((r) => `${r.reason} ${Buffer.from(r.payload).toString('utf8')}`),
      ];
      const leaks = written.filter((w) => forbidden.some((f) => w.includes(f)));
      expect(leaks).toEqual([]);
    });
  },
);
