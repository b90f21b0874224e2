import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describeWith, TEST_AMQP_URL, TEST_DATABASE_URL } from '../support/services';
import { ADMIN_TOKEN } from '../support/testApp';
import { JWT_SECRET, SECRET_KEY } from '../support/testHerald';

const ROOT = path.resolve(__dirname, '../..');

/** Runs `herald start` from the sources until it exits; its exit code and everything it wrote. */
function runStart(
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-startup-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      HERALD_HOME: home,
      HERALD_ADMIN_TOKENS: ADMIN_TOKEN,
      HERALD_JWT_SECRET: JWT_SECRET,
      HERALD_SECRET_KEY: SECRET_KEY,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      fs.rmSync(home, { recursive: true, force: true });
      resolve({ code, stderr, stdout });
    }),
  );
}

describeWith(['postgres', 'rabbitmq'], 'start-up against a wrong vhost or a missing database', () => {
  it('says RabbitMQ refused the vhost, in one line, and exits non-zero', async () => {
    const vhost = `no-such-vhost-${randomBytes(3).toString('hex')}`;
    const r = await runStart({ DATABASE_URL: TEST_DATABASE_URL, AMQP_URL: `${TEST_AMQP_URL}/${vhost}` });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `herald start: RabbitMQ refused vhost ${vhost} (does it exist? rabbitmqctl add_vhost ${vhost}; may guest use it? rabbitmqctl set_permissions -p ${vhost} guest '.*' '.*' '.*')`,
    );
    expect(r.stdout).not.toContain('ConnectionOpenOk');
  }, 60_000);

  it('says the database does not exist, with the createdb to run, and exits non-zero', async () => {
    const name = `no_such_db_${randomBytes(3).toString('hex')}`;
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${name}`;
    const r = await runStart({ DATABASE_URL: url.toString(), AMQP_URL: TEST_AMQP_URL });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `herald start: database ${name} does not exist on ${url.host} (createdb ${name})`,
    );
    expect(r.stdout).not.toMatch(/wasm|at .*\.js:\d+/i);
  }, 60_000);
});
