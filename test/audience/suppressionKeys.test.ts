import { randomBytes } from 'node:crypto';
import { createSuppressions } from '../../src/audience/suppressionList';
import { createTestPglite, type TestDatabase } from '../support/testDatabase';

/**
 * An erased person's suppression is kept by a keyed hash of the address (src/audience/suppressionList.ts),
 * whose key is derived from HERALD_SECRET_KEY: found through a rotation while the old key is listed in
 * HERALD_SECRET_KEY_PREVIOUS, and by nothing that lacks the key.
 */
describe('suppression entries of erased people, across a key rotation', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestPglite();
  }, 60_000);
  afterAll(() => tdb?.drop());

  it('are found with the old key among the previous ones, and not without it', async () => {
    const sql = tdb.db.sql;
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = createSuppressions({ secretKey: oldKey, previousSecretKeys: [] });
    await before.suppress(sql, { address: 'Kept@Example.com', reason: 'unsubscribed' });
    expect(await before.forget(sql, ['kept@example.com'])).toBe(1);
    // Forgetting again changes nothing: there is no entry in clear left.
    expect(await before.forget(sql, ['kept@example.com'])).toBe(0);

    const rotating = createSuppressions({ secretKey: newKey, previousSecretKeys: [oldKey] });
    expect(await rotating.among(sql, ['KEPT@example.com', 'other@example.com'])).toEqual(
      new Map([['kept@example.com', 'unsubscribed']]),
    );
    expect(await rotating.find(sql, 'kept@example.com')).toMatchObject({ address: null, erased: true });

    const elsewhere = createSuppressions({ secretKey: newKey, previousSecretKeys: [] });
    expect((await elsewhere.among(sql, ['kept@example.com'])).size).toBe(0);

    expect(await rotating.unsuppress(sql, 'kept@example.com')).toBe(true);
    expect(await rotating.find(sql, 'kept@example.com')).toBeUndefined();
  });
});
