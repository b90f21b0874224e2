import { ADMIN_TOKEN } from '../../support/testApp';
import { eventually } from '../../support/testHerald';

export interface AttemptRow {
  attempt: number;
  outcome: string;
  providerId: string | null;
  errorCode: string | null;
  errorText: string | null;
}

export interface DeliveryRow {
  id: string;
  channel: string;
  recipientIndex: number;
  userId: string | null;
  email: string | null;
  status: string;
  attempts: number;
  attemptLog: AttemptRow[];
}

export interface MessageRow {
  id: string;
  status: string;
  deliveries: DeliveryRow[];
}

/** A small admin client for one running Herald: JSON in, status and JSON out. */
export function heraldApi(baseUrl: string) {
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

  async function call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  /** POSTs and insists on the expected status, so a refused setup fails with the API's own words. */
  async function post(path: string, body: unknown, expected: number): Promise<unknown> {
    const res = await call('POST', path, body);
    if (res.status !== expected) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  return {
    call,
    post,
    /** Waits until the message has left `accepted`/`dispatched` and returns it with its deliveries. */
    async settledMessage(id: string, timeoutMs = 20_000): Promise<MessageRow> {
      return eventually(
        async () => {
          const res = await call('GET', `/v1/messages/${encodeURIComponent(id)}`);
          const m = res.body as MessageRow;
          return res.status === 200 && ['completed', 'partially_failed', 'rejected'].includes(m.status)
            ? m
            : undefined;
        },
        timeoutMs,
        `message ${id} to settle`,
      );
    },
  };
}
