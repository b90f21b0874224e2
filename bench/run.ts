import './lib/services';
import { randomBytes } from 'node:crypto';
import { startChild } from './lib/childRpc';
import { createBenchDeployment } from './lib/deployment';
import { machine, printTable, writeReport, type BenchReport, type ScenarioResult } from './lib/report';
import { FULL, QUICK } from './lib/sizes';
import { runConnections } from './scenarios/connections';
import { runDispatch } from './scenarios/dispatch';
import { runHelloCurve } from './scenarios/hello';
import { runHttpPublish } from './scenarios/httpPublish';
import { prefillDeliveries } from './lib/prefill';
import { runLatency } from './scenarios/latency';
import { runMail } from './scenarios/mail';
import { runStart } from './scenarios/start';

/**
 * `npm run bench [-- --quick] [-- --only=mail,start]`: runs the scenarios of issue 6 on real RabbitMQ and
 * PostgreSQL under a random prefix and schema, prints the table and writes bench/results/latest.json.
 * Exits 1 when any scenario failed or counted less than it sent.
 */
const NAMES = [
  'start',
  'dispatch-im-1',
  'dispatch-im-10',
  'dispatch-im-100',
  'dispatch-im-1000',
  'mail',
  'latency-200',
  'latency-1000',
  'connections',
  'hello',
  'http-publish',
  // Last: it leaves millions of old rows behind for whatever would run after it.
  'dispatch-im-1-prefilled',
];

async function main(): Promise<number> {
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
      console.error(`bench: still running after ${quick ? 5 : 40} minutes; giving up`);
      process.exit(2);
    },
    (quick ? 5 : 40) * 60_000,
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
    await run('dispatch-im-10', () =>
      runDispatch(bench, clients, {
        name: 'dispatch-im-10',
        envelopes: sizes.im10Envelopes,
        recipients: 10,
        users: sizes.dispatchUsers,
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
    await run('connections', async () => {
      const curve: ScenarioResult[] = [];
      for (const sockets of sizes.socketCurve) {
        const r = await runConnections(bench, clients, { sockets, runId: `${runId}${sockets}` });
        curve.push({ ...r, name: `connections-${sockets}` });
      }
      return curve;
    });
    await run('hello', () => runHelloCurve(bench, { sizes: sizes.helloItems, runId }));
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
  console.log(`\nwritten to ${writeReport(report)} in ${(report.durationMs / 1000).toFixed(0)} s`);
  return scenarios.some((s) => s.error) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
