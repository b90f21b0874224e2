import { signUserToken } from '../../src/auth/userToken';
import { ADMIN_TOKEN, auth, createTestApp, type TestApp } from '../support/testApp';
import { createTestPglite, type TestDatabase } from '../support/testDatabase';

const JWT_SECRET = 'route-auth-jwt-secret-0123456789abcdef-01';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
/** The /v1 operations of DESIGN.md's table plus those added since; the document may grow, never shrink. */
const KNOWN_MINIMUM = 25;
/** The WebSocket route answers only with a user token; test/security/userTokens.test.ts covers it. */
const SOCKET = 'GET /v1/ws';

/** Plausible values, so the request reaches the route rather than the 404 guard. */
const PARAM_VALUES: Record<string, string> = {
  code: 'order_shipped',
  name: 'default-smtp',
  id: '6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5',
  userId: 'u-17',
  version: '1',
  key: 'ops-oncall',
  address: 'li@example.com',
};
/** Routes about the caller itself (/v1/me/...): a user token only, as the admin is nobody's self. */
const isSelfRoute = (url: string) => url.startsWith('/v1/me/');

/** `METHOD /path/:param` of every route Fastify serves, from its route tree (HEAD is implied by GET). */
function servedRoutes(tree: string): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (.+?) \(([^)]+)\)$/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    const path = `${depth === 0 ? '' : stack[depth - 1]}${m[2]}`;
    stack[depth] = path;
    for (const method of (m[3] ?? '').split(', ')) if (method !== 'HEAD') out.push(`${method} ${path}`);
  }
  return out;
}

interface Operation {
  method: Uppercase<(typeof METHODS)[number]>;
  url: string;
  userOrAdmin: boolean;
}

async function operations(t: TestApp): Promise<Operation[]> {
  const res = await t.app.inject({ method: 'GET', url: '/docs/json' });
  expect(res.statusCode).toBe(200);
  const doc = res.json<{ paths: Record<string, Partial<Record<string, { description?: string }>>> }>();
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const m of METHODS) {
      if (!item[m]) continue;
      const url = path.replace(/\{(\w+)\}/g, (_all, p: string) => {
        const v = PARAM_VALUES[p];
        if (v === undefined) throw new Error(`no sample value for path parameter {${p}} of ${path}`);
        return encodeURIComponent(v);
      });
      ops.push({
        method: m.toUpperCase() as Operation['method'],
        url,
        userOrAdmin: path.startsWith('/v1/users/{userId}/inbox') || isSelfRoute(path),
      });
    }
  }
  return ops;
}

describe('every /v1 route in the OpenAPI document refuses callers without the right token', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  let ops: Operation[];

  // Migrating an in-memory PGlite and building the whole app takes 20 s on a loaded 2-core machine.
  beforeAll(async () => {
    tdb = await createTestPglite();
    // The sweep fails authentication on purpose, many times over; the limit has its own suite.
    t = await createTestApp(tdb.db, { HERALD_JWT_SECRET: JWT_SECRET, HERALD_AUTH_FAILURE_LIMIT: '0' });
    ops = (await operations(t)).filter((o) => `${o.method} ${o.url}` !== SOCKET);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await tdb?.drop();
  });

  const send = (op: Operation, headers: Record<string, string>) =>
    t.app.inject({
      method: op.method,
      url: op.url,
      headers,
      // A body that would pass or fail validation must not matter: auth comes first.
      ...(op.method === 'POST' || op.method === 'PUT' || op.method === 'PATCH' ? { payload: {} } : {}),
    });

  it('documents every /v1 route Fastify serves, so none escapes the sweep', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json<{
      paths: Record<string, object>;
    }>();
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.filter((m) => m in item).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const served = servedRoutes(t.app.printRoutes({ commonPrefix: false })).filter((r) =>
      r.split(' ')[1]?.startsWith('/v1/'),
    );
    expect(served.length).toBeGreaterThanOrEqual(KNOWN_MINIMUM);
    expect(served.filter((r) => !documented.includes(r))).toEqual([]);
  });

  it('lists at least the known routes, the resources of DESIGN.md among them', () => {
    expect(ops.length).toBeGreaterThanOrEqual(KNOWN_MINIMUM);
    expect(ops.map((o) => `${o.method} ${o.url.split('/')[2]}`)).toEqual(
      expect.arrayContaining([
        'POST templates',
        'POST channel-accounts',
        'POST messages',
        'GET deliveries',
        'GET users',
        'POST users',
        'GET dead-letters',
        'DELETE dead-letters',
        'GET digests',
        'GET escalations',
      ]),
    );
  });

  it('reaches every route with the admin token (so a 401 below is the route refusing, not a 404)', async () => {
    const reached: string[] = [];
    const self = { authorization: `Bearer ${signUserToken(JWT_SECRET, 'u-17')}` };
    for (const op of ops) {
      const res = await send(op, isSelfRoute(op.url) ? self : auth);
      const code = String(res.headers['content-type']).includes('json')
        ? res.json<{ code?: string }>().code
        : '';
      if (res.statusCode !== 401 && code !== 'route_not_found') reached.push(`${op.method} ${op.url}`);
    }
    expect(reached).toEqual(ops.map((o) => `${o.method} ${o.url}`));
  });

  const badHeaders: Array<[string, Record<string, string>]> = [
    ['no Authorization header', {}],
    ['a wrong admin token', { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}X` }],
    ['the admin token under another scheme', { authorization: `Basic ${ADMIN_TOKEN}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ];

  it.each(badHeaders)('answers %s with 401 problem+json on every route', async (_label, headers) => {
    const wrong: string[] = [];
    for (const op of ops) {
      const res = await send(op, headers);
      const body = res.json<{ status?: number; code?: string }>();
      const ok =
        res.statusCode === 401 &&
        /^application\/problem\+json/.test(String(res.headers['content-type'])) &&
        res.headers['www-authenticate'] === 'Bearer' &&
        body.status === 401 &&
        (op.userOrAdmin ? /^token_/.test(body.code ?? '') : body.code === 'unauthorized');
      if (!ok) wrong.push(`${op.method} ${op.url} -> ${res.statusCode} ${res.body.slice(0, 120)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('does not take a user token on the admin routes, even the token of an admin-looking user', async () => {
    const userToken = signUserToken(JWT_SECRET, 'admin');
    const wrong: string[] = [];
    for (const op of ops.filter((o) => !o.userOrAdmin)) {
      const res = await send(op, { authorization: `Bearer ${userToken}` });
      if (res.statusCode !== 401) wrong.push(`${op.method} ${op.url} -> ${res.statusCode}`);
    }
    expect(wrong).toEqual([]);
  });

  it('refuses a token signed with another secret on the user routes', async () => {
    const forged = signUserToken('another-secret-0123456789abcdef-0123456789', PARAM_VALUES.userId as string);
    const userOps = ops.filter((o) => o.userOrAdmin);
    expect(userOps.length).toBeGreaterThanOrEqual(3);
    for (const op of userOps) {
      const res = await send(op, { authorization: `Bearer ${forged}` });
      expect([op.url, res.statusCode, res.json<{ code: string }>().code]).toEqual([
        op.url,
        401,
        'token_invalid_signature',
      ]);
    }
  });
});
