import WebSocket from 'ws';
import { signUserToken } from '../../src/auth/userToken';
import type { ServerFrame as GatewayFrame } from '../../src/gateway/protocol';
import {
  connect,
  switchedOn,
  withSwitch,
  type HeraldInbox,
  type InboxItem,
  type Preferences,
  type ServerFrame,
} from '../../web/client';
import type { Preferences as StoredPreferences } from '../../src/contract/subscriber';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy';
import { heraldApi, type HeraldApi } from '../support/heraldApi';
import { describeWith } from '../support/services';
import {
  createTestDeployment,
  eventually,
  JWT_SECRET,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import type { SocketConstructor } from '../../web/client/types';

// The browser client's frame types must accept every frame the gateway's schema allows.
const gatewayFramesFit = (f: GatewayFrame): ServerFrame => f;
void gatewayFramesFit;
// And its preferences must be what the API stores, both ways.
const preferencesFit = (p: StoredPreferences): Preferences => p;
const preferencesFitBack = (p: Preferences): StoredPreferences => p;
void preferencesFit;
void preferencesFitBack;

const Socket = WebSocket as unknown as SocketConstructor;

describeWith(['postgres', 'rabbitmq'], 'browser client against a real gateway', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let api: HeraldApi;
  let proxy: TcpProxy;
  const clients: HeraldInbox[] = [];

  const publish = (id: string, userId: string, n: number) =>
    api.post('/v1/messages', { id, template: 'note', to: [{ userId }], data: { n: String(n) } }, 202);

  /** A client through the proxy, recording every `item` event and every status it went through. */
  function client(
    userId: string,
    token: () => Promise<string> = async () => signUserToken(JWT_SECRET, userId),
  ) {
    const events: InboxItem[] = [];
    const statuses: string[] = [];
    const errors: string[] = [];
    const inbox = connect({
      url: `http://127.0.0.1:${proxy.port}`,
      token,
      WebSocket: Socket,
      backoff: { initialMs: 100, maxMs: 400 },
    });
    inbox.on('item', (i) => events.push(i));
    inbox.on('status', (s) => statuses.push(s.error ? `${s.status}:${s.error.code}` : s.status));
    inbox.on('error', (e) => errors.push(e.code));
    clients.push(inbox);
    return { inbox, events, statuses, errors };
  }

  beforeAll(async () => {
    dep = createTestDeployment();
    h = await dep.start();
    api = heraldApi(h.baseUrl);
    await api.createTemplate({
      code: 'note',
      name: 'Note',
      variables: { n: 'string' },
      channels: { im: { title: 'Note {{ n }}', body: 'body {{ n }}' } },
    });
    proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(h.baseUrl).port) });
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await proxy?.close();
    await dep?.destroy();
  }, 60_000);

  it('loses the network during a burst of 100 items and ends with each of them once', async () => {
    const c = client('u-burst');
    await eventually(async () => c.inbox.status === 'open', 10_000, 'the first connection');
    let cut = false;
    const cutAt30 = c.inbox.on('item', () => {
      if (cut || c.events.length < 30) return;
      cut = true;
      void proxy.down().then(() => setTimeout(() => void proxy.up(), 300));
    });
    for (let start = 0; start < 100; start += 10)
      await Promise.all(
        Array.from({ length: 10 }, (_, k) => publish(`burst-${start + k}`, 'u-burst', start + k)),
      );
    await eventually(async () => c.events.length >= 100, 30_000, 'all 100 items in the client');
    cutAt30();
    await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive in this time
    expect(cut).toBe(true);
    const ids = c.events.map((i) => i.id);
    expect(new Set(ids).size).toBe(100);
    expect(ids).toHaveLength(100);
    expect(c.inbox.items()).toHaveLength(100);
    expect(new Set(c.inbox.items().map((i) => i.title))).toEqual(
      new Set(Array.from({ length: 100 }, (_, n) => `Note ${n}`)),
    );
    // It went offline and came back, and the count matches the server's.
    expect(c.statuses.filter((s) => s === 'open').length).toBeGreaterThanOrEqual(2);
    expect(c.statuses.some((s) => s.startsWith('offline'))).toBe(true);
    expect(c.inbox.unread).toBe(100);
  }, 90_000);

  it('pages in over HTTP what a resume hello could not carry (more than 200 missed)', async () => {
    const c = client('u-gap');
    await eventually(async () => c.inbox.status === 'open', 10_000, 'the first connection');
    await publish('gap-first', 'u-gap', 0);
    await eventually(async () => c.events.length === 1, 10_000, 'the first item');
    await proxy.down();
    for (let start = 1; start <= 230; start += 10)
      await Promise.all(
        Array.from({ length: 10 }, (_, k) => publish(`gap-${start + k}`, 'u-gap', start + k)),
      );
    await eventually(async () => (await api.inboxCount('u-gap')) >= 200, 30_000, 'items stored offline');
    await eventually(
      async () => {
        const all = await api.call<{ items: unknown[] }>('GET', '/v1/users/u-gap/inbox?since=200&limit=200');
        return all.body.items.length === 31;
      },
      30_000,
      'all 231 stored',
    );
    await proxy.up();
    await eventually(async () => c.events.length >= 231, 30_000, 'all 231 items in the client');
    await new Promise((r) => setTimeout(r, 300));
    expect(new Set(c.events.map((i) => i.id)).size).toBe(231);
    expect(c.events).toHaveLength(231);
    expect(c.inbox.unread).toBe(231);
  }, 90_000);

  it('reconnects with a fresh token when the server closes with 4001 at the token expiry', async () => {
    let issued = 0;
    const c = client('u-exp', async () => {
      issued += 1;
      return signUserToken(JWT_SECRET, 'u-exp', 2); // lives 2 s
    });
    await eventually(async () => c.inbox.status === 'open', 10_000, 'the first connection');
    expect(issued).toBe(1);
    await eventually(async () => issued >= 2, 10_000, 'a fresh token after the expiry');
    await eventually(async () => c.inbox.status === 'open', 10_000, 'the second connection');
    await publish('exp-1', 'u-exp', 1);
    await eventually(async () => c.events.length === 1, 10_000, 'the item after the new token');
    // The expiry closed a good connection: reconnected at once, never through a refused upgrade.
    expect(c.statuses).not.toContain('offline:token_expired');
    expect(c.events[0]?.title).toBe('Note 1');
  }, 30_000);

  it('marks read in one client and the other sees the count and the item read', async () => {
    const a = client('u-two');
    const b = client('u-two');
    await eventually(async () => a.inbox.status === 'open' && b.inbox.status === 'open', 10_000, 'both');
    await publish('two-1', 'u-two', 1);
    await publish('two-2', 'u-two', 2);
    await eventually(async () => a.inbox.unread === 2 && b.inbox.unread === 2, 10_000, 'two unread in both');
    const first = a.inbox.items().find((i) => i.title === 'Note 1');
    await a.inbox.markRead([first!.id]);
    await eventually(async () => b.inbox.unread === 1, 10_000, 'the count in the other client');
    await eventually(
      async () => b.inbox.items().find((i) => i.title === 'Note 1')?.readAt != null,
      10_000,
      'the item read in the other client',
    );
    expect(b.inbox.items().find((i) => i.title === 'Note 2')?.readAt).toBeNull();
    await b.inbox.markAllRead();
    await eventually(async () => a.inbox.unread === 0, 10_000, 'all read in the first client');
    expect(a.inbox.items().every((i) => i.readAt !== null)).toBe(true);
  }, 30_000);

  it('keeps two clients in step through seen, archive, snooze (and its return) and an action', async () => {
    await api.createTemplate({
      code: 'approval',
      name: 'Approval',
      variables: { n: 'string' },
      channels: {
        im: {
          title: 'Approve {{ n }}',
          body: 'please',
          actions: {
            primary: { label: 'Approve', key: 'approve' },
            secondary: { label: 'Open', url: '/r/{{ n }}' },
          },
        },
      },
    });
    const a = client('u-states');
    const b = client('u-states');
    await eventually(async () => a.inbox.status === 'open' && b.inbox.status === 'open', 10_000, 'both open');
    for (const n of ['1', '2', '3'])
      await api.post(
        '/v1/messages',
        { id: `states-${n}`, template: 'approval', to: [{ userId: 'u-states' }], data: { n } },
        202,
      );
    await eventually(
      async () => b.inbox.items().length === 3 && b.inbox.counts?.unseen === 3,
      10_000,
      'three in b',
    );
    const id = (t: string) => a.inbox.items().find((i) => i.title === t)!.id;
    const versions: number[] = [];
    b.inbox.on('counts', (c) => versions.push(c.version));

    await a.inbox.markSeen([id('Approve 1')]);
    await eventually(async () => b.inbox.counts?.unseen === 2, 10_000, 'seen counted in b');
    expect(b.inbox.counts?.unread).toBe(3);

    await a.inbox.archive([id('Approve 2')]);
    await eventually(async () => b.inbox.items().length === 2, 10_000, 'archived gone from b');
    expect(b.inbox.unread).toBe(2);

    await a.inbox.act(id('Approve 1'), 'primary');
    await eventually(
      async () => b.inbox.items().find((i) => i.title === 'Approve 1')?.action === 'approve',
      10_000,
      'the action in b',
    );
    expect(b.inbox.unread).toBe(1); // taking an action reads the item

    const snoozedId = id('Approve 3');
    await a.inbox.snooze([snoozedId], { until: new Date(Date.now() + 1500).toISOString() });
    await eventually(async () => b.inbox.items().length === 1, 10_000, 'snoozed gone from b');
    expect(b.inbox.unread).toBe(0);
    await eventually(
      async () => b.inbox.items().some((i) => i.id === snoozedId) && b.inbox.unread === 1,
      30_000,
      'the snoozed item back in b',
    );
    // Every version b saw is higher than the one before: none was applied out of order.
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
    expect(new Set(versions).size).toBe(versions.length);
    // The item came back once more as the same item: b announced it only when it first arrived.
    expect(b.events.filter((i) => i.id === snoozedId)).toHaveLength(1);
  }, 60_000);

  it("reads and replaces the user's own preferences with their token, switch by switch", async () => {
    const c = client('u-prefs');
    const empty = { channels: {}, categories: {} };
    expect(await c.inbox.preferences()).toEqual(empty);
    let p = withSwitch(await c.inbox.preferences(), { channel: 'mail' }, false);
    p = withSwitch(p, { category: 'billing', channel: 'im' }, false);
    expect(await c.inbox.setPreferences(p)).toEqual({
      channels: { mail: false },
      categories: { billing: { channels: { im: false } } },
    });
    expect(switchedOn(p, { category: 'billing' })).toBe(true);
    expect(switchedOn(p, { category: 'billing', channel: 'im' })).toBe(false);
    expect(await api.expectStatus(200, 'GET', '/v1/subscribers/u-prefs/preferences')).toEqual(p);
    p = withSwitch(withSwitch(p, { channel: 'mail' }, true), { category: 'billing', channel: 'im' }, true);
    expect(p).toEqual(empty);
    expect(await c.inbox.setPreferences(p)).toEqual(empty);
  });

  it('reads and replaces the preferences over the socket while it is open, over HTTP while it is not', async () => {
    const httpCalls: string[] = [];
    const countingFetch: typeof fetch = (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.includes('/me/preferences'))
        httpCalls.push(`${init?.method ?? 'GET'} ${new URL(url).pathname}`);
      return fetch(input, init);
    };
    const inbox = connect({
      url: `http://127.0.0.1:${proxy.port}`,
      token: async () => signUserToken(JWT_SECRET, 'u-ws-prefs'),
      WebSocket: Socket,
      fetch: countingFetch,
      backoff: { initialMs: 100, maxMs: 400 },
    });
    clients.push(inbox);
    // No socket yet: HTTP.
    expect(inbox.status).toBe('connecting');
    expect(await inbox.preferences()).toEqual({ channels: {}, categories: {} });
    expect(httpCalls).toEqual(['GET /v1/me/preferences']);

    await eventually(async () => inbox.status === 'open', 10_000, 'the socket open');
    httpCalls.length = 0;
    const off = withSwitch({ channels: {}, categories: {} }, { channel: 'mail' }, false);
    expect(await inbox.setPreferences(off)).toEqual({ channels: { mail: false }, categories: {} });
    expect(await inbox.preferences()).toEqual(off);
    // Two at once are told apart by their refs.
    const both = await Promise.all([
      inbox.preferences(),
      inbox.setPreferences(withSwitch(off, { category: 'billing' }, false)),
    ]);
    expect(both[1]).toEqual({ channels: { mail: false }, categories: { billing: { enabled: false } } });
    expect(httpCalls).toEqual([]);
    expect(await api.expectStatus(200, 'GET', '/v1/subscribers/u-ws-prefs/preferences')).toEqual(both[1]);
    // A value the server refuses rejects with its code, and changes nothing.
    await expect(
      inbox.setPreferences({ channels: { mail: 'off' }, categories: {} } as unknown as typeof off),
    ).rejects.toMatchObject({ code: 'invalid_frame' });
    expect(await inbox.preferences()).toEqual(both[1]);
    expect(httpCalls).toEqual([]);
  });

  it('pages older items over the HTTP inbox without repeating what it holds', async () => {
    for (let n = 0; n < 12; n += 1) await publish(`old-${n}`, 'u-old', n);
    await eventually(async () => (await api.inboxCount('u-old')) === 12, 20_000, 'twelve stored');
    await api.post('/v1/users/u-old/inbox/read', { all: true }, 200);
    await publish('old-new', 'u-old', 99);
    await eventually(async () => (await api.inboxCount('u-old')) === 13, 20_000, 'the unread one stored');
    const inbox = connect({
      url: h.baseUrl,
      token: async () => signUserToken(JWT_SECRET, 'u-old'),
      WebSocket: Socket,
      pageSize: 5,
    });
    clients.push(inbox);
    await eventually(async () => inbox.status === 'open', 10_000, 'connected');
    expect(inbox.items().map((i) => i.title)).toEqual(['Note 99']); // hello: the unread one
    const pages: number[] = [];
    for (;;) {
      const page = await inbox.loadOlder();
      pages.push(page.items.length);
      if (page.done) break;
    }
    expect(pages).toEqual([4, 5, 3]); // the first page held the unread item already
    // Newest first by seq (the consumer may store a burst in another order than it was posted).
    const held = inbox.items();
    expect(held.map((i) => i.seq)).toEqual([...held.map((i) => i.seq)].sort((x, y) => y - x));
    expect(held[0]?.title).toBe('Note 99');
    expect(new Set(held.map((i) => i.title))).toEqual(
      new Set(['Note 99', ...Array.from({ length: 12 }, (_, k) => `Note ${k}`)]),
    );
    expect(held).toHaveLength(13);
  }, 60_000);
});
