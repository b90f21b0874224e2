import { ADMIN_TOKEN } from './testApp';
import { eventually } from './testHerald';

export interface AttemptJson {
  attempt: number;
  outcome: string;
  providerId: string | null;
  errorCode: string | null;
  errorText: string | null;
  createdAt: string;
}

export interface DeliveryJson {
  id: string;
  messageId: string;
  channel: string;
  recipientIndex: number;
  recipientKey: string;
  userId: string | null;
  email: string | null;
  templateCode: string;
  status: string;
  attempts: number;
  reason: string | null;
  digestMessageId?: string | null;
  createdAt: string;
}

export interface MessageJson {
  id: string;
  templateCode: string | null;
  templateVersion: number | null;
  status: string;
  reason: string | null;
  source: string | null;
  traceId: string | null;
  recipientCount: number;
  createdAt: string;
  updatedAt: string;
  deliveries: Array<DeliveryJson & { attemptLog: AttemptJson[] }>;
}

export type DeliveryWithAttempts = MessageJson['deliveries'][number];

export interface DeadLetterJson {
  id: string;
  messageId: string | null;
  routingKey: string | null;
  code: string;
  reason: string;
  payload: string;
  payloadEncoding: 'utf8' | 'base64';
  createdAt: string;
  replayedAt: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

const FINISHED = new Set(['completed', 'partially_failed', 'failed', 'rejected']);

/** The admin API of one running Herald over real HTTP, as an operator's script would use it (or a key's holder). */
export function heraldApi(baseUrl: string, token = ADMIN_TOKEN) {
  async function call<T>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** The call's body when it answered `expected`, else an error that shows what came back. */
  async function expectStatus<T>(expected: number, method: string, path: string, body?: unknown): Promise<T> {
    const r = await call<T>(method, path, body);
    if (r.status !== expected)
      throw new Error(`${method} ${path}: expected ${expected}, got ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async function message(id: string): Promise<MessageJson | undefined> {
    const r = await call<MessageJson>('GET', `/v1/messages/${encodeURIComponent(id)}`);
    return r.status === 200 ? r.body : undefined;
  }

  return {
    call,
    expectStatus,
    /** POSTs and insists on `expected`, so a refused setup fails with the API's own words. */
    post: <T = unknown>(path: string, body: unknown, expected: number) =>
      expectStatus<T>(expected, 'POST', path, body),
    message,
    createTemplate: (template: Record<string, unknown>) =>
      expectStatus<unknown>(201, 'POST', '/v1/templates', template),
    /** An SMTP account (the default one) sending to a sink on 127.0.0.1 without TLS. */
    createSmtpAccount: (name: string, port: number) =>
      expectStatus<unknown>(201, 'POST', '/v1/channel-accounts', {
        name,
        type: 'smtp',
        isDefault: true,
        config: { host: '127.0.0.1', port, secure: false, from: 'Herald <noreply@example.com>' },
      }),
    /** Waits until the message has finished (completed, partially_failed, failed or rejected). */
    finished: (id: string, timeoutMs = 20_000) =>
      eventually(
        async () => {
          const m = await message(id);
          return m && FINISHED.has(m.status) ? m : undefined;
        },
        timeoutMs,
        `message ${id} to finish`,
      ),
    /** Waits until the message has this status (for a message that was finished once already). */
    reaches: (id: string, status: string, timeoutMs = 20_000) =>
      eventually(
        async () => {
          const m = await message(id);
          return m?.status === status ? m : undefined;
        },
        timeoutMs,
        `message ${id} to become ${status}`,
      ),
    deliveries: (query: Record<string, string>) =>
      expectStatus<Page<DeliveryJson>>(200, 'GET', `/v1/deliveries?${new URLSearchParams(query).toString()}`),
    deadLetters: (query: Record<string, string> = {}) =>
      expectStatus<Page<DeadLetterJson>>(
        200,
        'GET',
        `/v1/dead-letters?${new URLSearchParams(query).toString()}`,
      ),
    inboxCount: async (userId: string) =>
      (
        await expectStatus<{ items: unknown[] }>(
          200,
          'GET',
          `/v1/users/${encodeURIComponent(userId)}/inbox?limit=200`,
        )
      ).items.length,
  };
}

export type HeraldApi = ReturnType<typeof heraldApi>;

/** A template with a mail and an IM part and one required variable. */
export const orderShipped = (code = 'order_shipped') => ({
  code,
  name: 'Order shipped',
  variables: { orderNo: 'string' },
  channels: {
    mail: { subject: 'Order {{ orderNo }} shipped', html: '<p>Hello {{ name }}, order {{ orderNo }}.</p>' },
    im: { title: 'Order {{ orderNo }}', body: 'shipped' },
  },
});
