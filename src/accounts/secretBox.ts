import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { OperatorError } from '../errors';

/** The secret fields of one channel account, e.g. `{ password }` or `{ accessToken, secret }`. */
export type SecretFields = Record<string, string>;

export interface SecretBox {
  /** Encrypts with a fresh random IV: `v1.<iv>.<tag>.<ciphertext>`, each part base64url. */
  seal(fields: SecretFields): string;
  /** Decrypts and authenticates; throws SecretBoxError on a wrong key, tampering or a bad format. */
  open(sealed: string): SecretFields;
}

/**
 * Never carries the plaintext or the key, only what went wrong. Not a HeraldError: over HTTP it is an
 * internal error, logged and answered with a generic 500.
 */
export class SecretBoxError extends OperatorError {
  constructor(message: string) {
    super('secret_decrypt_failed', message);
  }
}

/**
 * A key of its own for one `purpose`, derived (HKDF-SHA256) from HERALD_SECRET_KEY: no new secret to
 * configure, every instance on a shared database derives the same one, and it never equals the key that
 * seals secrets nor another purpose's.
 */
export function deriveKey(secretKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), purpose, 32));
}

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals with `key`; opens with `key`, then with each of `previousKeys` (HERALD_SECRET_KEY_PREVIOUS), so keys
 * can be rotated: what a previous key opened is sealed with `key` on its next write.
 */
export function createSecretBox(key: Buffer, previousKeys: readonly Buffer[] = []): SecretBox {
  const current = createSingleKeyBox(key);
  const previous = previousKeys.map(createSingleKeyBox);
  if (!previous.length) return current;
  return {
    seal: current.seal,
    open(sealed) {
      try {
        return current.open(sealed);
      } catch (err) {
        for (const box of previous) {
          try {
            return box.open(sealed);
          } catch {
            // try the next one
          }
        }
        if (err instanceof SecretBoxError && err.message.startsWith('stored secrets could not be decrypted'))
          throw new SecretBoxError(
            'stored secrets could not be decrypted with HERALD_SECRET_KEY nor any of HERALD_SECRET_KEY_PREVIOUS, or the data was altered',
          );
        throw err;
      }
    },
  };
}

function createSingleKeyBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error(`the secret key must be 32 bytes, got ${key.length}`);
  // AAD binds the ciphertext to the format version, so a future v2 blob cannot be replayed as v1.
  const aad = Buffer.from(VERSION);
  return {
    seal(fields) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad);
      const data = Buffer.concat([cipher.update(JSON.stringify(fields), 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, iv, tag, data]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    open(sealed) {
      const [version, ivPart, tagPart, dataPart, ...rest] = sealed.split('.');
      if (version !== VERSION || dataPart === undefined || rest.length > 0)
        throw new SecretBoxError('stored secrets are not in the v1 format');
      const iv = Buffer.from(ivPart ?? '', 'base64url');
      const tag = Buffer.from(tagPart ?? '', 'base64url');
      const data = Buffer.from(dataPart, 'base64url');
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES)
        throw new SecretBoxError('stored secrets are not in the v1 format');
      let plain: string;
      try {
        const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad);
        decipher.setAuthTag(tag);
        plain = Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretBoxError(
          'stored secrets could not be decrypted: HERALD_SECRET_KEY differs from the key they were written with, or the data was altered',
        );
      }
      return parseFields(plain);
    },
  };
}

function parseFields(plain: string): SecretFields {
  const value: unknown = JSON.parse(plain);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new SecretBoxError('stored secrets are not an object');
  const out: SecretFields = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new SecretBoxError(`stored secret "${k}" is not a string`);
    out[k] = v;
  }
  return out;
}
