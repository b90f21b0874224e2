import { describeWith } from '../support/services';
import { createTestPglite, createTestPostgres } from '../support/testDatabase';
import { useTestApp } from '../support/testApp';

const orderShipped = {
  code: 'order_shipped',
  name: 'Order shipped',
  variables: { orderNo: 'string', eta: 'date', total: 'number', 'note?': 'string' },
  channels: {
    mail: { subject: 'Order {{ orderNo }} shipped', html: '<p>Hello {{ name }}, it arrives {{ eta }}.</p>' },
    im: { title: 'Order {{ orderNo }} shipped', body: 'Arrives {{ eta }}', url: '/orders/{{ orderNo }}' },
  },
  locales: { zh: { im: { title: '订单 {{ orderNo }} 已发货' } } },
};

describeWith(['postgres'], 'templates API on PostgreSQL', () => {
  const t = useTestApp(createTestPostgres);
  const changes: string[] = [];
  const call = t.call;

  beforeAll(() => {
    t.ctx.services.templates.onChange((code) => {
      changes.push(code);
    });
  });

  it('creates a template as version 1', async () => {
    const res = await call('POST', '/v1/templates', orderShipped);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      code: 'order_shipped',
      status: 'active',
      version: 1,
      currentVersion: 1,
      description: null,
      channels: orderShipped.channels,
      locales: orderShipped.locales,
    });
    expect(changes).toEqual(['order_shipped']);
  });

  it('keeps category and critical on each version: none and false by default, set per version', async () => {
    expect((await call('GET', '/v1/templates/order_shipped')).json()).toMatchObject({
      category: null,
      critical: false,
    });
    const alert = { ...orderShipped, code: 'disk_full', category: 'ops alerts', critical: true };
    const created = await call('POST', '/v1/templates', alert);
    expect([created.statusCode, created.json().category, created.json().critical]).toEqual([
      201,
      'ops alerts',
      true,
    ]);
    const calmer = await call('PUT', '/v1/templates/disk_full', {
      ...alert,
      category: 'ops',
      critical: false,
    });
    expect(calmer.json()).toMatchObject({ version: 2, category: 'ops', critical: false });
    const v1 = (await call('GET', '/v1/templates/disk_full?version=1')).json();
    expect([v1.category, v1.critical]).toEqual(['ops alerts', true]);
    const versions = (await call('GET', '/v1/templates/disk_full/versions')).json().items;
    expect(versions.map((v: { category: string; critical: boolean }) => [v.category, v.critical])).toEqual([
      ['ops', false],
      ['ops alerts', true],
    ]);
    const stored = await t.ctx.services.templates.getActiveVersion('disk_full');
    expect([stored?.category, stored?.critical]).toEqual(['ops', false]);
    await t.ctx.db.prisma.template.delete({ where: { code: 'disk_full' } });
  });

  it.each([
    ['empty', ''],
    ['longer than 64 characters', 'c'.repeat(65)],
    ['a control character', 'ops\nalerts'],
  ])('refuses a category that is %s with 400', async (_what, category) => {
    const res = await call('POST', '/v1/templates', { ...orderShipped, code: 'bad_category', category });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([expect.objectContaining({ path: 'body.category' })]);
  });

  it('refuses a duplicate code with 409', async () => {
    const res = await call('POST', '/v1/templates', orderShipped);
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json().code).toBe('template_exists');
  });

  it('refuses a body that breaks the schema with 400', async () => {
    const res = await call('POST', '/v1/templates', { ...orderShipped, code: 'bad code!', channels: {} });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('invalid_request');
  });

  it.each(['javascript:alert(1)', '//evil.example.net/{{ orderNo }}', 'data:{{ orderNo }}'])(
    'refuses an im url that cannot render to http(s) or a site path: %s',
    async (url) => {
      const res = await call('POST', '/v1/templates', {
        ...orderShipped,
        code: 'unsafe_link',
        channels: { im: { title: 't', body: 'b', url } },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors).toEqual([
        expect.objectContaining({
          path: 'body.channels.im.url',
          message: expect.stringContaining('http(s)'),
        }),
      ]);
    },
  );

  it('refuses a part naming a missing account or one of the wrong type, and warns of a channel it cannot send', async () => {
    const base = { code: 'accounted', name: 'Accounted', variables: {} };
    const missing = await call('POST', '/v1/templates', {
      ...base,
      channels: { mail: { account: 'no-such-smtp', subject: 's', html: 'h' } },
    });
    expect(missing.statusCode).toBe(422);
    expect(missing.json()).toMatchObject({ code: 'unknown_account', errors: [{ path: 'mail.account' }] });

    const robot = await call('POST', '/v1/channel-accounts', {
      name: 'ops-robot',
      type: 'dingtalk-robot',
      config: { webhook: 'https://oapi.dingtalk.com/robot/send?access_token=tok-1' },
    });
    expect(robot.statusCode).toBe(201);
    const wrongType = await call('POST', '/v1/templates', {
      ...base,
      channels: { mail: { account: 'ops-robot', subject: 's', html: 'h' } },
    });
    expect(wrongType.statusCode).toBe(422);
    expect(wrongType.json()).toMatchObject({ code: 'wrong_account_type' });
    expect(wrongType.json().detail).toContain('needs a smtp account');

    const unsendable = await call('POST', '/v1/templates', {
      ...base,
      channels: { dingtalk: { msgtype: 'text', text: 'hello' } },
    });
    expect(unsendable.statusCode).toBe(201);
    const warning =
      'dingtalk: the part names no DingTalk robot account and that type has no default, so its deliveries fail with no_account';
    expect(unsendable.json().warnings).toEqual([warning]);
    expect((await call('GET', '/v1/templates/accounted')).json().warnings).toEqual([warning]);
    const fixed = await call('PUT', '/v1/templates/accounted', {
      ...base,
      channels: { dingtalk: { account: 'ops-robot', msgtype: 'text', text: 'hello' } },
    });
    expect([fixed.statusCode, fixed.json().warnings]).toEqual([200, []]);
    // Out of the way of the listing test below.
    await t.ctx.db.prisma.template.delete({ where: { code: 'accounted' } });
  });

  it('refuses a part using an undeclared variable, naming it and the nearest declared name', async () => {
    const res = await call('POST', '/v1/templates', {
      code: 'typo_var',
      name: 'Typo',
      variables: { orderNo: 'string', 'eta?': 'date' },
      channels: {
        mail: { subject: 'Order {{ ordrNo }}', html: '<p>Hi {{ name }}, {{ recipient.email }}</p>' },
        im: {
          title: '{% assign n = orderNo %}{{ n }} {{ eta }}',
          body: '{% for i in (1..2) %}{{ i }}{% endfor %}',
        },
      },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({
      code: 'undeclared_variable',
      errors: [{ channel: 'mail', field: 'subject', variable: 'ordrNo', didYouMean: 'orderNo' }],
    });
    expect(res.json().detail).toMatch(
      /^mail\.subject uses ordrNo, which the template does not declare \(did you mean orderNo\?\)/,
    );
    expect((await call('GET', '/v1/templates/typo_var')).statusCode).toBe(404);
  });

  it('previews unsaved content listing every problem at its place, then renders it once they are fixed', async () => {
    const draft = {
      variables: { orderNo: 'string', eta: 'date' },
      channels: {
        mail: { subject: 'Order {{ ordrNo }}', html: '<p>{% if %}</p>' },
        im: { title: 'Order {{ orderNo }}', body: 'Hello {{ nme }}' },
      },
      locales: { zh: { im: { title: '订单 {{ order }}' } } },
    };
    const broken = await call('POST', '/v1/templates/preview', { template: draft, data: { orderNo: 7 } });
    expect(broken.statusCode).toBe(200);
    // A text that does not parse is the first thing to fix: its variables are not listed yet.
    expect(broken.json()).toMatchObject({
      channels: null,
      problems: {
        syntax: [{ channel: 'mail', field: 'html' }],
        undeclared: [],
        variables: [
          { variable: 'orderNo', problem: 'wrong_type', expected: 'string', got: 'number' },
          { variable: 'eta', problem: 'missing', expected: 'date' },
        ],
      },
    });
    draft.channels.mail.html = '<p>{{ orderNo }}</p>';
    const undeclared = (await call('POST', '/v1/templates/preview', { template: draft, data: {} })).json();
    expect(undeclared.problems.syntax).toEqual([]);
    expect(undeclared.problems.undeclared).toEqual([
      { channel: 'mail', field: 'subject', variable: 'ordrNo', didYouMean: 'orderNo' },
      { channel: 'im', field: 'body', variable: 'nme', didYouMean: 'name' },
      { channel: 'im', field: 'title', locale: 'zh', variable: 'order', didYouMean: 'orderNo' },
    ]);
    draft.channels.mail.subject = 'Order {{ orderNo }}';
    draft.channels.im.body = 'Hello {{ name }}';
    draft.locales.zh.im.title = '订单 {{ orderNo }}';
    const ok = await call('POST', '/v1/templates/preview', {
      template: draft,
      data: { orderNo: 'A-1', eta: '2026-11-25' },
      recipient: { name: 'Li', locale: 'zh-CN' },
    });
    expect(ok.json()).toMatchObject({
      locale: 'zh',
      channels: {
        mail: { subject: 'Order A-1', html: '<p>A-1</p>' },
        im: { title: '订单 A-1', body: 'Hello Li' },
      },
      problems: { syntax: [], undeclared: [], variables: [] },
    });
    // Nothing was saved.
    expect(
      (await call('GET', '/v1/templates?limit=200')).json().items.map((x: { code: string }) => x.code),
    ).not.toContain('draft');
  });

  it('refuses unparsable text at create with 422 naming channel, field, line and column', async () => {
    const res = await call('POST', '/v1/templates', {
      ...orderShipped,
      code: 'broken',
      channels: { mail: { subject: 'ok', html: '<p>\n  {{ orderNo </p>' } },
      locales: {},
    });
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.code).toBe('template_syntax');
    expect(body.detail).toMatch(/mail\.html does not parse at line 2, column 3/);
    expect(body.errors).toEqual([
      expect.objectContaining({ channel: 'mail', field: 'html', line: 2, column: 3 }),
    ]);
    expect((await call('GET', '/v1/templates/broken')).statusCode).toBe(404);
  });

  it('gets a template by code; 404 for an unknown one', async () => {
    const res = await call('GET', '/v1/templates/order_shipped');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      code: 'order_shipped',
      version: 1,
      variables: orderShipped.variables,
    });
    const missing = await call('GET', '/v1/templates/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('not_found');
    const { code: _code, ...content } = orderShipped;
    expect((await call('PUT', '/v1/templates/nope', content)).statusCode).toBe(404);
    expect((await call('DELETE', '/v1/templates/nope')).statusCode).toBe(404);
    expect((await call('GET', '/v1/templates/nope/versions')).statusCode).toBe(404);
    expect((await call('POST', '/v1/templates/nope/preview', { data: {} })).statusCode).toBe(404);
  });

  it('previews every channel with good data, in the recipient locale', async () => {
    const data = { orderNo: '981', eta: '2026-11-25', total: 3 };
    const res = await call('POST', '/v1/templates/order_shipped/preview', {
      data,
      recipient: { email: 'li@example.com', name: 'Li <Admin>', locale: 'zh-CN' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      version: 1,
      locale: 'zh',
      channels: {
        mail: { subject: 'Order 981 shipped', html: '<p>Hello Li &lt;Admin&gt;, it arrives 2026-11-25.</p>' },
        im: { title: '订单 981 已发货', body: 'Arrives 2026-11-25', url: '/orders/981' },
      },
    });
  });

  it('refuses preview data with a missing variable and wrong types, naming each', async () => {
    const res = await call('POST', '/v1/templates/order_shipped/preview', {
      data: { eta: 'soon', total: '3', note: 1 },
    });
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.code).toBe('invalid_variables');
    // jsonb does not keep key order, so neither does the list of problems.
    expect(body.errors).toHaveLength(4);
    expect(body.errors).toEqual(
      expect.arrayContaining([
        { variable: 'orderNo', problem: 'missing', expected: 'string', got: 'undefined' },
        { variable: 'eta', problem: 'wrong_type', expected: 'date', got: 'string' },
        { variable: 'total', problem: 'wrong_type', expected: 'number', got: 'string' },
        { variable: 'note', problem: 'wrong_type', expected: 'string', got: 'number' },
      ]),
    );
    expect(body.detail).toMatch(/orderNo is missing/);
  });

  it('updates to version 2 and keeps version 1 readable', async () => {
    changes.length = 0;
    const v2 = {
      ...orderShipped,
      name: 'Order shipped v2',
      channels: { ...orderShipped.channels, im: { title: 'Shipped: {{ orderNo }}', body: 'On its way' } },
    };
    const res = await call('PUT', '/v1/templates/order_shipped', v2);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ version: 2, currentVersion: 2, name: 'Order shipped v2' });
    expect(changes).toEqual(['order_shipped']);

    expect((await call('GET', '/v1/templates/order_shipped')).json()).toMatchObject({ version: 2 });
    const v1 = await call('GET', '/v1/templates/order_shipped?version=1');
    expect(v1.json()).toMatchObject({ version: 1, currentVersion: 2, channels: orderShipped.channels });
    expect((await call('GET', '/v1/templates/order_shipped/versions/1')).json()).toMatchObject({
      version: 1,
    });
    expect((await call('GET', '/v1/templates/order_shipped/versions/9')).statusCode).toBe(404);

    const versions = await call('GET', '/v1/templates/order_shipped/versions');
    expect(versions.statusCode).toBe(200);
    expect(versions.json().items.map((v: { version: number; name: string }) => [v.version, v.name])).toEqual([
      [2, 'Order shipped v2'],
      [1, 'Order shipped'],
    ]);

    const preview = await call('POST', '/v1/templates/order_shipped/preview?version=1', {
      data: { orderNo: '5', eta: '2026-01-01', total: 1 },
    });
    expect(preview.json()).toMatchObject({ version: 1, channels: { im: { title: 'Order 5 shipped' } } });
  });

  it('refuses unparsable text at update with 422 and keeps the current version', async () => {
    const res = await call('PUT', '/v1/templates/order_shipped', {
      ...orderShipped,
      locales: { en: { mail: { subject: 'fine', html: 'x {% for a in b %} y' } } },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({
      code: 'template_syntax',
      errors: [expect.objectContaining({ locale: 'en', channel: 'mail', field: 'html', line: 1, column: 3 })],
    });
    expect((await call('GET', '/v1/templates/order_shipped')).json().currentVersion).toBe(2);
  });

  it('refuses a PUT whose body names another code', async () => {
    const res = await call('PUT', '/v1/templates/order_shipped', { ...orderShipped, code: 'other' });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('code_mismatch');
  });

  it('gives dispatch the active version, cached, and nothing once archived', async () => {
    const svc = t.ctx.services.templates;
    const active = await svc.getActiveVersion('order_shipped');
    expect(active).toMatchObject({ code: 'order_shipped', version: 2 });
    expect(await svc.getActiveVersion('order_shipped')).toBe(active);

    changes.length = 0;
    const res = await call('DELETE', '/v1/templates/order_shipped');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'archived', currentVersion: 2 });
    expect(changes).toEqual(['order_shipped']);
    expect(await svc.getActiveVersion('order_shipped')).toBeUndefined();
    expect(await svc.getActiveVersion('never_existed')).toBeUndefined();

    // Archived versions stay readable.
    expect((await call('GET', '/v1/templates/order_shipped?version=1')).statusCode).toBe(200);
  });

  it('restores an archived template with PUT, as a new version', async () => {
    const res = await call('PUT', '/v1/templates/order_shipped', orderShipped);
    expect(res.json()).toMatchObject({ status: 'active', version: 3 });
    expect(await t.ctx.services.templates.getActiveVersion('order_shipped')).toMatchObject({ version: 3 });
  });

  it('numbers concurrent updates consecutively', async () => {
    const results = await Promise.all(
      [1, 2, 3].map(() => call('PUT', '/v1/templates/order_shipped', orderShipped)),
    );
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(results.map((r) => r.json().version).sort()).toEqual([4, 5, 6]);
    const versions = (await call('GET', '/v1/templates/order_shipped/versions')).json().items;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it('lists with a cursor and filters by status and channel', async () => {
    const mk = (code: string, channels: object) =>
      call('POST', '/v1/templates', { code, name: code, variables: { x: 'string' }, channels });
    for (let i = 0; i < 4; i += 1)
      expect((await mk(`list_${i}`, { dingtalk: { msgtype: 'text', text: 'n {{ x }}' } })).statusCode).toBe(
        201,
      );
    await call('DELETE', '/v1/templates/list_1');

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/templates?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await call('GET', url);
      expect(page.statusCode).toBe(200);
      const body = page.json() as { items: Array<{ code: string }>; nextCursor: string | null };
      seen.push(...body.items.map((i) => i.code));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(['list_3', 'list_2', 'list_1', 'list_0', 'order_shipped']);

    const codes = async (query: string) =>
      ((await call('GET', `/v1/templates?${query}`)).json().items as Array<{ code: string }>).map(
        (i) => i.code,
      );
    expect(await codes('channel=dingtalk&status=active')).toEqual(['list_3', 'list_2', 'list_0']);
    expect(await codes('status=archived')).toEqual(['list_1']);
    expect(await codes('channel=mail')).toEqual(['order_shipped']);

    const forged = Buffer.from(JSON.stringify({ c: new Date().toISOString(), i: 'x' })).toString('base64url');
    for (const cursor of ['garbage', forged]) {
      const bad = await call('GET', `/v1/templates?cursor=${cursor}`);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().code).toBe('invalid_cursor');
    }
  });

  it('documents the routes under the templates tag', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(doc.paths['/v1/templates/{code}/preview'].post.tags).toEqual(['templates']);
    expect(doc.paths['/v1/templates'].get).toBeDefined();
    const create = doc.components.schemas.TemplateCreate.properties;
    expect(create.category).toMatchObject({ type: 'string', minLength: 1, maxLength: 64 });
    expect(create.critical).toMatchObject({ type: 'boolean', default: false });
    expect(doc.components.schemas.Template.required).toEqual(
      expect.arrayContaining(['category', 'critical']),
    );
  });

  it('refuses requests without the admin token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/templates' });
    expect(res.statusCode).toBe(401);
  });
});

describe('templates API on the embedded PGlite', () => {
  const t = useTestApp(createTestPglite);

  it('creates, updates in a transaction and keeps version 1', async () => {
    const call = t.call;
    expect((await call('POST', '/v1/templates', orderShipped)).statusCode).toBe(201);
    const v2 = await call('PUT', '/v1/templates/order_shipped', { ...orderShipped, name: 'v2' });
    expect(v2.json()).toMatchObject({ version: 2, name: 'v2' });
    expect((await call('GET', '/v1/templates/order_shipped?version=1')).json()).toMatchObject({
      version: 1,
      name: 'Order shipped',
    });
  });
});
