import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Child } from '../lib/childRpc';
import type { BenchDeployment } from '../lib/deployment';
import type { ScenarioResult } from '../lib/report';
import { round, waitUntil } from '../lib/stats';
import { EVENT_TYPES } from '../../src/events/eventTypes';
import { runDispatch } from './dispatch';

/**
 * dispatch-im-1-webhook: dispatch-im-1 again, with one status webhook subscribed to every event (a local
 * receiver answering 200 at once). The figure is dispatch's rate; the ratio is against dispatch-im-1 in the
 * same run (issue 17: >= 0.9x). How long the webhook took to deliver every event afterwards is reported,
 * not judged.
 */
export async function runWebhookDispatch(
  bench: BenchDeployment,
  clients: Child,
  o: { envelopes: number; users: number; runId: string; baseline: number | null },
): Promise<ScenarioResult> {
  let received = 0;
  const byType = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const type = String(req.headers['herald-event-type']);
    req.resume();
    req.on('end', () => {
      received++;
      byType.set(type, (byType.get(type) ?? 0) + 1);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  const env = { HERALD_STATUS_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' };
  const admin = await bench.start('api', env);
  let hookId: string | undefined;
  try {
    const hook = await bench
      .api(admin)
      .post<{ id: string }>(
        '/v1/webhooks',
        { url, events: [...EVENT_TYPES], secret: 'bench-webhook-secret-0123456789' },
        201,
      );
    hookId = hook.id;
    const before = received;
    const r = await runDispatch(bench, clients, {
      name: 'dispatch-im-1-webhook',
      envelopes: o.envelopes,
      recipients: 1,
      users: o.users,
      runId: o.runId,
      workerEnv: env,
    });
    const atDispatchEnd = received - before;
    // accepted, sent and delivered for every envelope. The consumer instance that ran the webhook is
    // gone by now; a fresh one finishes the rest from the endpoint's cursor.
    const expected = o.envelopes * 3;
    const worker = await bench.start('consumer', env);
    const t = Date.now();
    let caughtUp = true;
    try {
      await waitUntil(async () => (received - before >= expected ? true : undefined), {
        timeoutMs: Math.max(60_000, expected * 10),
        everyMs: 200,
        describe: () => `${received - before}/${expected} events delivered`,
      });
    } catch {
      // Reported below: how far the endpoint got is a figure, not a failure of dispatch.
      caughtUp = false;
    } finally {
      await worker.stop();
    }
    const ratio = o.baseline && r.figure !== null ? r.figure / o.baseline : null;
    return {
      ...r,
      baseline: o.baseline,
      baselineUnit: 'envelopes/s of dispatch-im-1 (no webhook) in this run',
      ratio: ratio === null ? null : round(ratio, 3),
      target: '>= 0.9x of dispatch without a webhook',
      met: ratio !== null && ratio >= 0.9,
      webhookEventsAtDispatchEnd: atDispatchEnd,
      webhookEventsExpected: expected,
      webhookEventsDelivered: received - before,
      webhookEventsByType: Object.fromEntries(byType),
      webhookCaughtUp: caughtUp,
      webhookCatchUpSeconds: round((Date.now() - t) / 1000, 2),
    };
  } finally {
    if (hookId)
      await bench
        .api(admin)
        .expectStatus(204, 'DELETE', `/v1/webhooks/${hookId}`)
        .catch(() => undefined);
    await admin.stop();
    await new Promise<void>((r) => server.close(() => r()));
  }
}
