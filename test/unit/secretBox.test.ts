import { randomBytes } from 'node:crypto';
import { createSecretBox, SecretBoxError } from '../../src/accounts/secretBox';

const key = randomBytes(32);
const box = createSecretBox(key);
const fields = { password: 'hunter2-Ünïcødé', accessToken: 'tok_abc' };

/** Flips one bit in part `index` (1 = iv, 2 = tag, 3 = ciphertext) of a sealed string. */
function flip(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index] ?? '', 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('secretBox', () => {
  it('round-trips the secret fields', () => {
    expect(box.open(box.seal(fields))).toEqual(fields);
    expect(box.open(box.seal({}))).toEqual({});
  });

  it('writes the versioned format without the plaintext', () => {
    const sealed = box.seal(fields);
    expect(sealed).toMatch(/^v1\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
    expect(sealed).not.toContain('hunter2');
    expect(Buffer.from(sealed.split('.')[3] ?? '', 'base64url').toString('latin1')).not.toContain('hunter2');
  });

  it('uses a fresh IV: two encryptions of the same value differ', () => {
    const a = box.seal(fields);
    const b = box.seal(fields);
    expect(a).not.toBe(b);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
    expect(box.open(a)).toEqual(box.open(b));
  });

  it.each([
    ['iv', 1],
    ['tag', 2],
    ['ciphertext', 3],
  ])('detects a tampered %s', (_part, index) => {
    const tampered = flip(box.seal(fields), index);
    expect(() => box.open(tampered)).toThrow(SecretBoxError);
    expect(() => box.open(tampered)).toThrow(/could not be decrypted/);
  });

  it('refuses a wrong key with a clear error that does not carry the plaintext', () => {
    const sealed = box.seal(fields);
    const other = createSecretBox(randomBytes(32));
    let caught: unknown;
    try {
      other.open(sealed);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SecretBoxError);
    const err = caught as SecretBoxError;
    expect(err.code).toBe('secret_decrypt_failed');
    expect(err.message).toMatch(/HERALD_SECRET_KEY/);
    expect(`${err.message} ${err.stack ?? ''} ${JSON.stringify(err)}`).not.toContain('hunter2');
  });

  it.each(['', 'v2.a.b.c', 'v1.a.b', 'v1.a.b.c.d', 'plain text'])('refuses the malformed %j', (bad) => {
    expect(() => box.open(bad)).toThrow(/not in the v1 format/);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => createSecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});
