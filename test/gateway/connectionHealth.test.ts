import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { signUserToken } from '../../src/auth/userToken';
import { describeWith } from '../support/services';
import { createTestPostgres, type TestDatabase } from '../support/testDatabase';
import { createBrokerFixture } from './support/brokerFixture';
import { eventually, imJob } from './support/imJobs';
import { JWT_SECRET, startImServer, type ImTestServer } from './support/imTestServer';
import { connect, type TestClient } from './support/wsClient';

const token = (userId: string) => signUserToken(JWT_SECRET, userId);
/** Stops reading from the socket, as a stalled client or a dead network path would. */
const stopReading = (c: TestClient) => (c.ws as unknown as { _socket: Socket })._socket.pause();
const resumeReading = (c: TestClient) => (c.ws as unknown as { _socket: Socket })._socket.resume();

describeWith(['postgres', 'rabbitmq'], 'IM gateway: health of connections', () => {
  const broker = createBrokerFixture();
  let tdb: TestDatabase;
  const servers: ImTestServer[] = [];
  const clients: TestClient[] = [];
  const start = async (env: Record<string, string>) => {
    const s = await startImServer({ db: tdb.db, names: broker.names, broker: await broker.connect(), env });
    servers.push(s);
    return s;
  };
  const open = async (s: ImTestServer, userId: string) => {
    const c = await connect(s.wsBase, { token: token(userId) });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    tdb = await createTestPostgres();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.close();
    await broker.cleanup();
    await tdb?.drop();
  });

  it('closes a socket that stops reading (4008) while the user’s other socket gets every item', async () => {
    const s = await start({ HERALD_WS_MAX_BUFFERED_BYTES: String(64 * 1024) });
    const user = `u-${randomUUID()}`;
    const fast = await open(s, user);
    const slow = await open(s, user);
    stopReading(slow);

    // Far more than the loopback socket buffers hold, so the server-side buffer has to grow.
    const body = 'x'.repeat(256 * 1024);
    const total = 96;
    for (let b = 0; b < total / 8; b++) {
      await s.imSender.sendMany(
        Array.from({ length: 8 }, (_, i) => imJob(user, `big-${b * 8 + i}`, { body })),
      );
    }
    await fast.waitFor('message', (m) => m.item.title === `big-${total - 1}`, 20_000);
    expect(fast.messages()).toHaveLength(total);
    expect(s.im.gateway?.connectionCount(user)).toBe(1);

    resumeReading(slow);
    expect(await slow.closed).toEqual({ code: 4008, reason: 'slow consumer: reconnect with since' });
    expect(slow.messages().length).toBeLessThan(total);
  });

  it('drops a socket that stops answering heartbeats and keeps the live ones', async () => {
    const s = await start({ HERALD_WS_HEARTBEAT_MS: '150' });
    const [deadUser, liveUser] = [`d-${randomUUID()}`, `l-${randomUUID()}`];
    const dead = await open(s, deadUser);
    const live = await open(s, liveUser);
    stopReading(dead);
    await eventually(() => s.im.gateway?.connectionCount(deadUser) === 0, 3000);
    await new Promise((r) => setTimeout(r, 400));
    expect(s.im.gateway?.connectionCount(liveUser)).toBe(1);
    await s.imSender.send(imJob(liveUser, 'still here'));
    await live.waitFor('message', (m) => m.item.title === 'still here');
  });

  it('closes sockets with 1001 when the gateway shuts down', async () => {
    const s = await start({});
    const c = await open(s, `s-${randomUUID()}`);
    await s.im.gateway?.close();
    expect(await c.closed).toEqual({ code: 1001, reason: 'server shutting down' });
  });
});
