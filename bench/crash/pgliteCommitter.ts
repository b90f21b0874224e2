import { PGlite } from '@electric-sql/pglite';

/**
 * Child of pgliteKillNine.ts: opens PGlite in the given directory, reports how many rows survived, then
 * commits rows one transaction at a time and prints each id only after its COMMIT returned, until killed
 * (with `check` as second argument it only reports and exits).
 */
async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: pgliteCommitter <dataDir>');
  const db = new PGlite(dir);
  await db.waitReady;
  await db.exec('CREATE TABLE IF NOT EXISTS journal (id bigint PRIMARY KEY, body text NOT NULL)');
  const { rows } = await db.query<{ n: number; max: number | null }>(
    'SELECT count(*)::int AS n, max(id)::int AS max FROM journal',
  );
  const start = rows[0] ?? { n: 0, max: null };
  process.stdout.write(`ready ${start.n} ${start.max ?? 0}\n`);
  if (process.argv[3] === 'check') {
    await db.close();
    return;
  }
  const body = 'x'.repeat(512);
  for (let id = (start.max ?? 0) + 1; ; id++) {
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO journal (id, body) VALUES ($1, $2)', [id, body]);
    });
    process.stdout.write(`committed ${id}\n`);
  }
}

main().catch((err: unknown) => {
  process.stdout.write(`error ${(err as Error).message.replace(/\n/g, ' ')}\n`);
  process.exit(1);
});
