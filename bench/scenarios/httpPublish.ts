import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import { startChild } from '../lib/childRpc';
import { AMQP_URL } from '../lib/services';
import { pipelineCounts, type BenchDeployment } from '../lib/deployment';
import type { ScenarioResult } from '../lib/report';
import { expectCount, round, waitUntil } from '../lib/stats';
import { ADMIN_TOKEN } from '../../test/support/testApp';

const run = promisify(execFile);

async function queueDepth(queue: string): Promise<number> {
  const conn = await amqplib.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    return (await ch.checkQueue(queue)).messageCount;
  } finally {
    await conn.close();
  }
}
const CONNECTIONS = 64;

/** A wrk script that POSTs a fresh envelope id on every request (the id is the idempotency key). */
function wrkScript(template: string, tag: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'herald-wrk-')), 'publish.lua');
  fs.writeFileSync(
    file,
    `local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function request()
  counter = counter + 1
  local body = string.format('{"id":"${tag}-%d-%d","template":"${template}","to":[{"userId":"u-%d"}],"data":{"n":%d}}', tid, counter, counter % 100, counter)
  return wrk.format("POST", "/v1/messages", { ["content-type"] = "application/json", ["authorization"] = "Bearer ${ADMIN_TOKEN}" }, body)
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.3f %.3f\\n", summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, latency.mean / 1000, latency:percentile(99) / 1000))
end
`,
  );
  return file;
}

interface WrkResult {
  requests: number;
  non2xx: number;
  socketErrors: number;
  meanMs: number;
  p99Ms: number;
  rps: number;
}

async function wrk(url: string, script: string, seconds: number): Promise<WrkResult> {
  const { stdout } = await run(
    'wrk',
    ['-t2', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, url],
    { timeout: (seconds + 30) * 1000 },
  ).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new Error('wrk is not installed (Debian: apt-get install wrk)');
    throw err;
  });
  const m = /RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)/.exec(stdout);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  if (!m || !rps) throw new Error(`unexpected wrk output: ${stdout}`);
  return {
    requests: Number(m[1]),
    non2xx: Number(m[2]),
    socketErrors: Number(m[3]),
    meanMs: Number(m[4]),
    p99Ms: Number(m[5]),
    rps: Number(rps[1]),
  };
}

/**
 * http-publish: POST /v1/messages at 64 connections with wrk against Herald's api role, and against a
 * bare Fastify server that validates the same schema and confirm-publishes (a child process), in the same
 * run. Every message Herald accepted must then complete.
 */
export async function runHttpPublish(
  bench: BenchDeployment,
  o: { seconds: number; runId: string },
): Promise<ScenarioResult> {
  const code = `bench_http_${o.runId}`;
  const api = await bench.start('api');
  let herald: WrkResult;
  try {
    await bench.api(api).createTemplate({
      code,
      name: 'Bench HTTP publish',
      variables: { n: 'number' },
      channels: { im: { title: 'Item {{ n }}', body: 'b' } },
    });
    await bench.declareTopology();
    herald = await wrk(`${api.baseUrl}/v1/messages`, wrkScript(code, `h${o.runId}`), o.seconds);
  } finally {
    await api.stop();
  }
  expectCount('http-publish: Herald non-2xx answers', herald.non2xx, 0);
  expectCount('http-publish: Herald socket errors', herald.socketErrors, 0);

  // Every accepted envelope completes: a consumer drains what the api published. wrk counts only the
  // answers it read before its time was up, so the queue (not wrk) says how many were accepted.
  const accepted = await queueDepth(`${bench.dep.prefix}herald.dispatch`);
  if (accepted < herald.requests)
    throw new Error(
      `http-publish: ${herald.requests} answered 202 but only ${accepted} envelopes are queued`,
    );
  const worker = await bench.start('consumer');
  try {
    let counts = await pipelineCounts(bench.db, code);
    await waitUntil(
      async () => {
        counts = await pipelineCounts(bench.db, code);
        return counts.completed >= accepted ? true : undefined;
      },
      {
        timeoutMs: Math.max(60_000, accepted * 5),
        describe: () => `http-publish: ${counts.completed}/${accepted} completed`,
      },
    );
    expectCount('http-publish: messages completed', counts.completed, accepted);
  } finally {
    await worker.stop();
  }

  const bare = await startChild('bareHttpPublisher');
  let baseline: WrkResult;
  try {
    const { port } = await bare.call<{ port: number }>('listen', { prefix: bench.dep.prefix });
    baseline = await wrk(`http://127.0.0.1:${port}/v1/messages`, wrkScript(code, `b${o.runId}`), o.seconds);
  } finally {
    await bare.call('close').catch(() => undefined);
    await bare.stop();
  }
  expectCount('http-publish: bare server non-2xx answers', baseline.non2xx, 0);

  const ratio = herald.rps / baseline.rps;
  return {
    name: 'http-publish',
    figure: round(herald.rps),
    unit: 'requests/s',
    baseline: round(baseline.rps),
    ratio: round(ratio, 3),
    target: '>= 0.7x',
    met: ratio >= 0.7,
    connections: CONNECTIONS,
    accepted,
    meanMs: round(herald.meanMs, 2),
    p99Ms: round(herald.p99Ms, 2),
    baselineMeanMs: round(baseline.meanMs, 2),
    baselineP99Ms: round(baseline.p99Ms, 2),
    baselineUnit: 'requests/s (bare Fastify + zod + amqplib confirm publish)',
  };
}
