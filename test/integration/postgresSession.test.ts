import { createPostgresDatabase } from '../../src/db/postgresDatabase';
import { describeWith, TEST_DATABASE_URL, withSchema } from '../support/services';

// With JIT on, a batched statement whose cost estimate crossed jit_above_cost on a large table was
// compiled on every IM batch (0.4 to 1.1 s for a statement that touched no row): the pool turns it off.
describeWith(['postgres'], "Herald's PostgreSQL sessions", () => {
  const schema = `t_session_${process.pid}_${Date.now()}`;

  it('run with JIT off and the schema of the URL on the search path, in plain queries, transactions and Prisma', async () => {
    const db = createPostgresDatabase(withSchema(TEST_DATABASE_URL, schema), 2);
    try {
      const plain = await db.sql.query<{ jit: string; path: string }>(
        `SELECT current_setting('jit') AS jit, current_setting('search_path') AS path`,
      );
      expect(plain.rows[0]).toEqual({ jit: 'off', path: `"${schema}"` });
      const inTx = await db.sql.transaction((tx) =>
        tx.query<{ jit: string }>(`SELECT current_setting('jit') AS jit`),
      );
      expect(inTx.rows[0]?.jit).toBe('off');
      const viaPrisma = await db.prisma.$queryRawUnsafe<Array<{ jit: string }>>(
        `SELECT current_setting('jit') AS jit`,
      );
      expect(viaPrisma[0]?.jit).toBe('off');
    } finally {
      await db.close();
    }
  });
});
