import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { eventually } from '../../support/testHerald';

const ROOT = path.resolve(__dirname, '../../..');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/** `herald start` as a real child process, the way an operator runs it. */
export interface HeraldProcess {
  pid: number;
  baseUrl: string;
  /** Everything it printed, for the failure message of a test. */
  output(): string;
  exited: Promise<Exit>;
  signal(sig: NodeJS.Signals): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Spawns `herald start` from the sources (through tsx) and waits until it answers /health. */
export async function startHeraldProcess(env: Record<string, string>): Promise<HeraldProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout?.on('data', (b: Buffer) => chunks.push(b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => chunks.push(b.toString('utf8')));
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const baseUrl = `http://127.0.0.1:${port}`;
  const output = () => chunks.join('');
  try {
    await eventually(
      async () => {
        if (gone) throw new Error(`herald exited during start:\n${output()}`);
        return (await fetch(`${baseUrl}/health`)).ok;
      },
      60_000,
      'herald start to answer /health',
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    pid: child.pid as number,
    baseUrl,
    output,
    exited,
    signal: (sig) => {
      if (!gone) child.kill(sig);
    },
  };
}
