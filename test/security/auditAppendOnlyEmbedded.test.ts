import { cliActor, createAuditLog } from '../../src/audit/auditLog';
import { createTestPglite, type TestDatabase } from '../support/testDatabase';

describe('the audit table is append-only in the embedded database (PGlite) too', () => {
  let tdb: TestDatabase;

  // Migrating an in-memory PGlite takes many seconds on a loaded 2-core machine.
  beforeAll(async () => {
    tdb = await createTestPglite();
  }, 120_000);
  afterAll(async () => {
    await tdb?.drop();
  });

  it('takes an INSERT and refuses UPDATE, DELETE and TRUNCATE', async () => {
    const audit = createAuditLog(tdb.db.prisma);
    await audit.record({
      actor: cliActor(),
      action: 'deadLetter.purge',
      target: { type: 'deadLetter', id: '*' },
      detail: { purged: 3 },
    });
    for (const sql of [
      `UPDATE "AuditEvent" SET "actorId" = 'someone-else'`,
      `DELETE FROM "AuditEvent"`,
      `TRUNCATE "AuditEvent"`,
    ])
      await expect(tdb.db.sql.query(sql)).rejects.toThrow(/AuditEvent is append-only/);
    await expect(
      tdb.db.prisma.auditEvent.deleteMany({ where: { action: 'deadLetter.purge' } }),
    ).rejects.toThrow(/append-only/);
    const rows = await audit.list({ limit: 10 });
    expect(rows.map((r) => [r.action, r.actorId.startsWith('cli:'), r.detail])).toEqual([
      ['deadLetter.purge', true, { purged: 3 }],
    ]);
  });
});
