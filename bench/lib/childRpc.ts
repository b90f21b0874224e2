import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** A message the parent sends: call `cmd` with `args`. */
export interface RpcRequest {
  id: number;
  cmd: string;
  args: unknown;
}

/** The child's answer to one request. */
export interface RpcReply {
  id: number;
  result?: unknown;
  error?: string;
}

export interface Child {
  call<T>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Forks one of bench/children/*.ts under tsx (socket clients, the bare ws server, the SMTP sink), so
 * their sockets and CPU are not the measured process's.
 */
export function startChild(name: string, env: Record<string, string> = {}): Promise<Child> {
  const file = path.join(__dirname, '..', 'children', `${name}.ts`);
  const proc: ChildProcess = fork(file, [], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let exited = false;
  proc.on('message', (m: RpcReply) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.error !== undefined) w.reject(new Error(`${name}: ${m.error}`));
    else w.resolve(m.result);
  });
  proc.on('exit', (code) => {
    exited = true;
    for (const w of waiting.values()) w.reject(new Error(`${name} exited with ${code}`));
    waiting.clear();
  });
  const child: Child = {
    pid: proc.pid as number,
    call<T>(cmd: string, args?: unknown, timeoutMs = 120_000) {
      if (exited) return Promise.reject(new Error(`${name} has exited`));
      const id = ++next;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`${name}: ${cmd} did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        proc.send({ id, cmd, args } satisfies RpcRequest);
      });
    },
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
  return new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.once('spawn', () => resolve(child));
  });
}

/** The child's side: answers requests with the handlers; unknown commands fail. */
export function serveRpc(handlers: Record<string, (args: never) => unknown>): void {
  process.on('message', (m: RpcRequest) => {
    const handler = handlers[m.cmd];
    const reply = (r: Omit<RpcReply, 'id'>) => process.send?.({ id: m.id, ...r });
    if (!handler) return reply({ error: `unknown command ${m.cmd}` });
    Promise.resolve()
      .then(() => handler(m.args as never))
      .then(
        (result) => reply({ result: result ?? null }),
        (err: unknown) => reply({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
}

/** RSS after a full collection, in bytes (children run with --expose-gc). */
export function settledRss(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().rss;
}
