import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..', '..');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/** `herald start` as a real child process, the way an operator runs it. */
export interface HeraldProcess {
  pid: number;
  port: number;
  baseUrl: string;
  /** Resolves when the process ends, with its code or signal. */
  exited: Promise<Exit>;
  isRunning(): boolean;
  /** The last lines it wrote to stdout and stderr (LOG_LEVEL=warn), for failure messages. */
  output(): string;
  /** Resident set size in bytes, read from /proc; undefined once it has exited. */
  rss(): number | undefined;
  /** GET /ready: its status code, or 0 when nothing answers. */
  ready(): Promise<number>;
  /** The body of the last /ready answer (which check failed, and why). */
  lastReady(): string;
  kill(signal: NodeJS.Signals): void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Spawns `node --import tsx src/cli/main.ts start` with `env` and waits until /ready answers 200. */
export async function startHeraldProcess(
  env: Record<string, string>,
  readyTimeoutMs = 60_000,
): Promise<HeraldProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'warn',
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let running = true;
  let lastReady = '';
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal, at: Date.now() });
    }),
  );
  const pid = child.pid as number;
  const baseUrl = `http://127.0.0.1:${port}`;
  const proc: HeraldProcess = {
    pid,
    port,
    baseUrl,
    exited,
    isRunning: () => running,
    output: () => tail,
    rss() {
      try {
        const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
        return kb ? Number(kb) * 1024 : undefined;
      } catch {
        return undefined;
      }
    },
    async ready() {
      try {
        const res = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(5000) });
        lastReady = await res.text();
        return res.status;
      } catch (err) {
        lastReady = String(err);
        return 0;
      }
    },
    lastReady: () => lastReady,
    kill(signal) {
      if (running) child.kill(signal);
    },
  };
  const until = Date.now() + readyTimeoutMs;
  while ((await proc.ready()) !== 200) {
    if (!running) throw new Error(`herald exited before it was ready:\n${tail}`);
    if (Date.now() > until) {
      proc.kill('SIGKILL');
      throw new Error(`herald was not ready within ${readyTimeoutMs} ms:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return proc;
}
