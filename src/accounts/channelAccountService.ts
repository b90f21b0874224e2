import { z } from 'zod';
import type { PrismaClient } from '../generated/prisma/client';
import { decodeCursor, encodeCursor } from '../http/cursor';
import type {
  AccountListQuery,
  AccountPage,
  AccountView,
  CreateAccountBody,
  ReplaceAccountBody,
} from '../contract/channelAccount';
import { HeraldError, NotFoundError } from '../errors';
import type { AccountLookup } from '../senders/channel';
import { accountTypeOf, splitSecrets, toDbType, toSenderConfig, toView } from './accountCodec';
import { createAccountStore, type StoredAccount } from './accountStore';
import { requireSecretsForNewDestination } from './secretDestination';
import { createSecretBox } from './secretBox';
import type { SecretHealth } from './secretHealth';

/**
 * `local`: a write on this instance committed. `remote`: `invalidate()` was called, e.g. by a broadcast
 * from another instance; whoever broadcasts should forward only `local` changes.
 */
export type AccountChangeOrigin = 'local' | 'remote';
export type AccountChangeListener = (name: string, origin: AccountChangeOrigin) => void;

export interface ChannelAccountService extends AccountLookup {
  create(body: CreateAccountBody): Promise<AccountView>;
  list(query: AccountListQuery): Promise<AccountPage>;
  get(name: string): Promise<AccountView>;
  replace(name: string, body: ReplaceAccountBody): Promise<AccountView>;
  remove(name: string): Promise<void>;

  /** Called after a write commits (and on `invalidate`); returns a function that unsubscribes. */
  onChange(listener: AccountChangeListener): () => void;
  /** Drops cached accounts after a change made elsewhere, and tells the listeners. */
  invalidate(name: string): void;
}

export class UnknownAccountError extends HeraldError {
  constructor(kind: string, name: string) {
    super('unknown_account', `no ${kind} account named "${name}"`, 422);
  }
}

export interface ChannelAccountServiceDeps {
  prisma: PrismaClient;
  secretKey: Buffer;
  /** Keys older secrets may still be sealed with (HERALD_SECRET_KEY_PREVIOUS). */
  previousSecretKeys?: readonly Buffer[];
  /** Told when an account's secrets fail to decrypt (and open again); see secretHealth.ts. */
  secretHealth?: SecretHealth;
  /** How long a decrypted account is reused; bounds staleness when a change broadcast is missed. */
  cacheTtlMs?: number;
}

const nameKey = z.tuple([z.string()]);
const defaultKey = (dbType: string) => `\0default-${dbType}`;

export function createChannelAccountService(deps: ChannelAccountServiceDeps): ChannelAccountService {
  const box = createSecretBox(deps.secretKey, deps.previousSecretKeys);
  const store = createAccountStore({ prisma: deps.prisma, box, health: deps.secretHealth });
  const ttl = deps.cacheTtlMs ?? 60_000;
  const listeners = new Set<AccountChangeListener>();
  const cache = new Map<string, { at: number; value: StoredAccount | undefined }>();
  // A read that started before a write must not put its stale result in the cache after the write.
  let generation = 0;

  async function cached(key: string, load: () => Promise<StoredAccount | undefined>) {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < ttl) return hit.value;
    const started = generation;
    const value = await load();
    if (started === generation) cache.set(key, { at: Date.now(), value });
    return value;
  }

  function changed(name: string, origin: AccountChangeOrigin): void {
    // Any change can move the default, so drop everything; accounts are few and writes rare.
    generation++;
    cache.clear();
    for (const l of listeners) {
      try {
        l(name, origin);
      } catch {
        // A listener's failure must not turn a committed write into an error answer.
      }
    }
  }

  async function stored(name: string): Promise<StoredAccount> {
    const found = await store.find(name);
    if (!found) throw new NotFoundError('channel account', name);
    return found;
  }

  return {
    async create(body) {
      const { name, ...rest } = body;
      const split = splitSecrets(rest);
      const isDefault = accountTypeOf(body.type).defaultable ? body.isDefault : undefined;
      const saved = await store.insert(name, { ...split, type: toDbType(body.type), isDefault });
      changed(name, 'local');
      return toView(saved.row, saved.secrets);
    },

    async list({ type, limit, cursor }) {
      const after = cursor === undefined ? undefined : decodeCursor(cursor, nameKey)[0];
      const rows = await store.list({ type: type && toDbType(type), after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((s) => toView(s.row, s.secrets)),
        nextCursor: rows.length > limit && last ? encodeCursor([last.row.name]) : null,
      };
    },

    async get(name) {
      const s = await stored(name);
      return toView(s.row, s.secrets);
    },

    async replace(name, body) {
      const saved = await store.replace(name, (current) => ({
        ...splitSecrets(requireSecretsForNewDestination(body, current), current.secrets),
        type: toDbType(body.type),
        isDefault: accountTypeOf(body.type).defaultable ? body.isDefault : undefined,
      }));
      changed(name, 'local');
      return toView(saved.row, saved.secrets);
    },

    async remove(name) {
      await store.remove(name);
      changed(name, 'local');
    },

    async find(spec, name) {
      if (name === undefined) {
        if (!spec.defaultable) return undefined;
        const s = await cached(defaultKey(spec.dbType), () => store.findDefault(spec.dbType));
        return s && toSenderConfig(spec, s.row, s.secrets);
      }
      const s = await cached(name, () => store.find(name));
      const config = s && toSenderConfig(spec, s.row, s.secrets);
      if (!config) throw new UnknownAccountError(spec.label, name);
      return config;
    },

    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    invalidate(name) {
      changed(name, 'remote');
    },
  };
}
