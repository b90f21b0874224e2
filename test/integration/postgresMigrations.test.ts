import { createPostgresDatabase } from '../../src/db/postgresDatabase';
import { migrateDatabase } from '../../src/db/migrateDatabase';
import { describeWith, TEST_DATABASE_URL, withSchema } from '../support/services';

describeWith(['postgres'], 'migrations on PostgreSQL', () => {
  const schema = `t_migr_${process.pid}_${Date.now()}`;
  const db = () => createPostgresDatabase(withSchema(TEST_DATABASE_URL, schema), 2);

  afterAll(async () => {
    const d = db();
    await d.sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await d.close();
  });

  it('applies every migration once, then re-applies as a no-op', async () => {
    const first = db();
    const applied = await migrateDatabase(first);
    expect(applied.length).toBeGreaterThan(0);
    const { rows } = await first.sql.query<{ migration_name: string; finished_at: Date | null }>(
      'SELECT migration_name, finished_at FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((r) => r.migration_name)).toEqual(applied);
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);
    await first.close();

    const second = db();
    expect(await migrateDatabase(second)).toEqual([]);
    expect(await second.prisma.template.count()).toBe(0);
    await second.close();
  });
});
