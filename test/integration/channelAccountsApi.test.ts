import { robotAccount } from '../../src/senders/dingtalk/robotAccount';
import { smtpAccount } from '../../src/senders/mail/smtpAccount';
import { describeWith } from '../support/services';
import { useTestApp } from '../support/testApp';
import { createTestPglite, createTestPostgres } from '../support/testDatabase';

const smtp = (name: string, over: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  name,
  type: 'smtp',
  config: {
    host: 'smtp.example.com',
    port: 465,
    secure: true,
    user: 'noreply@example.com',
    password: `pw-${name}-Zq81`,
    from: 'Example <noreply@example.com>',
    ...over,
  },
  ...extra,
});
const robot = (name: string, over: Record<string, unknown> = {}) => ({
  name,
  type: 'dingtalk-robot',
  config: {
    webhook: `https://oapi.dingtalk.com/robot/send?access_token=tok-${name}-77aa`,
    secret: `SECsign${name.replace(/\W/g, '')}99`,
    ...over,
  },
});

describeWith(['postgres'], 'channel accounts API (PostgreSQL)', () => {
  const t = useTestApp(createTestPostgres, { HERALD_WEBHOOK_ALLOW_HOSTS: 'robot-gateway.example.net' });
  const call = t.call;
  const accounts = () => t.ctx.services.accounts;

  it('creates an SMTP account and shows it without its password', async () => {
    const res = await call('POST', '/v1/channel-accounts', smtp('crud-mail'));
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      name: 'crud-mail',
      type: 'smtp',
      config: { host: 'smtp.example.com', port: 465, secure: true, from: 'Example <noreply@example.com>' },
      secretsSet: ['password'],
      isDefault: false,
    });
    expect(res.json().config).not.toHaveProperty('password');

    const got = await call('GET', '/v1/channel-accounts/crud-mail');
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(res.json());
  });

  it('answers 409 account_exists for a second account of the same name', async () => {
    await call('POST', '/v1/channel-accounts', smtp('dup'));
    const res = await call('POST', '/v1/channel-accounts', robot('dup'));
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json().code).toBe('account_exists');
  });

  it('creates a robot, keeping the webhook token and signing secret out of the answer', async () => {
    const res = await call('POST', '/v1/channel-accounts', robot('crud-robot'));
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      type: 'dingtalk-robot',
      config: { webhook: 'https://oapi.dingtalk.com/robot/send' },
      secretsSet: ['access_token', 'secret'],
    });
    expect(await accounts().find(robotAccount, 'crud-robot')).toEqual({
      name: 'crud-robot',
      webhook: 'https://oapi.dingtalk.com/robot/send?access_token=tok-crud-robot-77aa',
      secret: 'SECsigncrudrobot99',
    });
  });

  it('stores only ciphertext in the secrets column, and no secret in config', async () => {
    await call('POST', '/v1/channel-accounts', robot('at-rest'));
    const row = await t.db.prisma.channelAccount.findUniqueOrThrow({ where: { name: 'at-rest' } });
    expect(row.type).toBe('dingtalk_robot');
    expect(row.secrets).toMatch(/^v1\./);
    const stored = row.secrets + JSON.stringify(row.config);
    expect(stored).not.toContain('tok-at-rest-77aa');
    expect(stored).not.toContain('SECsignatrest99');
    expect(row.config).toEqual({ webhook: 'https://oapi.dingtalk.com/robot/send' });
  });

  it('replaces the config on PUT, keeping a password that the PUT leaves out while it goes to the same server', async () => {
    await call('POST', '/v1/channel-accounts', smtp('keep-pw'));
    const res = await call('PUT', '/v1/channel-accounts/keep-pw', {
      type: 'smtp',
      config: { ...smtp('keep-pw', { password: undefined }).config, from: 'b@example.com' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ config: { from: 'b@example.com' }, secretsSet: ['password'] });
    expect(await accounts().find(smtpAccount, 'keep-pw')).toEqual({
      name: 'keep-pw',
      host: 'smtp.example.com',
      port: 465,
      secure: true,
      user: 'noreply@example.com',
      password: 'pw-keep-pw-Zq81',
      from: 'b@example.com',
    });

    await call('PUT', '/v1/channel-accounts/keep-pw', {
      type: 'smtp',
      config: smtp('keep-pw', { password: 'new-pw-1' }).config,
    });
    expect((await accounts().find(smtpAccount, 'keep-pw'))?.password).toBe('new-pw-1');
  });

  it.each([
    ['host', { host: 'attacker.example.net' }],
    ['port', { port: 2525 }],
    ['user', { user: 'someone-else' }],
    ['secure', { secure: false }],
  ])(
    'refuses a PUT that changes the SMTP %s without the password, and keeps the account as it was',
    async (field, change) => {
      const name = `moved-${field}`;
      await call('POST', '/v1/channel-accounts', smtp(name));
      const res = await call('PUT', `/v1/channel-accounts/${name}`, {
        type: 'smtp',
        config: { ...smtp(name, { password: undefined }).config, ...change },
      });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ code: 'secret_required', errors: { secrets: ['password'] } });
      expect(res.json().detail).toContain(field);
      expect(await accounts().find(smtpAccount, name)).toMatchObject({ host: 'smtp.example.com', port: 465 });

      const withPassword = await call('PUT', `/v1/channel-accounts/${name}`, {
        type: 'smtp',
        config: { ...smtp(name, { password: 'typed-again-1' }).config, ...change },
      });
      expect(withPassword.statusCode).toBe(200);
      expect(await accounts().find(smtpAccount, name)).toMatchObject({
        ...change,
        password: 'typed-again-1',
      });
    },
  );

  it('refuses a PUT that moves a robot to another host without its token and secret', async () => {
    await call('POST', '/v1/channel-accounts', robot('moved-robot'));
    // An allowed host (HERALD_WEBHOOK_ALLOW_HOSTS below), so the move itself is the only thing wrong.
    const res = await call('PUT', '/v1/channel-accounts/moved-robot', {
      type: 'dingtalk-robot',
      config: { webhook: 'https://robot-gateway.example.net/robot/send' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({
      code: 'secret_required',
      errors: { secrets: ['access_token (in the webhook URL)', 'secret'] },
    });
    expect((await accounts().find(robotAccount, 'moved-robot'))?.webhook).toMatch(
      /^https:\/\/oapi\.dingtalk\.com\//,
    );
  });

  it('refuses to change the type of an account on PUT', async () => {
    await call('POST', '/v1/channel-accounts', smtp('typed'));
    const { name: _name, ...body } = robot('typed');
    const res = await call('PUT', '/v1/channel-accounts/typed', body);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('account_type_change');
  });

  it('deletes an account: 204, then 404', async () => {
    await call('POST', '/v1/channel-accounts', robot('gone'));
    expect((await call('DELETE', '/v1/channel-accounts/gone')).statusCode).toBe(204);
    const again = await call('GET', '/v1/channel-accounts/gone');
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('not_found');
    expect((await call('DELETE', '/v1/channel-accounts/gone')).statusCode).toBe(404);
    await expect(accounts().find(robotAccount, 'gone')).rejects.toMatchObject({ code: 'unknown_account' });
  });

  it.each([
    ['a port out of range', smtp('bad', { port: 70000 }), 'body.config.port'],
    ['a port that is a string', smtp('bad', { port: '25' }), 'body.config.port'],
    ['no from', smtp('bad', { from: undefined }), 'body.config.from'],
    ['a from that is no address', smtp('bad', { from: 'nobody' }), 'body.config.from'],
    ['an unknown config field', smtp('bad', { passwd: 'x' }), 'body.config'],
    [
      'an ftp webhook',
      robot('bad', { webhook: 'ftp://oapi.dingtalk.com/robot/send?access_token=1' }),
      'body.config.webhook',
    ],
    ['a secret without SEC', robot('bad', { secret: 'abc' }), 'body.config.secret'],
    ['an unknown type', { name: 'bad', type: 'fax', config: {} }, 'body.type'],
    ['a bad name', { ...smtp('bad'), name: 'has space' }, 'body.name'],
  ])('refuses %s with 400 problem+json naming the field', async (_label, body, path) => {
    const res = await call('POST', '/v1/channel-accounts', body);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json().code).toBe('invalid_request');
    expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('refuses a robot webhook without an access_token with 422', async () => {
    const res = await call(
      'POST',
      '/v1/channel-accounts',
      robot('no-tok', { webhook: 'https://oapi.dingtalk.com/robot/send' }),
    );
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('missing_access_token');
  });

  describe('the default SMTP account', () => {
    beforeAll(async () => {
      await t.db.prisma.channelAccount.deleteMany({});
    });

    it('is the only SMTP account when none is marked, and none when there are several', async () => {
      expect(await accounts().find(smtpAccount)).toBeUndefined();
      await call('POST', '/v1/channel-accounts', smtp('only-one'));
      expect((await accounts().find(smtpAccount))?.name).toBe('only-one');
      await call('POST', '/v1/channel-accounts', smtp('second'));
      expect(await accounts().find(smtpAccount)).toBeUndefined();
    });

    it('moves when another account is made default, leaving exactly one', async () => {
      await call('POST', '/v1/channel-accounts', smtp('def-a', {}, { isDefault: true }));
      expect((await accounts().find(smtpAccount))?.name).toBe('def-a');
      const b = await call('POST', '/v1/channel-accounts', smtp('def-b', {}, { isDefault: true }));
      expect(b.json().isDefault).toBe(true);
      expect((await accounts().find(smtpAccount))?.name).toBe('def-b');
      expect((await call('GET', '/v1/channel-accounts/def-a')).json().isDefault).toBe(false);

      const { name: _n, ...body } = smtp('def-a', {}, { isDefault: true });
      await call('PUT', '/v1/channel-accounts/def-a', body);
      expect((await accounts().find(smtpAccount))?.name).toBe('def-a');
      const defaults = await t.db.prisma.channelAccount.count({ where: { isDefault: true } });
      expect(defaults).toBe(1);
    });

    it('stays single when several writers set a default at once', async () => {
      const names = ['race-1', 'race-2', 'race-3', 'race-4'];
      const res = await Promise.all(
        names.map((n) => call('POST', '/v1/channel-accounts', smtp(n, {}, { isDefault: true }))),
      );
      expect(res.map((r) => r.statusCode)).toEqual([201, 201, 201, 201]);
      expect(await t.db.prisma.channelAccount.count({ where: { isDefault: true } })).toBe(1);
    });
  });

  it('throws unknown_account for a name that is not an account of that kind', async () => {
    await call('POST', '/v1/channel-accounts', robot('kind-robot'));
    await expect(accounts().find(smtpAccount, 'nope')).rejects.toMatchObject({ code: 'unknown_account' });
    await expect(accounts().find(smtpAccount, 'kind-robot')).rejects.toMatchObject({
      code: 'unknown_account',
    });
    await expect(accounts().find(robotAccount, 'nope')).rejects.toMatchObject({ code: 'unknown_account' });
  });

  it('serves changes through its cache and tells listeners after each write', async () => {
    const seen: Array<[string, string]> = [];
    const off = accounts().onChange((name, origin) => seen.push([name, origin]));
    try {
      await call('POST', '/v1/channel-accounts', smtp('cached'));
      expect((await accounts().find(smtpAccount, 'cached'))?.host).toBe('smtp.example.com');
      const { name: _n, ...body } = smtp('cached', { host: 'changed.example.com' });
      await call('PUT', '/v1/channel-accounts/cached', body);
      expect((await accounts().find(smtpAccount, 'cached'))?.host).toBe('changed.example.com');

      // A change made behind this instance's back is seen after invalidate().
      await t.db.prisma.channelAccount.update({
        where: { name: 'cached' },
        data: { config: { host: 'elsewhere.example.com', port: 25, secure: false, from: 'a@example.com' } },
      });
      expect((await accounts().find(smtpAccount, 'cached'))?.host).toBe('changed.example.com');
      accounts().invalidate('cached');
      expect((await accounts().find(smtpAccount, 'cached'))?.host).toBe('elsewhere.example.com');

      await call('DELETE', '/v1/channel-accounts/cached');
      await call('POST', '/v1/channel-accounts', smtp('cached', {}, { isDefault: 'yes' })); // refused: no event
      expect(seen).toEqual([
        ['cached', 'local'],
        ['cached', 'local'],
        ['cached', 'remote'],
        ['cached', 'local'],
      ]);
    } finally {
      off();
    }
  });

  it('lists with cursor pagination and a type filter', async () => {
    await t.db.prisma.channelAccount.deleteMany({});
    for (const n of ['p-a', 'p-b', 'p-c']) await call('POST', '/v1/channel-accounts', smtp(n));
    for (const n of ['p-r1', 'p-r2']) await call('POST', '/v1/channel-accounts', robot(n));

    const first = await call('GET', '/v1/channel-accounts?limit=2');
    expect(first.statusCode).toBe(200);
    expect(first.json().items.map((a: { name: string }) => a.name)).toEqual(['p-a', 'p-b']);
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await call('GET', `/v1/channel-accounts?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      names.push(...page.json().items.map((a: { name: string }) => a.name));
      cursor = page.json().nextCursor;
    } while (cursor);
    expect(names).toEqual(['p-a', 'p-b', 'p-c', 'p-r1', 'p-r2']);

    const robots = await call('GET', '/v1/channel-accounts?type=dingtalk-robot');
    expect(robots.json()).toMatchObject({ nextCursor: null });
    expect(robots.json().items.map((a: { name: string }) => a.name)).toEqual(['p-r1', 'p-r2']);
    expect((await call('GET', '/v1/channel-accounts?type=fax')).statusCode).toBe(400);
    expect((await call('GET', '/v1/channel-accounts?limit=0')).statusCode).toBe(400);
  });

  it('needs the admin token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/channel-accounts' });
    expect(res.statusCode).toBe(401);
  });
});

describe('channel accounts on the embedded PGlite', () => {
  const t = useTestApp(createTestPglite);

  it('creates, switches the default in a transaction, and reads secrets back', async () => {
    const post = (body: object) => t.call('POST', '/v1/channel-accounts', body);
    expect((await post(smtp('e-a', {}, { isDefault: true }))).statusCode).toBe(201);
    expect((await post(smtp('e-b', {}, { isDefault: true }))).statusCode).toBe(201);
    expect(await t.ctx.services.accounts.find(smtpAccount)).toMatchObject({
      name: 'e-b',
      password: 'pw-e-b-Zq81',
    });
    expect(await t.db.prisma.channelAccount.count({ where: { isDefault: true } })).toBe(1);
  });

  it('documents the routes in OpenAPI, with no secret in any response schema', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const item = doc.paths['/v1/channel-accounts/{name}'];
    const list = doc.paths['/v1/channel-accounts'];
    expect(Object.keys(item).sort()).toEqual(['delete', 'get', 'put']);
    expect(Object.keys(list).sort()).toEqual(['get', 'post']);
    expect(list.post.tags).toEqual(['channel-accounts']);
    expect(list.post.requestBody.required).toBe(true);
    const responses = JSON.stringify([
      ...Object.values({ ...item, ...list }).map((op) => (op as { responses: unknown }).responses),
      doc.components?.schemas?.ChannelAccount ?? null,
    ]);
    expect(responses).not.toMatch(/"(password|secret|access_token)"\s*:/);
  });
});
