import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Database } from '../../src/db/database';
import { migrateDatabase } from '../../src/db/migrateDatabase';
import { createPgliteDatabase } from '../../src/db/pgliteDatabase';
import { createPostgresDatabase } from '../../src/db/postgresDatabase';
import { describeWith, TEST_DATABASE_URL, withSchema } from '../support/services';

// Every way a `;` can sit inside one statement: comments (nested ones too), quoted names, standard and
// E'' strings with their escapes, dollar quotes with and without tags, and a `$$` inside a `$tag$`.
const TRICKY = String.raw`-- a comment; with a semicolon and a quote '
/* a block comment; /* nested; */ still a comment; ' */
CREATE TABLE "semi;colon" ("id" TEXT PRIMARY KEY, "note" TEXT NOT NULL);
INSERT INTO "semi;colon" VALUES
  ('a;b', 'it''s; quoted'),
  ('c', E'back\'slash; \x3B'),
  ('d', $q$dollar; 'quoted' -- not a comment$q$),
  ('e', 'back\'), ('f', '; ok');
CREATE FUNCTION "twice"(t TEXT) RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
  r TEXT;
BEGIN
  r := t || ';' || t;
  RETURN r;
END;
$$;
CREATE FUNCTION "nested"() RETURNS TEXT LANGUAGE plpgsql AS $body$
BEGIN
  RETURN $$inner; $$ || 'x';
END
$body$;
`;

/** A migrations folder of its own: the lock file and one migration per [name, sql]. */
function migrationsDir(migrations: Array<[string, string]>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-migr-'));
  fs.writeFileSync(path.join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  for (const [name, sql] of migrations) {
    fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

const databases: Array<[string, Array<'postgres'>, () => Promise<{ db: Database; drop(): Promise<void> }>]> =
  [
    [
      'PostgreSQL',
      ['postgres'],
      async () => {
        const schema = `t_scripts_${randomBytes(5).toString('hex')}`;
        const db = createPostgresDatabase(withSchema(TEST_DATABASE_URL, schema), 2);
        return {
          db,
          async drop() {
            await db.sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
            await db.close();
          },
        };
      },
    ],
    [
      'PGlite',
      [],
      async () => {
        const db = await createPgliteDatabase();
        return { db, drop: () => db.close() };
      },
    ],
  ];

for (const [name, needs, open] of databases) {
  describeWith(needs, `migration scripts on ${name}`, () => {
    let target: { db: Database; drop(): Promise<void> };
    beforeEach(async () => {
      target = await open();
    });
    afterEach(async () => {
      await target.drop();
    });

    it('runs each statement whole, whatever the semicolons inside it', async () => {
      const dir = migrationsDir([['20200101000000_tricky', TRICKY]]);
      expect(await migrateDatabase(target.db, dir)).toEqual(['20200101000000_tricky']);
      const { rows } = await target.db.sql.query<{ id: string; note: string }>(
        'SELECT "id", "note" FROM "semi;colon" ORDER BY "id"',
      );
      expect(rows).toEqual([
        { id: 'a;b', note: "it's; quoted" },
        { id: 'c', note: "back'slash; ;" },
        { id: 'd', note: "dollar; 'quoted' -- not a comment" },
        { id: 'e', note: 'back\\' },
        { id: 'f', note: '; ok' },
      ]);
      const fns = await target.db.sql.query<{ twice: string; nested: string }>(
        `SELECT "twice"('x') AS twice, "nested"() AS nested`,
      );
      expect(fns.rows).toEqual([{ twice: 'x;x', nested: 'inner; x' }]);
      // Recorded as applied: a second run has nothing to do.
      expect(await migrateDatabase(target.db, dir)).toEqual([]);
    });

    it('leaves nothing of a migration that fails part-way, and says why', async () => {
      const dir = migrationsDir([
        ['20200101000000_half', 'CREATE TABLE "half" ("id" INT);\nINSERT INTO "missing" VALUES (1);\n'],
      ]);
      await expect(migrateDatabase(target.db, dir)).rejects.toThrow(/missing/);
      const { rows } = await target.db.sql.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM pg_tables WHERE tablename = 'half'`,
      );
      expect(rows).toEqual([{ n: '0' }]);
    });
  });
}
