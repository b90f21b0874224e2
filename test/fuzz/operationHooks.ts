import amqplib from 'amqplib';
import WebSocket from 'ws';
import { signUserToken } from '../../src/auth/userToken';
import { topologyNames } from '../../src/broker/topologyNames';
import { EVENT_TYPES } from '../../src/events/eventTypes';
import { heraldApi } from '../support/heraldApi';
import { TEST_AMQP_URL } from '../support/services';
import { eventually, JWT_SECRET } from '../support/testHerald';

/**
 * Per operation, only where a valid 2xx needs something to exist first (a template, a failed delivery, a
 * dead letter) or a request the generic sender cannot make (the WebSocket upgrade). Every other operation of
 * the document is fuzzed from its schemas alone; a new route whose 2xx needs setup gets an entry here.
 */

export interface FuzzContext {
  baseUrl: string;
  queuePrefix: string;
  /** A name no other request of the run uses. */
  unique(prefix: string): string;
}

/** Parts of a request; what is left out is generated from the document. */
export interface RequestParts {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

export interface Answer {
  status: number;
  contentType: string | undefined;
  body: string;
}

export type Auth = 'admin' | 'none' | 'wrong' | 'user';

export interface OperationHook {
  /** A request that must answer 2xx with the right token (called afresh for each use). */
  valid?(ctx: FuzzContext): Promise<RequestParts>;
  /** Path parameters naming real resources, used by the generated requests too. */
  params?(ctx: FuzzContext): Promise<Record<string, string>>;
  /** The right token when it is not the admin token. */
  auth?: Auth;
  /** Sends the request itself instead of a plain HTTP request. */
  send?(ctx: FuzzContext, url: URL, headers: Record<string, string>): Promise<Answer>;
}

export const FUZZ_USER = 'fuzz-user';

const memo = <T>(make: (ctx: FuzzContext) => Promise<T>) => {
  let value: Promise<T> | undefined;
  return (ctx: FuzzContext) => (value ??= make(ctx));
};

const templateBody = (code: string) => ({
  code,
  name: 'Fuzz fixture',
  variables: { orderNo: 'string' },
  channels: { im: { title: 'Order {{ orderNo }}', body: 'shipped' } },
});

const template = memo(async (ctx) => {
  const code = ctx.unique('fuzz_tpl');
  await heraldApi(ctx.baseUrl).post('/v1/templates', templateBody(code), 201);
  return code;
});

const freshTemplate = async (ctx: FuzzContext) => {
  const code = ctx.unique('fuzz_tpl');
  await heraldApi(ctx.baseUrl).post('/v1/templates', templateBody(code), 201);
  return code;
};

const smtpBody = (name: string) => ({
  name,
  type: 'smtp',
  // Port 9 (discard) on loopback: nothing listens, so every mail through it fails.
  config: { host: '127.0.0.1', port: 9, secure: false, from: 'Fuzz <fuzz@example.com>' },
});

const freshAccount = async (ctx: FuzzContext) => {
  const name = ctx.unique('fuzz-smtp');
  await heraldApi(ctx.baseUrl).post('/v1/channel-accounts', smtpBody(name), 201);
  return name;
};

const envelope = (id: string, code: string, extra: Record<string, unknown> = {}) => ({
  id,
  template: code,
  to: [{ userId: FUZZ_USER }],
  data: { orderNo: '1' },
  ...extra,
});

const message = memo(async (ctx) => {
  const api = heraldApi(ctx.baseUrl);
  const id = ctx.unique('fuzz-msg');
  await api.post('/v1/messages', envelope(id, await template(ctx)), 202);
  await api.finished(id);
  return id;
});

/** An open digest window: one envelope collected by a template whose window lasts longer than the run. */
const digest = memo(async (ctx) => {
  const api = heraldApi(ctx.baseUrl);
  const code = ctx.unique('fuzz_digest');
  await api.post('/v1/templates', { ...templateBody(code), digest: { window: '1h' } }, 201);
  const id = ctx.unique('fuzz-digested');
  await api.post('/v1/messages', envelope(id, code), 202);
  await api.reaches(id, 'digested');
  const page = await api.expectStatus<{ items: Array<{ id: string }> }>(
    200,
    'GET',
    `/v1/digests?template=${code}`,
  );
  const bucket = page.items[0];
  if (!bucket) throw new Error('the fixture digest is not listed');
  return bucket.id;
});

const failedDelivery = memo(async (ctx) => {
  const api = heraldApi(ctx.baseUrl);
  const account = await freshAccount(ctx);
  const code = ctx.unique('fuzz_mail');
  await api.post(
    '/v1/templates',
    {
      code,
      name: 'Fuzz mail',
      channels: { mail: { account, subject: 'Hi', html: '<p>hi</p>' } },
    },
    201,
  );
  const id = ctx.unique('fuzz-mail');
  await api.post('/v1/messages', { id, template: code, to: [{ email: 'fuzz@example.com' }] }, 202);
  const done = await api.finished(id, 30_000);
  const delivery = done.deliveries.find((d) => d.status === 'failed');
  if (!delivery) throw new Error(`the fixture mail did not fail: ${JSON.stringify(done)}`);
  return delivery.id;
});

/** A dead letter of its own: invalid JSON published straight to the exchange. */
const freshDeadLetter = async (ctx: FuzzContext) => {
  const messageId = ctx.unique('fuzz-dead');
  const conn = await amqplib.connect(TEST_AMQP_URL);
  try {
    const ch = await conn.createConfirmChannel();
    ch.publish(topologyNames(ctx.queuePrefix).exchange, 'notify.fuzz', Buffer.from('{not json'), {
      messageId,
      persistent: true,
      contentType: 'application/json',
    });
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
  const api = heraldApi(ctx.baseUrl);
  const found = await eventually(async () => (await api.deadLetters({ messageId })).items[0], 15_000);
  return found.id;
};
const deadLetter = memo(freshDeadLetter);

// A public https host: saved without a lookup; the runner's sends to it fail, which is not what is fuzzed.
const webhookBody = () => ({
  url: 'https://status-hooks.example.com/herald',
  events: [EVENT_TYPES[0]],
  secret: 'fuzz-signing-secret-0123456789',
});

const freshWebhook = async (ctx: FuzzContext) =>
  (await heraldApi(ctx.baseUrl).post<{ id: string }>('/v1/webhooks', webhookBody(), 201)).id;
const webhook = memo(freshWebhook);

/** An inbox item of the fuzz user with a primary action (taken at most once: the rest answer updated 0). */
const actionableItem = memo(async (ctx) => {
  const api = heraldApi(ctx.baseUrl);
  const code = ctx.unique('fuzz_action');
  await api.post(
    '/v1/templates',
    {
      code,
      name: 'Fuzz action',
      category: 'fuzz-actions',
      channels: {
        im: { title: 'Approve', body: 'please', actions: { primary: { label: 'OK', key: 'ok' } } },
      },
    },
    201,
  );
  const id = ctx.unique('fuzz-act');
  await api.post('/v1/messages', { id, template: code, to: [{ userId: FUZZ_USER }] }, 202);
  await api.finished(id);
  const page = await api.call('GET', `/v1/users/${FUZZ_USER}/inbox?status=any&category=fuzz-actions`);
  const item = (page.body as { items: Array<{ id: string }> }).items[0];
  if (!item) throw new Error('the fixture item did not arrive');
  return item.id;
});

/** The WebSocket upgrade: 101 when the socket opens, else the refusal the server sent before it. */
function upgrade(_ctx: FuzzContext, url: URL, headers: Record<string, string>): Promise<Answer> {
  const target = new URL(url);
  target.protocol = 'ws:';
  const ws = new WebSocket(target, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101, contentType: undefined, body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body });
        ws.terminate();
      });
    });
    ws.once('error', (err) => reject(err));
  });
}

const freshSubscriber = async (ctx: FuzzContext) => {
  const userId = ctx.unique('fuzz-sub');
  await heraldApi(ctx.baseUrl).expectStatus(200, 'PUT', `/v1/subscribers/${userId}`, subscriberBody());
  return userId;
};
const subscriberBody = () => ({ email: 'fuzz-sub@example.com', name: 'Fuzz', timezone: 'UTC' });
const subscriber = memo(freshSubscriber);

const freshSuppression = async (ctx: FuzzContext) => {
  const address = `${ctx.unique('fuzz-sup')}@example.com`;
  await heraldApi(ctx.baseUrl).post('/v1/suppressions', { address }, 201);
  return address;
};

const topic = memo(async (ctx) => {
  const key = ctx.unique('fuzz-topic');
  await heraldApi(ctx.baseUrl).post('/v1/topics', { key, name: 'Fuzz topic' }, 201);
  return key;
});
const preferencesBody = () => ({ channels: { mail: true }, categories: { billing: { enabled: false } } });

export const userToken = () => signUserToken(JWT_SECRET, FUZZ_USER);

export const hooks: Record<string, OperationHook> = {
  'POST /v1/templates': { valid: async (ctx) => ({ body: templateBody(ctx.unique('fuzz_new')) }) },
  'GET /v1/templates/{code}': { params: async (ctx) => ({ code: await template(ctx) }) },
  'GET /v1/templates/{code}/versions': { params: async (ctx) => ({ code: await template(ctx) }) },
  'GET /v1/templates/{code}/versions/{version}': {
    params: async (ctx) => ({ code: await template(ctx), version: '1' }),
  },
  'PUT /v1/templates/{code}': {
    params: async (ctx) => ({ code: await template(ctx) }),
    valid: async (ctx) => {
      const { code: _code, ...content } = templateBody('');
      return { params: { code: await template(ctx) }, body: content };
    },
  },
  'DELETE /v1/templates/{code}': { valid: async (ctx) => ({ params: { code: await freshTemplate(ctx) } }) },
  'POST /v1/templates/{code}/preview': {
    params: async (ctx) => ({ code: await template(ctx) }),
    valid: async (ctx) => ({ params: { code: await template(ctx) }, body: { data: { orderNo: '7' } } }),
  },
  'POST /v1/templates/preview': {
    valid: async () => {
      const { code: _c, name: _n, ...draft } = templateBody('');
      return { body: { data: { orderNo: '7' }, template: draft } };
    },
  },
  'POST /v1/channel-accounts': { valid: async (ctx) => ({ body: smtpBody(ctx.unique('fuzz-new')) }) },
  'GET /v1/channel-accounts/{name}': { params: async (ctx) => ({ name: await freshAccount(ctx) }) },
  'PUT /v1/channel-accounts/{name}': {
    valid: async (ctx) => {
      const name = await freshAccount(ctx);
      const { name: _n, ...body } = smtpBody(name);
      return { params: { name }, body };
    },
  },
  'DELETE /v1/channel-accounts/{name}': {
    valid: async (ctx) => ({ params: { name: await freshAccount(ctx) } }),
  },
  // Nothing listens on the account's port: the test answers 200 with the refused connection's outcome.
  'POST /v1/channel-accounts/{name}/test': {
    params: async (ctx) => ({ name: await freshAccount(ctx) }),
    valid: async (ctx) => ({
      params: { name: await freshAccount(ctx) },
      body: { to: { email: 'fuzz@example.com' } },
    }),
  },
  'POST /v1/messages': {
    valid: async (ctx) => ({ body: envelope(ctx.unique('fuzz-post'), await template(ctx)) }),
  },
  'GET /v1/messages/{id}': { params: async (ctx) => ({ id: await message(ctx) }) },
  'POST /v1/messages/{id}/cancel': {
    valid: async (ctx) => {
      const id = ctx.unique('fuzz-later');
      const later = envelope(id, await template(ctx), { delay: '1d' });
      await heraldApi(ctx.baseUrl).post('/v1/messages', later, 202);
      return { params: { id }, body: {} };
    },
  },
  'POST /v1/deliveries/{id}/retry': { valid: async (ctx) => ({ params: { id: await failedDelivery(ctx) } }) },
  'GET /v1/dead-letters/{id}': { params: async (ctx) => ({ id: await deadLetter(ctx) }) },
  'GET /v1/digests/{id}': { params: async (ctx) => ({ id: await digest(ctx) }) },
  'POST /v1/dead-letters/{id}/replay': {
    valid: async (ctx) => ({ params: { id: await freshDeadLetter(ctx) } }),
  },
  'DELETE /v1/dead-letters/{id}': { valid: async (ctx) => ({ params: { id: await freshDeadLetter(ctx) } }) },
  'GET /v1/users/{userId}/inbox': { params: async () => ({ userId: FUZZ_USER }) },
  'GET /v1/users/{userId}/inbox/unread-count': { params: async () => ({ userId: FUZZ_USER }) },
  'POST /v1/users/{userId}/inbox/read': { params: async () => ({ userId: FUZZ_USER }) },
  'POST /v1/users/{userId}/inbox/snooze': {
    params: async () => ({ userId: FUZZ_USER }),
    valid: async () => ({ params: { userId: FUZZ_USER }, body: { all: true, for: '1h' } }),
  },
  'POST /v1/users/{userId}/inbox/items/{id}/action': {
    params: async (ctx) => ({ userId: FUZZ_USER, id: await actionableItem(ctx) }),
    valid: async (ctx) => ({
      params: { userId: FUZZ_USER, id: await actionableItem(ctx) },
      body: { action: 'primary' },
    }),
  },
  'POST /v1/webhooks': { valid: async () => ({ body: webhookBody() }) },
  'GET /v1/webhooks/{id}': { params: async (ctx) => ({ id: await webhook(ctx) }) },
  'GET /v1/webhooks/{id}/attempts': { params: async (ctx) => ({ id: await webhook(ctx) }) },
  'PUT /v1/webhooks/{id}': {
    valid: async (ctx) => ({ params: { id: await freshWebhook(ctx) }, body: webhookBody() }),
  },
  'DELETE /v1/webhooks/{id}': { valid: async (ctx) => ({ params: { id: await freshWebhook(ctx) } }) },
  'GET /v1/ws': { auth: 'user', send: upgrade, valid: async () => ({ query: {} }) },
  'PUT /v1/subscribers/{userId}': {
    valid: async (ctx) => ({ params: { userId: ctx.unique('fuzz-put') }, body: subscriberBody() }),
  },
  'GET /v1/subscribers/{userId}': { params: async (ctx) => ({ userId: await subscriber(ctx) }) },
  'DELETE /v1/subscribers/{userId}': {
    valid: async (ctx) => ({ params: { userId: await freshSubscriber(ctx) } }),
  },
  'POST /v1/subscribers/bulk': {
    valid: async (ctx) => ({
      body: { subscribers: [{ userId: ctx.unique('fuzz-bulk'), ...subscriberBody() }] },
    }),
  },
  'PUT /v1/subscribers/{userId}/preferences': {
    valid: async (ctx) => ({ params: { userId: await subscriber(ctx) }, body: preferencesBody() }),
  },
  'GET /v1/me/preferences': { auth: 'user' },
  'PUT /v1/me/preferences': { auth: 'user', valid: async () => ({ body: preferencesBody() }) },
  'GET /v1/topics/{key}': { params: async (ctx) => ({ key: await topic(ctx) }) },
  'GET /v1/topics/{key}/members': { params: async (ctx) => ({ key: await topic(ctx) }) },
  'POST /v1/topics/{key}/members': {
    params: async (ctx) => ({ key: await topic(ctx) }),
    valid: async (ctx) => ({ params: { key: await topic(ctx) }, body: { userIds: [FUZZ_USER] } }),
  },
  'POST /v1/topics/{key}/members/remove': {
    params: async (ctx) => ({ key: await topic(ctx) }),
    valid: async (ctx) => ({ params: { key: await topic(ctx) }, body: { userIds: [FUZZ_USER] } }),
  },
  'POST /v1/suppressions': {
    valid: async (ctx) => ({ body: { address: `${ctx.unique('fuzz-sup')}@example.com` } }),
  },
  'DELETE /v1/suppressions/{address}': {
    valid: async (ctx) => ({ params: { address: await freshSuppression(ctx) } }),
  },
};
