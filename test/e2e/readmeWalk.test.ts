import { describeSkippedBecause } from '../support/services';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';

const ROOT = path.resolve(__dirname, '../..');
const MARKER = '<!-- readme-walk:';

/** The README's walk: the first ```sh block after the marker comment, exactly as a reader copies it. */
export function readmeWalk(readme: string): string {
  const at = readme.indexOf(MARKER);
  if (at < 0) throw new Error('README has no readme-walk marker');
  const m = /```sh\n([\s\S]*?)\n```/.exec(readme.slice(at));
  if (!m?.[1]) throw new Error('no sh block after the readme-walk marker');
  return m[1];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The environment of a fresh terminal: no Herald settings, so `npm start` runs the embedded defaults. */
function freshEnv(port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(HERALD_|DATABASE_URL$|AMQP_URL$|PORT$|HOST$|NODE_OPTIONS$|JEST_|npm_)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, PORT: String(port) };
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; input?: string; stopWhen?: Promise<unknown> },
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    // The walk waits on Herald; if Herald is gone it would wait forever, so end it (and its sleeps).
    void opts.stopWhen?.then(() => {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    });
    const chunks: string[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => chunks.push(b.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out: chunks.join('') }));
    child.stdin.end(opts.input ?? '');
  });
}

const hasCurl = spawnSync('curl', ['--version'], { stdio: 'ignore' }).error === undefined;
const describeWithCurl = (name: string, fn: () => void) =>
  hasCurl ? describe(name, fn) : describeSkippedBecause('curl is not on PATH', name, fn);

describeWithCurl("the README's first walk, pasted as one block", () => {
  let dir: string;
  let port: number;
  let herald: ChildProcess | undefined;
  const heraldOutput: string[] = [];
  let walk: { code: number | null; out: string };

  beforeAll(async () => {
    // A directory of its own, laid out like a checkout after `npm start`: package.json (for
    // `npm run -s herald`), node_modules, and dist/ compiled from the sources; ./.herald starts empty.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-walk-'));
    fs.symlinkSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
    for (const entry of ['node_modules', 'prisma'])
      fs.symlinkSync(path.join(ROOT, entry), path.join(dir, entry));
    const build = await run(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        path.join(ROOT, 'tsconfig.build.json'),
        '--outDir',
        path.join(dir, 'dist'),
        '--sourceMap',
        'false',
        '--declaration',
        'false',
      ],
      { cwd: ROOT, env: process.env },
    );
    if (build.code !== 0) throw new Error(`build failed:\n${build.out}`);

    port = await freePort();
    const env = freshEnv(port);
    herald = spawn(process.execPath, ['dist/cli/main.js', 'start'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    herald.stdout?.on('data', (b: Buffer) => heraldOutput.push(b.toString('utf8')));
    herald.stderr?.on('data', (b: Buffer) => heraldOutput.push(b.toString('utf8')));
    const heraldExited = new Promise((resolve) => herald?.once('exit', resolve));

    // Started right after Herald, as a reader pastes it: the walk itself waits for /ready.
    const script = readmeWalk(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    walk = await run('bash', ['-s'], { cwd: dir, env, input: script, stopWhen: heraldExited });
  }, 240_000);

  afterAll(async () => {
    if (herald && herald.exitCode === null) {
      const exited = new Promise((resolve) => herald?.once('exit', resolve));
      herald.kill('SIGTERM');
      await exited;
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const context = () => `walk output:\n${walk.out}\nherald output:\n${heraldOutput.join('')}`;
  const adminToken = () => fs.readFileSync(path.join(dir, '.herald/admin-token'), 'utf8').trim();

  it('runs to its end and shows the checked variables refused', () => {
    expect({ code: walk.code, context: walk.code === 0 ? '' : context() }).toEqual({
      code: 0,
      context: '',
    });
    expect(walk.out).toContain('invalid_variables');
  });

  it('sent the mail of template version 2 into the outbox', async () => {
    const outbox = path.join(dir, '.herald/outbox');
    const files = fs.readdirSync(outbox).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(1);
    expect(walk.out).toContain(files[0]);
    const mail = await simpleParser(fs.readFileSync(path.join(outbox, files[0] as string)));
    expect(mail.subject).toBe('Your order 981 is on its way');
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value.map((a) => a.address) : []).toEqual([
      'li@example.com',
    ]);
    expect(mail.html).toContain('Hi Li');
  });

  it("put the in-site item in u-17's inbox, and the walk read it with a user token", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/users/u-17/inbox`, {
      headers: { authorization: `Bearer ${adminToken()}` },
    });
    expect(res.status).toBe(200);
    const inbox = (await res.json()) as { items: Array<{ title: string; body: string }> };
    expect(inbox.items.map((i) => [i.title, i.body])).toEqual([
      ['Order 981 is on its way', 'Arrives 2026-11-25'],
    ]);
    // The walk's last command printed the same inbox, fetched with the token `npm run -s herald` made.
    const lastLine = walk.out.trim().split('\n').pop() ?? '';
    const seen = JSON.parse(lastLine) as { items: Array<{ title: string }> };
    expect(seen.items.map((i) => i.title)).toEqual(['Order 981 is on its way']);
  });

  it('recorded the message as completed, with a sent mail and a sent or delivered in-site item', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/messages/order-981-shipped`, {
      headers: { authorization: `Bearer ${adminToken()}` },
    });
    const message = (await res.json()) as {
      status: string;
      deliveries: Array<{ channel: string; status: string }>;
    };
    expect(message.status).toBe('completed');
    expect(message.deliveries.map((d) => d.channel).sort()).toEqual(['im', 'mail']);
    for (const d of message.deliveries) expect(['sent', 'delivered']).toContain(d.status);
  });
});
