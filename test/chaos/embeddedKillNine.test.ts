import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { describeWith } from '../support/services';
import { ADMIN_TOKEN } from '../support/testApp';
import { chaosEnvelope, createChaosDeployment, type ChaosDeployment } from './support/chaosDeployment';
import { chaosSizes } from './support/chaosMode';
import { watchMailbox, type Mailbox } from './support/ledger';
import { reportScenario } from './support/results';
import { waitUntil } from './support/waitUntil';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
/** Mails one Herald process has in flight at most (HERALD_CONCURRENCY_MAIL): only those may repeat. */
const MAIL_CONCURRENCY = 16;

/** Runs `fn` over `items`, `concurrency` at a time. */
async function eachLimited<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < items.length; i = next++) await fn(items[i] as T);
    }),
  );
}

// The embedded mode needs neither service; the sink and the support code come from the other suites.
describeWith(['postgres', 'rabbitmq'], 'chaos: kill -9 of the embedded mode right after the last 202', () => {
  let sink: SmtpSink;
  let mailbox: Mailbox;
  let dep: ChaosDeployment;

  beforeAll(async () => {
    sink = await startSmtpSink();
    mailbox = watchMailbox(sink);
    dep = createChaosDeployment({
      DATABASE_URL: '',
      AMQP_URL: '',
      HERALD_CONCURRENCY_MAIL: String(MAIL_CONCURRENCY),
    });
  });
  afterAll(async () => {
    await dep?.destroy();
    await sink?.close();
  });

  it('sends every accepted envelope after the restart, none twice beyond a send in flight', async () => {
    const total = Number(process.env.CHAOS_EMBEDDED_ENVELOPES ?? chaosSizes.killEnvelopes);
    let h = await dep.start();
    await dep.setUp(h, sink);
    const ids = Array.from({ length: total }, (_, i) => `embedded-kill-${i}`);
    let accepted = 0;
    await eachLimited(ids, 20, async (id) => {
      const res = await fetch(`${h.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify(chaosEnvelope(id, ids.indexOf(id))),
      });
      expect(res.status).toBe(202);
      accepted++;
    });
    h.kill('SIGKILL');
    expect((await h.exited).signal).toBe('SIGKILL');
    const sentBeforeKill = mailbox.total();
    const t0 = Date.now();
    h = await dep.start();
    const restartMs = Date.now() - t0;

    // Progress is watched at the SMTP sink (one mail per envelope); the API is asked once it is all there,
    // so the polling does not compete with the sends for the one embedded database.
    await waitUntil(
      async () => new Set(sink.messages.map((m) => m.messageId)).size >= total,
      300_000,
      'a mail for every accepted envelope',
      1000,
    );
    const statuses = new Map<string, string>();
    await waitUntil(
      async () => {
        await eachLimited(
          ids.filter((id) => statuses.get(id) !== 'completed'),
          4,
          async (id) => {
            const r = await fetch(`${h.baseUrl}/v1/messages/${id}`, { headers: auth });
            statuses.set(
              id,
              r.status === 200 ? ((await r.json()) as { status: string }).status : `http ${r.status}`,
            );
          },
        );
        return [...statuses.values()].filter((s) => s === 'completed').length === total;
      },
      120_000,
      'every accepted envelope completed',
      2000,
    ).catch((err: Error) => {
      const histogram: Record<string, number> = {};
      for (const s of statuses.values()) histogram[s] = (histogram[s] ?? 0) + 1;
      throw new Error(`${err.message}; statuses ${JSON.stringify(histogram)}; ${h.output().slice(-2000)}`);
    });
    await sink.waitForMessages(total, 30_000).catch(() => undefined);
    const mailIds = new Set(sink.messages.map((m) => m.messageId));
    const repeated = [...mailIds].filter((id) => mailbox.arrivals(id ?? '').length > 1).length;
    const inboxDuplicates = await countInboxDuplicates(h.baseUrl, total);
    reportScenario('embedded-kill-9', {
      total,
      completed: [...statuses.values()].filter((s) => s === 'completed').length,
      lost: total - mailIds.size,
      duplicated: inboxDuplicates,
      deadLettered: 0,
      repeatedInFlight: repeated,
      extra: { accepted, mailsBeforeKill: sentBeforeKill, restartReadyMs: restartMs, mails: mailbox.total() },
    });
    expect(accepted).toBe(total);
    expect(mailIds.size).toBe(total);
    expect(inboxDuplicates).toBe(0);
    expect(repeated).toBeLessThanOrEqual(MAIL_CONCURRENCY);
  });
});

/** Inbox items of the chaos users whose title repeats (each envelope's item is titled by its number). */
async function countInboxDuplicates(baseUrl: string, total: number): Promise<number> {
  const titles: string[] = [];
  for (let u = 0; u < 97; u++) {
    let cursor: string | null = null;
    do {
      const q: string = `limit=200${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await fetch(`${baseUrl}/v1/users/u-${u}/inbox?${q}`, { headers: auth });
      const page = (await r.json()) as { items: Array<{ title: string }>; nextCursor: string | null };
      titles.push(...page.items.map((i) => i.title));
      cursor = page.nextCursor;
    } while (cursor);
  }
  expect(new Set(titles).size).toBe(total);
  return titles.length - new Set(titles).size;
}
