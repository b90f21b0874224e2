import { signUserToken } from '../../src/auth/userToken';
import { topologyNames } from '../../src/broker/topologyNames';
import { createTestPglite, type TestDatabase } from '../support/testDatabase';
import { imJob } from './support/imJobs';
import { JWT_SECRET, startImServer, type ImTestServer } from './support/imTestServer';
import { connect, type TestClient } from './support/wsClient';

/** The embedded default: PGlite and the in-process bus, no PostgreSQL or RabbitMQ. */
describe('IM gateway, embedded (no AMQP_URL)', () => {
  let tdb: TestDatabase;
  let s: ImTestServer;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    tdb = await createTestPglite();
    s = await startImServer({ db: tdb.db, names: topologyNames() });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await s?.close();
    await tdb?.drop();
  });

  it('pushes items and unread counts through the in-process bus', async () => {
    const tab1 = await connect(s.wsBase, { token: signUserToken(JWT_SECRET, 'embedded-user') });
    const tab2 = await connect(s.wsBase, { token: signUserToken(JWT_SECRET, 'embedded-user') });
    clients.push(tab1, tab2);
    await s.imSender.send(imJob('embedded-user', 'hello there'));
    const m = await tab2.waitFor('message');
    expect(m).toMatchObject({ item: { seq: 1, title: 'hello there' }, unread: 1 });
    tab1.send({ type: 'read', ids: [m.item.id] });
    await tab2.waitFor('changed', (f) => f.unread === 0);
  });
});
