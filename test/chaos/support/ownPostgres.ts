import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { canConnect } from '../../support/services';
import { freePort } from './heraldProcess';
import { waitUntil } from './waitUntil';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the scenario's own (pg_createcluster on a free port, trust auth on
 * localhost, small buffers), so that restarting PostgreSQL never touches the machine's cluster on 5432
 * that everyone else is testing against. `drop()` stops and deletes it.
 */
export interface OwnPostgres {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  drop(): Promise<void>;
}

export async function createOwnPostgres(): Promise<OwnPostgres> {
  const version = fs.readdirSync('/usr/lib/postgresql').sort().at(-1) as string;
  const name = `herald_chaos_${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const ctl = (...args: string[]) =>
    run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, ...args]);
  await run('pg_createcluster', [
    version,
    name,
    '--port',
    String(port),
    '-o',
    'shared_buffers=32MB',
    '-o',
    'max_connections=200',
    '--',
    '--auth=trust',
  ]);
  await ctl('start');
  const psql = (sql: string) =>
    run('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-qc', sql]);
  await psql('CREATE ROLE root SUPERUSER LOGIN');
  await psql('CREATE DATABASE herald_chaos OWNER root');
  const url = `postgresql://root@127.0.0.1:${port}/herald_chaos`;
  return {
    url,
    stop: async () => {
      await ctl('stop', '-m', 'fast');
    },
    async start() {
      await ctl('start');
      await waitUntil(() => canConnect(url, port), 60_000, 'own PostgreSQL to accept connections');
    },
    async drop() {
      await run('pg_dropcluster', [version, name, '--stop']);
    },
  };
}
