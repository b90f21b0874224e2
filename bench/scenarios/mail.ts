import nodemailer from 'nodemailer';
import type { EnvelopeInput } from '../../src/contract/envelope';
import type { Child } from '../lib/childRpc';
import { waitForPipeline, type BenchDeployment } from '../lib/deployment';
import type { ScenarioResult } from '../lib/report';
import { expectCount, round } from '../lib/stats';

interface SinkCounts {
  accepted: number;
  lastAt: number;
  connections: number;
  distinctRecipients: number;
}

const SUBJECT = 'Order {{ orderNo }} shipped';
const HTML = '<p>Hello {{ name }}, your order {{ orderNo }} arrives {{ eta }}.</p>';
/** Herald's defaults: HERALD_CONCURRENCY_MAIL and the per-account pool size. */
const CONCURRENCY = 16;
const POOL_CONNECTIONS = 5;

/** mail: queued envelopes → SMTP sink, against a bare nodemailer pool sending the same mails. */
export async function runMail(
  bench: BenchDeployment,
  sink: Child,
  o: { mails: number; runId: string },
): Promise<ScenarioResult> {
  const code = `bench_mail_${o.runId}`;
  const { port } = await sink.call<{ port: number }>('listen');
  const edge = await bench.start('api');
  let worker: Awaited<ReturnType<BenchDeployment['start']>> | undefined;
  try {
    const api = bench.api(edge);
    await api.createSmtpAccount(`bench-smtp-${o.runId}`, port);
    await api.createTemplate({
      code,
      name: 'Bench mail',
      variables: { orderNo: 'string', eta: 'string' },
      channels: { mail: { subject: SUBJECT, html: HTML } },
    });
    const envelopes: EnvelopeInput[] = Array.from({ length: o.mails }, (_, i) => ({
      id: `${code}-${i}`,
      template: code,
      to: [{ email: `r${i}@bench.example`, name: `Reader ${i}` }],
      data: { orderNo: String(100_000 + i), eta: '2026-11-25' },
    }));
    await bench.declareTopology();
    await bench.publishAll(envelopes);
    await sink.call('reset');

    worker = await bench.start('consumer');
    const { counts, outside: got } = await waitForPipeline(bench.db, code, {
      outside: () => sink.call<SinkCounts>('counts'),
      arrived: (g) => g.accepted >= o.mails,
      done: (c, g) => c.completed === o.mails && g.accepted >= o.mails,
      timeoutMs: Math.max(60_000, o.mails * 20),
      describe: (c, g) =>
        `mail: ${c.messages} messages, ${c.completed}/${o.mails} completed, ${c.sentAttempts} attempts sent, ${g.accepted} mails at the sink`,
    });
    expectCount('mail: sent attempt rows', counts.sentAttempts, o.mails);
    expectCount('mail: failed or retried attempts', counts.otherAttempts, 0);
    expectCount('mail: mails at the sink', got.accepted, o.mails);
    expectCount('mail: distinct recipients at the sink', got.distinctRecipients, o.mails);
    const seconds = (Math.max(counts.lastAttemptAt, got.lastAt) - counts.firstAcceptedAt) / 1000;
    const figure = o.mails / seconds;

    const baseline = await rawNodemailer(port, sink, o.mails);
    const ratio = figure / baseline;
    return {
      name: 'mail',
      figure: round(figure),
      unit: 'mails/s',
      baseline: round(baseline),
      ratio: round(ratio, 3),
      target: '>= 0.8x',
      met: ratio >= 0.8,
      mails: o.mails,
      seconds: round(seconds, 2),
      smtpConnections: got.connections,
      baselineUnit: `mails/s (bare nodemailer pool, ${POOL_CONNECTIONS} connections, ${CONCURRENCY} in flight)`,
    };
  } finally {
    await worker?.stop();
    await edge.stop();
  }
}

async function rawNodemailer(port: number, sink: Child, mails: number): Promise<number> {
  await sink.call('reset');
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: POOL_CONNECTIONS,
    host: '127.0.0.1',
    port,
    secure: false,
  });
  try {
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < mails) {
          const i = next++;
          await transport.sendMail({
            from: 'Herald <noreply@example.com>',
            to: { name: `Reader ${i}`, address: `r${i}@bench.example` },
            subject: `Order ${100_000 + i} shipped`,
            html: `<p>Hello Reader ${i}, your order ${100_000 + i} arrives 2026-11-25.</p>`,
            text: `Hello Reader ${i}, your order ${100_000 + i} arrives 2026-11-25.`,
          });
        }
      }),
    );
    const got = await sink.call<SinkCounts>('counts');
    expectCount('mail baseline: mails at the sink', got.accepted, mails);
    return mails / ((got.lastAt - started) / 1000);
  } finally {
    transport.close();
  }
}
