import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

/**
 * Does PGlite keep what it committed when its process is killed with SIGKILL in the middle of commits,
 * and does it open again afterwards? Runs `rounds` kill cycles on one data directory and counts.
 *   npx tsx bench/crash/pgliteKillNine.ts [rounds=50]
 */
interface Round {
  started: boolean;
  startMs: number;
  survivedRows: number;
  committedBefore: number;
  lost: number;
  error?: string;
}

const rounds = Number(process.argv[2] ?? 50);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pglite-kill9-'));
const child = path.join(__dirname, 'pgliteCommitter.ts');

function runOnce(
  killAfterMs: number | 'check',
): Promise<{ ready?: [number, number]; lastCommitted: number; error?: string; startMs: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', child, dir, ...(killAfterMs === 'check' ? ['check'] : [])],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let ready: [number, number] | undefined;
    let lastCommitted = 0;
    let error: string | undefined;
    let startMs = 0;
    const lines = readline.createInterface({ input: proc.stdout });
    lines.on('line', (line) => {
      const [word, a, b] = line.split(' ');
      if (word === 'ready') {
        ready = [Number(a), Number(b)];
        startMs = Date.now() - t0;
        if (killAfterMs !== 'check') setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      } else if (word === 'committed') lastCommitted = Number(a);
      else if (word === 'error') error = line.slice(6);
    });
    proc.on('exit', () => resolve({ ready, lastCommitted, error, startMs }));
  });
}

async function main(): Promise<void> {
  const results: Round[] = [];
  let committed = 0; // highest id any child reported as committed
  for (let i = 0; i <= rounds; i++) {
    // The last round only opens the directory and counts.
    const r = await runOnce(i === rounds ? 'check' : 200 + Math.floor(Math.random() * 800));
    const [rowsNow, maxNow] = r.ready ?? [0, 0];
    results.push({
      started: r.ready !== undefined,
      startMs: r.startMs,
      survivedRows: rowsNow,
      committedBefore: committed,
      // every id up to `committed` was acknowledged, so fewer rows (or a lower max) is a loss
      lost: r.ready ? Math.max(0, committed - Math.min(rowsNow, maxNow)) : committed,
      error: r.error,
    });
    if (!r.ready) break;
    committed = Math.max(committed, r.lastCommitted);
  }
  const failedStarts = results.filter((r) => !r.started).length;
  const lost = results.reduce((s, r) => s + r.lost, 0);
  const starts = results
    .filter((r) => r.started)
    .map((r) => r.startMs)
    .sort((a, b) => a - b);
  console.log(
    JSON.stringify(
      {
        kills: results.length - 1,
        acknowledgedCommits: committed,
        finalRows: results.at(-1)?.survivedRows,
        lostCommittedRows: lost,
        failedStarts,
        startMsMedian: starts[Math.floor(starts.length / 2)],
        startMsMax: starts.at(-1),
        errors: results.filter((r) => r.error).map((r) => r.error),
      },
      null,
      2,
    ),
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

void main();
