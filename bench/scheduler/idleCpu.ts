import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/loadConfig';
import { startRuntime } from '../../src/runtime';
import { createPostgresDatabase } from '../../src/db/postgresDatabase';

/**
 * Idle CPU of a whole Herald (every role, its scheduler running) with 100,000 rows due tomorrow in
 * ScheduledJob, over 30 s.   npx tsx bench/scheduler/idleCpu.ts [pglite|postgres] [seconds=30] [rows=100000]
 * postgres uses BENCH_DATABASE_URL (or TEST_DATABASE_URL) in a schema of its own, dropped afterwards.
 */
async function main(): Promise<void> {
  const backend = process.argv[2] ?? 'pglite';
  const seconds = Number(process.argv[3] ?? 30);
  const rows = Number(process.argv[4] ?? 100_000);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-idle-'));
  const baseUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = { HERALD_HOME: home, LOG_LEVEL: 'warn', PORT: '0' };
  if (backend === 'postgres') {
    if (!baseUrl) throw new Error('set BENCH_DATABASE_URL for the postgres run');
    env.DATABASE_URL = `${baseUrl}${baseUrl.includes('?') ? '&' : '?'}schema=${schema}`;
    // A shared database asks for the secrets every instance must hold alike; this run makes up its own.
    env.HERALD_SECRET_KEY = randomBytes(32).toString('base64');
    env.HERALD_JWT_SECRET = randomBytes(32).toString('hex');
    env.HERALD_ADMIN_TOKENS = randomBytes(24).toString('hex');
  }
  const runtime = await startRuntime(loadConfig(env), pino({ level: 'warn' }));
  await runtime.ctx.db.sql.query(
    `INSERT INTO "ScheduledJob" (kind, key, payload, "dueAt", "runAt")
     SELECT 'envelope', 'idle-' || g, '{}'::jsonb, now() + interval '1 day', now() + interval '1 day'
     FROM generate_series(1, $1::int) g`,
    [rows],
  );
  await new Promise((r) => setTimeout(r, 2000));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(
    JSON.stringify({
      backend,
      futureRows: rows,
      seconds: Math.round(wallMs / 1000),
      cpuMs: Math.round(cpuMs),
      cpuPercentOfOneCore: Number(((100 * cpuMs) / wallMs).toFixed(2)),
    }),
  );
  await runtime.drain();
  await runtime.close();
  if (env.DATABASE_URL) {
    const db = createPostgresDatabase(env.DATABASE_URL, 1);
    await db.sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.close();
  }
  fs.rmSync(home, { recursive: true, force: true });
}

void main();
