import { signUserToken } from '../../src/auth/userToken';
import { connect, connectRefused } from '../gateway/support/wsClient';
import {
  createContractCheck,
  operationsOf,
  schemaValidator,
  type OpenApiDocument,
  type Operation,
} from '../support/openapiContract';
import { describeWith } from '../support/services';
import { ADMIN_TOKEN } from '../support/testApp';
import {
  createTestDeployment,
  JWT_SECRET,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

describeWith(['postgres', 'rabbitmq'], 'the published OpenAPI document matches what the API answers', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let doc: OpenApiDocument;
  let ops: Operation[];
  const op = (key: string) => {
    const found = ops.find((o) => o.key === key);
    if (!found) throw new Error(`${key} is not documented`);
    return found;
  };

  beforeAll(async () => {
    dep = createTestDeployment();
    h = await dep.start();
    doc = (await (await fetch(`${h.baseUrl}/docs/json`)).json()) as OpenApiDocument;
    ops = operationsOf(doc);
  }, 60_000);
  afterAll(() => dep?.destroy(), 60_000);

  it('documents every Problem response as application/problem+json, never application/json', () => {
    const wrong: string[] = [];
    let problems = 0;
    for (const o of ops)
      for (const [status, r] of Object.entries(o.op.responses)) {
        const json = JSON.stringify(r.content ?? {});
        if (!json.includes('#/components/schemas/Problem')) continue;
        problems++;
        if (!r.content?.['application/problem+json'] || r.content['application/json'])
          wrong.push(`${o.key} ${status}`);
      }
    expect(problems).toBeGreaterThan(50);
    expect(wrong).toEqual([]);
  });

  it('documents 400, 401 and 429 on every /v1 route, and 413 and 415 on those that take a body', () => {
    const missing: string[] = [];
    for (const o of ops.filter((x) => x.path.startsWith('/v1/'))) {
      const need = [
        '400',
        '401',
        '429',
        ...(['post', 'put', 'patch', 'delete'].includes(o.method) ? ['413', '415'] : []),
      ];
      for (const s of need) if (!o.op.responses[s]) missing.push(`${o.key} ${s}`);
    }
    expect(missing).toEqual([]);
  });

  it('answers 413, 415, 400 and 401 with what the document says', async () => {
    const check = createContractCheck(doc);
    const create = op('POST /v1/templates');
    const answers = [
      await fetch(`${h.baseUrl}/v1/templates`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ code: 'big', name: 'x'.repeat(3 * 1024 * 1024) }),
      }),
      await fetch(`${h.baseUrl}/v1/templates`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/xml' },
        body: '<template code="x"/>',
      }),
      await fetch(`${h.baseUrl}/v1/templates`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: '{"code":',
      }),
      await fetch(`${h.baseUrl}/v1/templates`, { method: 'POST', body: '{}' }),
    ];
    const seen = [];
    for (const res of answers) {
      const body = await res.text();
      seen.push(res.status);
      expect(check(create, res.status, res.headers.get('content-type') ?? undefined, body)).toEqual([]);
    }
    expect(seen).toEqual([413, 415, 400, 401]);
  });

  it('takes any UUID in a path id, as its documented schema does', async () => {
    // Variant bits 00 (not RFC 9562's 10): a UUID to PostgreSQL and to format: uuid; zod's uuid() refused it.
    const id = '0b3f6a2e-1c4d-4e5f-0a6b-7c8d9e0f1a2b';
    for (const key of ['GET /v1/dead-letters/{id}', 'POST /v1/deliveries/{id}/retry']) {
      const o = op(key);
      const param = o.op.parameters?.find((p) => p.in === 'path');
      expect(param?.schema.format).toBe('uuid');
      expect(new RegExp(String(param?.schema.pattern)).test(id)).toBe(true);
      const res = await fetch(`${h.baseUrl}${o.path.replace('{id}', id)}`, {
        method: o.method,
        headers: admin,
      });
      expect(res.status).toBe(404);
    }
  });

  it('publishes the refinements JSON Schema can say: a template needs a channel, a recipient an address', () => {
    const template = schemaValidator(doc, '#/components/schemas/TemplateCreateInput');
    const base = { code: 'c', name: 'n', variables: {}, locales: {} };
    expect(template({ ...base, channels: {} })).toBe(false);
    expect(template({ ...base, channels: { im: { title: 't', body: 'b' } } })).toBe(true);
    // A template's throttle and deduplication, as the API takes them.
    const im = { im: { title: 't', body: 'b' } };
    expect(template({ ...base, channels: im, throttle: { limit: 3, window: '1m', key: 'p' } })).toBe(true);
    expect(template({ ...base, channels: im, throttle: { limit: 0, window: '1m' } })).toBe(false);
    expect(template({ ...base, channels: im, dedupe: { window: '10m' } })).toBe(true);
    expect(template({ ...base, channels: im, dedupe: { window: 'soon' } })).toBe(false);

    const envelope = schemaValidator(doc, '#/components/schemas/EnvelopeV1Input');
    const env = { id: 'e', template: 't', data: {} };
    expect(envelope({ ...env, to: [{ name: 'nobody' }] })).toBe(false);
    expect(envelope({ ...env, to: [{ email: 'a@example.com' }] })).toBe(true);
    expect(envelope({ ...env, to: [{ userId: 'u' }], delay: '5m', sendAt: '2030-01-01T00:00:00Z' })).toBe(
      false,
    );
  });

  it('documents GET /v1/ws with its 101, its 401s and its frames, and answers as documented', async () => {
    const ws = op('GET /v1/ws');
    expect(ws.schemes).toEqual(['userToken']);
    expect(Object.keys(ws.op.responses)).toEqual(expect.arrayContaining(['101', '401', '426']));
    expect(ws.op.description).toMatch(/hello/);
    expect(doc.components?.schemas).toHaveProperty('WsClientFrame');
    expect(doc.components?.schemas).toHaveProperty('WsServerFrame');

    const check = createContractCheck(doc);
    const refused = await connectRefused(h.baseUrl, {});
    expect(refused.status).toBe(401);
    expect(check(ws, 401, refused.contentType, JSON.stringify(refused.body))).toEqual([]);
    const adminToken = await connectRefused(h.baseUrl, { token: ADMIN_TOKEN });
    expect(adminToken.status).toBe(401);

    const token = signUserToken(JWT_SECRET, 'u-doc');
    const plain = await fetch(`${h.baseUrl}/v1/ws?token=${token}`);
    expect(plain.status).toBe(426);
    expect(check(ws, 426, plain.headers.get('content-type') ?? undefined, await plain.text())).toEqual([]);

    const client = await connect(h.baseUrl, { token });
    const hello = client.frames[0];
    client.close();
    expect(schemaValidator(doc, '#/components/schemas/WsServerFrame')(hello)).toBe(true);
  });
});
