import './lib/services';
import { countSqlStatements } from './lib/sqlCount';
import { randomBytes } from 'node:crypto';
import { startChild } from './lib/childRpc';
import { createBenchDeployment } from './lib/deployment';
import { machine, printTable, writeReport, type BenchReport, type ScenarioResult } from './lib/report';
import { FULL, QUICK } from './lib/sizes';
import { runConnections } from './scenarios/connections';
import { runDispatch } from './scenarios/dispatch';
import { runHelloCurve } from './scenarios/hello';
import { runHttpPublish } from './scenarios/httpPublish';
import { runImFanout } from './scenarios/imFanout';
import { prefillDeliveries } from './lib/prefill';
import { runLatency } from './scenarios/latency';
import { runMail } from './scenarios/mail';
import { runStart } from './scenarios/start';
import { runWebhookDispatch } from './scenarios/webhookDispatch';
import { runTracedDispatch } from './scenarios/tracedDispatch';
import { runScheduledBurst } from './scenarios/scheduledBurst';
import { runSnoozeWake } from './scenarios/snoozeWake';
import { runTopicDispatch } from './scenarios/topicDispatch';
import { runAlertDuringTopic } from './scenarios/alertDuringTopic';
import { writeChart } from './lib/chart';

/**
 * `npm run bench [-- --quick] [-- --only=mail,start]`: runs the scenarios of issue 6 on real RabbitMQ and
 * PostgreSQL under a random prefix and schema, prints the table and writes bench/results/latest.json.
 * Exits 1 when any scenario failed or counted less than it sent.
 */
const NAMES = [
  'start',
  'dispatch-im-1',
  // After dispatch-im-1, its baseline in the same run.
  'dispatch-im-1-webhook',
  // After dispatch-im-1 too: tracing on, against it (tracing off) in the same run.
  'dispatch-im-1-traced',
  // After dispatch-im-1 too: its baseline in the same run.
  'scheduled-burst',
  'dispatch-im-10',
  'dispatch-im-100',
  'dispatch-im-1000',
  // After dispatch-im-10: its baseline in the same run.
  'topic-dispatch',
  // An alert's latency idle and during a topic send, both in this scenario.
  'alert-during-topic',
  'mail',
  'latency-200',
  'latency-1000',
  'im-fanout',
  'connections',
  'hello',
  'snooze-wake',
  'http-publish',
  // Last: it leaves millions of old rows behind for whatever would run after it.
  'dispatch-im-1-prefilled',
  // Needs the rows the one before leaves: retention removes them while dispatch runs.
  'dispatch-im-1-purging',
];

async function main(): Promise<number> {
  countSqlStatements();
  const quick = process.argv.includes('--quick');
  const only = process.argv
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  const sizes = quick ? QUICK : FULL;
  const selected = NAMES.filter((n) => !only || only.includes(n));
  const runId = randomBytes(3).toString('hex');
  const began = Date.now();
  // Bounded in time whatever happens: the whole run, then each scenario.
  const hardStop = setTimeout(
    () => {
      console.error(`bench: still running after ${quick ? 15 : 60} minutes; giving up`);
      process.exit(2);
    },
    (quick ? 15 : 60) * 60_000,
  );
  hardStop.unref();

  console.log(
    `bench: ${quick ? 'quick' : 'full'} run of ${selected.join(', ')} (load average ${machine().loadavg.join(' ')})`,
  );
  const bench = await createBenchDeployment();
  const clients = await startChild('socketClients');
  const sink = await startChild('smtpCounter');
  const scenarios: ScenarioResult[] = [];
  const run = async (name: string, fn: () => Promise<ScenarioResult | ScenarioResult[]>) => {
    if (!selected.includes(name)) return;
    const t = Date.now();
    process.stdout.write(`bench: ${name} … `);
    try {
      const results = [await fn()].flat();
      scenarios.push(...results);
      const line = (r: ScenarioResult) =>
        `${r.figure} ${r.unit} (baseline ${r.baseline ?? '—'}, ratio ${r.ratio ?? '—'})`;
      if (results.length === 1 && results[0]) console.log(line(results[0]));
      else for (const r of results) console.log(`\n  ${r.name}: ${line(r)}`);
      console.log(`  in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      console.log(`FAILED: ${message}`);
      scenarios.push({ name, figure: null, unit: '', baseline: null, ratio: null, error: message });
    }
  };
  try {
    await run('start', runStart);
    await run('dispatch-im-1', () =>
      runDispatch(bench, clients, {
        name: 'dispatch-im-1',
        envelopes: sizes.im1Envelopes,
        recipients: 1,
        users: sizes.dispatchUsers,
        runId,
      }),
    );
    await run('dispatch-im-1-webhook', () =>
      runWebhookDispatch(bench, clients, {
        envelopes: sizes.im1Envelopes,
        users: sizes.dispatchUsers,
        runId,
        baseline: scenarios.find((s) => s.name === 'dispatch-im-1')?.figure ?? null,
      }),
    );
    await run('dispatch-im-1-traced', () =>
      runTracedDispatch(bench, clients, {
        envelopes: sizes.im1Envelopes,
        users: sizes.dispatchUsers,
        runId,
        baseline: scenarios.find((s) => s.name === 'dispatch-im-1'),
      }),
    );
    await run('scheduled-burst', () =>
      runScheduledBurst(bench, clients, {
        envelopes: sizes.scheduledEnvelopes,
        users: sizes.dispatchUsers,
        runId,
        leadMs: sizes.scheduledLeadMs,
        baseline: scenarios.find((s) => s.name === 'dispatch-im-1')?.figure ?? null,
      }),
    );
    await run('dispatch-im-10', () =>
      runDispatch(bench, clients, {
        name: 'dispatch-im-10',
        envelopes: sizes.im10Envelopes,
        recipients: 10,
        users: sizes.dispatchUsers,
        runId,
      }),
    );
    await run('topic-dispatch', () =>
      runTopicDispatch({
        sizes: sizes.topicSizes,
        bulk: sizes.bulkSubscribers,
        runId,
        baseline: scenarios.find((s) => s.name === 'dispatch-im-10')?.figure ?? null,
      }),
    );
    await run('alert-during-topic', () =>
      runAlertDuringTopic(bench, clients, {
        members: sizes.alertTopicMembers,
        rate: sizes.alertRate,
        durationMs: sizes.alertMs,
        runId,
      }),
    );
    for (const [recipients, envelopes] of [
      [100, sizes.im100Envelopes],
      [1000, sizes.im1000Envelopes],
    ] as const)
      await run(`dispatch-im-${recipients}`, () =>
        runDispatch(bench, clients, {
          name: `dispatch-im-${recipients}`,
          envelopes,
          recipients,
          users: sizes.dispatchUsers,
          runId,
        }),
      );
    await run('mail', () => runMail(bench, sink, { mails: sizes.mails, runId }));
    for (const rate of [200, 1000])
      await run(`latency-${rate}`, () =>
        runLatency(bench, clients, {
          rate,
          warmupMs: sizes.latencyWarmupMs,
          durationMs: sizes.latencyMs,
          users: sizes.latencyUsers,
          runId,
        }),
      );
    await run('im-fanout', () =>
      runImFanout(clients, {
        gatewayCounts: [1, 2, 4],
        users: sizes.fanoutUsers,
        rate: sizes.fanoutRate,
        steadyRate: sizes.fanoutSteadyRate,
        durationMs: sizes.fanoutMs,
        runId,
      }),
    );
    await run('connections', async () => {
      const curve: ScenarioResult[] = [];
      for (const sockets of sizes.socketCurve) {
        const r = await runConnections(bench, clients, { sockets, runId: `${runId}${sockets}` });
        curve.push({ ...r, name: `connections-${sockets}` });
      }
      return curve;
    });
    await run('hello', () => runHelloCurve(bench, { sizes: sizes.helloItems, runId }));
    await run('snooze-wake', () =>
      runSnoozeWake(bench, clients, {
        users: sizes.snoozeUsers,
        itemsPerUser: sizes.snoozeItemsPerUser,
        leadMs: sizes.snoozeLeadMs,
        runId,
      }),
    );
    await run('http-publish', () => runHttpPublish(bench, { seconds: sizes.httpSeconds, runId }));
    await run('dispatch-im-1-prefilled', async () => {
      const fillSeconds = await prefillDeliveries(bench.db, sizes.prefillRows, `bench_old_${runId}`);
      const r = await runDispatch(bench, clients, {
        name: 'dispatch-im-1-prefilled',
        envelopes: sizes.im1Envelopes,
        recipients: 1,
        users: sizes.dispatchUsers,
        runId,
      });
      const empty = scenarios.find((s) => s.name === 'dispatch-im-1')?.figure ?? null;
      const ratio = empty && r.figure !== null ? r.figure / empty : null;
      return {
        ...r,
        baseline: empty,
        baselineUnit: 'envelopes/s of dispatch-im-1 (empty tables) in this run',
        ratio: ratio === null ? null : Math.round(ratio * 1000) / 1000,
        target: '>= 0.9x of empty tables',
        met: ratio !== null && ratio >= 0.9,
        prefilledRows: sizes.prefillRows,
        prefillSeconds: Math.round(fillSeconds),
      };
    });
    await run('dispatch-im-1-purging', async () => {
      const tag = `bench_old_${runId}`;
      const removed = async () =>
        Number(
          (
            await bench.db.sql.query<{ n: string }>(
              `SELECT count(*)::text AS n FROM "PurgedMessage" WHERE id LIKE $1`,
              [`${tag}-%`],
            )
          ).rows[0]?.n ?? 0,
        );
      const before = await removed();
      const r = await runDispatch(bench, clients, {
        name: 'dispatch-im-1-purging',
        envelopes: sizes.im1Envelopes,
        recipients: 1,
        users: sizes.dispatchUsers,
        runId,
        workerEnv: { HERALD_RETENTION: '1d' },
      });
      const removedDuring = (await removed()) - before;
      if (removedDuring <= 0) throw new Error('retention removed nothing while dispatch ran');
      const full = scenarios.find((s) => s.name === 'dispatch-im-1-prefilled')?.figure ?? null;
      const ratio = full && r.figure !== null ? r.figure / full : null;
      return {
        ...r,
        baseline: full,
        baselineUnit: 'envelopes/s of dispatch-im-1-prefilled (same tables, no purge) in this run',
        ratio: ratio === null ? null : Math.round(ratio * 1000) / 1000,
        target: '>= 0.8x of the same tables without a purge',
        met: ratio !== null && ratio >= 0.8,
        messagesRemovedDuring: removedDuring,
      };
    });
  } finally {
    await clients.stop();
    await sink.stop();
    await bench.destroy().catch((err: unknown) => console.error('bench: cleaning up failed', err));
  }

  const report: BenchReport = {
    at: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: machine(),
    durationMs: Date.now() - began,
    scenarios,
  };
  console.log('');
  printTable(report);
  const written = writeReport(report);
  console.log(`\nwritten to ${written} in ${(report.durationMs / 1000).toFixed(0)} s`);
  const chart = written.replace(/\.json$/, '.png');
  if (await writeChart(report, chart)) console.log(`cost curves drawn in ${chart}`);
  return scenarios.some((s) => s.error) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
