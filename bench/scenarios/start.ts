import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ScenarioResult } from '../lib/report';
import { round } from '../lib/stats';

const ROOT = path.join(__dirname, '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Spawns `herald start` with nothing configured but a home and a port; ms from spawn to 200 on /ready. */
async function timeToReady(home: string): Promise<number> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HERALD_HOME: home,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  };
  for (const k of ['DATABASE_URL', 'AMQP_URL', 'HERALD_ADMIN_TOKENS', 'HERALD_ROLES', 'HERALD_QUEUE_PREFIX'])
    delete env[k];
  const started = performance.now();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited: number | null | undefined;
  proc.once('exit', (code) => (exited = code));
  try {
    for (;;) {
      if (exited !== undefined) throw new Error(`herald start exited with ${exited} before /ready`);
      if (performance.now() - started > 60_000) throw new Error('herald start: not ready within 60 s');
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return performance.now() - started;
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    if (exited === undefined) {
      const gone = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
  }
}

/** start: the embedded default (PGlite, in-process queue, outbox) from spawn to /ready, fresh and again. */
export async function runStart(): Promise<ScenarioResult> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bench-start-'));
  try {
    const fresh = await timeToReady(home);
    const again = await timeToReady(home);
    return {
      name: 'start',
      figure: round(fresh),
      unit: 'ms',
      baseline: null,
      ratio: null,
      freshHomeMs: round(fresh),
      restartMs: round(again),
      how: 'node --import tsx src/cli/main.ts start, empty HERALD_HOME (migrations included), then again on the same home',
    };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}
