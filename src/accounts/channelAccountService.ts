import { z } from 'zod';
import type { AuditInTx } from '../audit/auditLog';
import type { PrismaClient } from '../generated/prisma/client';
import { decodeCursor, encodeCursor, keysetPage } from '../http/cursor';
import type {
  AccountListQuery,
  AccountPage,
  AccountView,
  CreateAccountBody,
  ReplaceAccountBody,
  SecretFieldName,
} from '../contract/channelAccount';
import { HeraldError, NotFoundError } from '../errors';
import type { AccountLookup } from '../senders/channel';
import type { AllowedHost } from '../senders/egress';
import {
  accountTypeOf,
  changedSecrets,
  checkEgress,
  splitSecrets,
  toDbType,
  toSenderConfig,
  toView,
} from './accountCodec';
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

/** A write's result, and which secrets it changed (named, never shown: for the audit log). */
export interface AccountSaved {
  view: AccountView;
  secretsChanged: SecretFieldName[];
}

/** A replace's result, with the account as it was (in the same transaction). */
export interface AccountReplaced extends AccountSaved {
  before: AccountView;
}

/** Each write takes `audit`, the change's audit row, and writes it in the write's transaction. */
export interface ChannelAccountService extends AccountLookup {
  create(body: CreateAccountBody, audit?: AuditInTx<AccountSaved>): Promise<AccountSaved>;
  list(query: AccountListQuery): Promise<AccountPage>;
  get(name: string): Promise<AccountView>;
  replace(
    name: string,
    body: ReplaceAccountBody,
    audit?: AuditInTx<AccountReplaced>,
  ): Promise<AccountReplaced>;
  remove(name: string, audit?: AuditInTx<void>): Promise<void>;

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
  /** HERALD_WEBHOOK_ALLOW_HOSTS: hosts beyond the vendors' own that an account may point at. */
  webhookAllowHosts: readonly AllowedHost[];
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
    async create(body, audit) {
      const { name, ...rest } = body;
      checkEgress(rest, deps.webhookAllowHosts);
      const split = splitSecrets(rest);
      const isDefault = accountTypeOf(body.type).defaultable ? body.isDefault : undefined;
      const result = (saved: StoredAccount): AccountSaved => ({
        view: toView(saved.row, saved.secrets),
        secretsChanged: changedSecrets(body.type, {}, saved.secrets),
      });
      const saved = await store.insert(
        name,
        { ...split, type: toDbType(body.type), isDefault },
        audit && ((tx, s) => audit({ prisma: tx }, result(s))),
      );
      changed(name, 'local');
      return result(saved);
    },

    async list({ type, limit, cursor }) {
      const after = cursor === undefined ? undefined : decodeCursor(cursor, nameKey)[0];
      const rows = await store.list({ type: type && toDbType(type), after, limit: limit + 1 });
      const { items, nextCursor } = keysetPage(rows, limit, (last) => encodeCursor([last.row.name]));
      return { items: items.map((s) => toView(s.row, s.secrets)), nextCursor };
    },

    async get(name) {
      const s = await stored(name);
      return toView(s.row, s.secrets);
    },

    async replace(name, body, audit) {
      checkEgress(body, deps.webhookAllowHosts);
      let before: StoredAccount | undefined;
      const result = (saved: StoredAccount): AccountReplaced => ({
        view: toView(saved.row, saved.secrets),
        secretsChanged: changedSecrets(body.type, before?.secrets ?? {}, saved.secrets),
        before: toView((before ?? saved).row, (before ?? saved).secrets),
      });
      const saved = await store.replace(
        name,
        (current) => {
          before = current;
          return {
            ...splitSecrets(requireSecretsForNewDestination(body, current), current.secrets),
            type: toDbType(body.type),
            isDefault: accountTypeOf(body.type).defaultable ? body.isDefault : undefined,
          };
        },
        audit && ((tx, s) => audit({ prisma: tx }, result(s))),
      );
      changed(name, 'local');
      return result(saved);
    },

    async remove(name, audit) {
      await store.remove(name, audit && ((tx) => audit({ prisma: tx }, undefined)));
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
