import { ADMIN_TOKEN } from '../support/testApp';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { describeWith } from '../support/services';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

interface MessageBody {
  status: string;
  templateVersion: number | null;
  sendAt: string | null;
  deliveries: Array<{
    channel: string;
    status: string;
    attemptLog: Array<{ outcome: string; createdAt: string }>;
  }>;
}

async function createTemplate(h: TestHerald, title: string, method = 'POST'): Promise<void> {
  const res = await fetch(`${h.baseUrl}/v1/templates${method === 'PUT' ? '/reminder' : ''}`, {
    method,
    headers: auth,
    body: JSON.stringify({
      code: 'reminder',
      name: 'Reminder',
      variables: { what: 'string' },
      channels: { im: { title, body: '{{ what }}' } },
    }),
  });
  expect(res.status).toBe(method === 'POST' ? 201 : 200);
}

const publish = (h: TestHerald, body: Record<string, unknown>) =>
  fetch(`${h.baseUrl}/v1/messages`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ template: 'reminder', to: [{ userId: 'u-1' }], data: { what: 'pay' }, ...body }),
  });

const getMessage = async (h: TestHerald, id: string): Promise<MessageBody | undefined> => {
  const r = await fetch(`${h.baseUrl}/v1/messages/${id}`, { headers: auth });
  return r.status === 200 ? ((await r.json()) as MessageBody) : undefined;
};

const completed = (h: TestHerald, id: string, timeoutMs = 15_000) =>
  eventually(
    async () => {
      const m = await getMessage(h, id);
      return m?.status === 'completed' ? m : undefined;
    },
    timeoutMs,
    `${id} completed`,
  );

/** The same scenarios on RabbitMQ + PostgreSQL and in the embedded mode (PGlite, durable local queue). */
const modes: Array<{ name: string; needs: Array<'postgres' | 'rabbitmq'>; env: Record<string, string> }> = [
  { name: 'RabbitMQ and PostgreSQL', needs: ['postgres', 'rabbitmq'], env: {} },
  {
    name: 'embedded (no AMQP_URL, no DATABASE_URL)',
    needs: ['postgres', 'rabbitmq'],
    env: { AMQP_URL: '', DATABASE_URL: '' },
  },
];

for (const mode of modes) {
  describeWith(mode.needs, `scheduled sends, ${mode.name}`, () => {
    let dep: TestDeployment;
    let h: TestHerald;

    beforeAll(async () => {
      dep = createTestDeployment();
      h = await dep.start(mode.env);
      await createTemplate(h, 'v1');
    });
    afterAll(() => dep.destroy());

    it('holds a message with sendAt 3 s ahead as scheduled, sends it after 3 s and within 10 s, with the version current then', async () => {
      const sendAt = new Date(Date.now() + 3000);
      const res = await publish(h, { id: 'at-3s', sendAt: sendAt.toISOString() });
      expect(res.status).toBe(202);
      const held = await eventually(async () => {
        const m = await getMessage(h, 'at-3s');
        return m?.status === 'scheduled' ? m : undefined;
      });
      expect(held.deliveries).toEqual([]);
      expect(new Date(held.sendAt as string).getTime()).toBe(sendAt.getTime());
      // A new version before the time: the send uses it.
      await createTemplate(h, 'v2', 'PUT');
      const done = await completed(h, 'at-3s');
      expect(done.templateVersion).toBe(2);
      const sentAt = new Date(done.deliveries[0]?.attemptLog[0]?.createdAt as string).getTime();
      expect(done.deliveries.map((d) => [d.channel, d.status])).toEqual([['im', 'sent']]);
      expect(sentAt).toBeGreaterThanOrEqual(sendAt.getTime());
      expect(sentAt).toBeLessThan(sendAt.getTime() + 10_000);
      const inbox = await fetch(`${h.baseUrl}/v1/users/u-1/inbox`, { headers: auth });
      // The first message this deployment sends, so the user's only item.
      const items = ((await inbox.json()) as { items: Array<{ title: string }> }).items;
      expect(items.map((i) => i.title)).toEqual(['v2']);
    });

    it('sends a delay after that long, never before', async () => {
      const publishedAt = Date.now();
      expect((await publish(h, { id: 'delay-2s', delay: '2s' })).status).toBe(202);
      const done = await completed(h, 'delay-2s');
      const sentAt = new Date(done.deliveries[0]?.attemptLog[0]?.createdAt as string).getTime();
      expect(sentAt).toBeGreaterThanOrEqual(publishedAt + 2000);
      expect(new Date(done.sendAt as string).getTime()).toBeGreaterThanOrEqual(publishedAt + 2000);
    });

    it('sends a sendAt in the past at once', async () => {
      expect((await publish(h, { id: 'past', sendAt: '2020-01-01T00:00:00+08:00' })).status).toBe(202);
      const done = await completed(h, 'past', 10_000);
      expect(done.deliveries.map((d) => d.status)).toEqual(['sent']);
    });

    it('lists scheduled messages by due time, a page at a time, and exports the backlog in /metrics', async () => {
      const base = Date.now() + 3_600_000;
      // Published out of order: the list follows sendAt, then id.
      for (const [id, offset] of [
        ['list-c', 2],
        ['list-a', 0],
        ['list-b', 1],
        ['list-d', 2],
      ] as const) {
        const sendAt = new Date(base + offset * 60_000).toISOString();
        expect((await publish(h, { id, sendAt })).status).toBe(202);
      }
      await eventually(async () => (await getMessage(h, 'list-d'))?.status === 'scheduled');
      await eventually(async () => (await getMessage(h, 'list-c'))?.status === 'scheduled');
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const qs = new URLSearchParams({ status: 'scheduled', limit: '3', ...(cursor ? { cursor } : {}) });
        const res = await fetch(`${h.baseUrl}/v1/messages?${qs.toString()}`, { headers: auth });
        expect(res.status).toBe(200);
        const page = (await res.json()) as {
          items: Array<{ id: string; status: string; sendAt: string; deliveries?: unknown }>;
          nextCursor: string | null;
        };
        for (const m of page.items) {
          expect(m.status).toBe('scheduled');
          expect(m.deliveries).toBeUndefined();
        }
        seen.push(...page.items.map((m) => m.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(['list-a', 'list-b', 'list-c', 'list-d']);
      const forged = await fetch(`${h.baseUrl}/v1/messages?status=scheduled&cursor=bm9wZQ`, {
        headers: auth,
      });
      expect(forged.status).toBe(400);

      const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
      const waiting = /^herald_scheduler_jobs\{kind="envelope",state="waiting"\} (\d+)$/m.exec(metrics);
      expect(Number(waiting?.[1])).toBeGreaterThanOrEqual(4);
      expect(metrics).toMatch(/^herald_scheduler_overdue_jobs\{kind="envelope"\} 0$/m);
      expect(metrics).toMatch(/^herald_scheduler_oldest_overdue_seconds \d/m);
      for (const id of ['list-a', 'list-b', 'list-c', 'list-d'])
        await fetch(`${h.baseUrl}/v1/messages/${id}/cancel`, { method: 'POST', headers: auth, body: '{}' });
    });

    it('refuses a sendAt more than a year ahead, and sendAt with delay', async () => {
      const far = new Date(Date.now() + 366 * 86_400_000).toISOString();
      const tooFar = await publish(h, { id: 'far', sendAt: far });
      expect(tooFar.status).toBe(400);
      expect(JSON.stringify(await tooFar.json())).toMatch(/at most a year/);
      expect((await publish(h, { id: 'both', sendAt: far, delay: '1m' })).status).toBe(400);
      expect((await publish(h, { id: 'no-offset', sendAt: '2030-01-01T09:00:00' })).status).toBe(400);
      expect((await publish(h, { id: 'bad-delay', delay: '15 minutes' })).status).toBe(400);
    });
  });
}

describeWith(['postgres', 'rabbitmq'], 'scheduled sends shared by two instances', () => {
  it('sends each scheduled message once, and both instances take some', async () => {
    const dep = createTestDeployment();
    try {
      // Small claims, so that neither instance can take every due row in one batch.
      const a = await dep.start({ HERALD_PREFETCH: '8' });
      const b = await dep.start({ HERALD_PREFETCH: '8' });
      await createTemplate(a, 'shared');
      const sendAt = new Date(Date.now() + 3000).toISOString();
      const ids = Array.from({ length: 60 }, (_, i) => `shared-${i}`);
      for (const [i, id] of ids.entries())
        expect((await publish(i % 2 ? a : b, { id, sendAt })).status).toBe(202);
      for (const id of ids) {
        const m = await completed(a, id, 30_000);
        expect(m.deliveries.map((d) => [d.status, d.attemptLog.length])).toEqual([['sent', 1]]);
      }
      // Each instance counts the envelopes it finished; the scheduled sends were finished by both.
      const finished = async (h: TestHerald) =>
        Number(
          /^herald_envelopes_total\{outcome="completed"\} (\S+)$/m.exec(
            await (await fetch(`${h.baseUrl}/metrics`)).text(),
          )?.[1] ?? 0,
        );
      const [byA, byB] = [await finished(a), await finished(b)];
      expect(byA).toBeGreaterThan(0);
      expect(byB).toBeGreaterThan(0);
    } finally {
      await dep.destroy();
    }
  });
});
