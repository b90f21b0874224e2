import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { amqpVhost, canConnect, withSchema } from '../support/services';

describe('test service URLs (any valid TEST_DATABASE_URL / TEST_AMQP_URL)', () => {
  it('adds the schema to a URL with or without query parameters', () => {
    expect(withSchema('postgresql://root@127.0.0.1:5432/db', 't_1')).toBe(
      'postgresql://root@127.0.0.1:5432/db?schema=t_1',
    );
    expect(withSchema('postgresql:///db?host=/var/run/postgresql&user=root', 't_1')).toBe(
      'postgresql:///db?host=/var/run/postgresql&user=root&schema=t_1',
    );
  });

  it('reads the vhost of an AMQP URL', () => {
    expect(amqpVhost('amqp://guest:guest@127.0.0.1:5672')).toBe('/');
    expect(amqpVhost('amqp://guest:guest@127.0.0.1:5672/')).toBe('/');
    expect(amqpVhost('amqp://guest:guest@127.0.0.1:5672/%2F')).toBe('/');
    expect(amqpVhost('amqp://guest:guest@127.0.0.1:5672/herald_ci')).toBe('herald_ci');
  });

  it('probes a PostgreSQL Unix socket named by ?host=', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgsock-'));
    const server = net.createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(path.join(dir, '.s.PGSQL.5999'), resolve));
    try {
      expect(await canConnect(`postgresql:///db?host=${dir}`, 5999)).toBe(true);
      expect(await canConnect(`postgresql://root@localhost:5998/db?host=${dir}`, 5432)).toBe(false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
