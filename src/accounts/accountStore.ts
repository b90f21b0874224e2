import {
  Prisma,
  type ChannelAccount,
  type ChannelAccountType,
  type PrismaClient,
} from '../generated/prisma/client';
import { ConflictError, NotFoundError } from '../errors';
import type { SplitAccount } from './accountCodec';
import type { SecretBox, SecretFields } from './secretBox';
import { openWatched, type SecretHealth } from './secretHealth';

/** A row with its secrets decrypted. */
export interface StoredAccount {
  row: ChannelAccount;
  secrets: SecretFields;
}

export interface AccountWrite extends SplitAccount {
  type: ChannelAccountType;
  /** undefined on replace keeps the stored flag. */
  isDefault?: boolean;
}

export interface AccountStore {
  find(name: string): Promise<StoredAccount | undefined>;
  /** The account of this type marked default, else the only one of the type, else undefined. */
  findDefault(type: ChannelAccountType): Promise<StoredAccount | undefined>;
  list(opts: { type?: ChannelAccountType; after?: string; limit: number }): Promise<StoredAccount[]>;
  /** Each write calls `inTx` (the change's audit row) with what it wrote, before its commit. */
  insert(name: string, write: AccountWrite, inTx?: WrittenInTx): Promise<StoredAccount>;
  /** `build` gets the stored account inside the transaction, so omitted secrets can be carried over. */
  replace(
    name: string,
    build: (current: StoredAccount) => AccountWrite,
    inTx?: WrittenInTx,
  ): Promise<StoredAccount>;
  remove(name: string, inTx?: (tx: Tx) => Promise<void>): Promise<void>;
}

type Tx = Prisma.TransactionClient;
type WrittenInTx = (tx: Tx, saved: StoredAccount, before?: StoredAccount) => Promise<void>;

// Every account write takes this lock: two writers can then neither both set a default nor lose a
// secret carried over by a concurrent PUT. Account writes are rare, so one lock costs nothing.
const WRITE_LOCK = 0x68726c64_0001n;

export function createAccountStore(deps: {
  prisma: PrismaClient;
  box: SecretBox;
  health?: SecretHealth;
}): AccountStore {
  const { prisma, box } = deps;
  const open = (row: ChannelAccount): StoredAccount => ({ row, secrets: openWatched(box, row, deps.health) });

  async function locked<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${WRITE_LOCK})`;
      return fn(tx);
    });
  }

  async function clearOtherDefaults(tx: Tx, name: string, type: ChannelAccountType): Promise<void> {
    await tx.channelAccount.updateMany({
      where: { type, isDefault: true, name: { not: name } },
      data: { isDefault: false },
    });
  }

  return {
    async find(name) {
      const row = await prisma.channelAccount.findUnique({ where: { name } });
      return row ? open(row) : undefined;
    },

    async findDefault(type) {
      const rows = await prisma.channelAccount.findMany({
        where: { type },
        orderBy: [{ isDefault: 'desc' }, { updatedAt: 'desc' }],
        take: 2,
      });
      const [first, second] = rows;
      if (!first) return undefined;
      if (first.isDefault || !second) return open(first);
      return undefined;
    },

    async list({ type, after, limit }) {
      const rows = await prisma.channelAccount.findMany({
        where: { ...(type ? { type } : {}), ...(after !== undefined ? { name: { gt: after } } : {}) },
        orderBy: { name: 'asc' },
        take: limit,
      });
      return rows.map(open);
    },

    async insert(name, write, inTx) {
      try {
        return await locked(async (tx) => {
          if (write.isDefault) await clearOtherDefaults(tx, name, write.type);
          const row = await tx.channelAccount.create({
            data: {
              name,
              type: write.type,
              config: write.config as Prisma.InputJsonObject,
              secrets: box.seal(write.secrets),
              isDefault: write.isDefault ?? false,
            },
          });
          const saved = { row, secrets: write.secrets };
          await inTx?.(tx, saved);
          return saved;
        });
      } catch (err) {
        if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002')
          throw new ConflictError('account_exists', `channel account "${name}" already exists`);
        throw err;
      }
    },

    async replace(name, build, inTx) {
      return locked(async (tx) => {
        const current = await tx.channelAccount.findUnique({ where: { name } });
        if (!current) throw new NotFoundError('channel account', name);
        const before = open(current);
        const write = build(before);
        if (write.type !== current.type)
          throw new ConflictError(
            'account_type_change',
            `channel account "${name}" is of another type; delete it and create it again to change its type`,
          );
        if (write.isDefault) await clearOtherDefaults(tx, name, write.type);
        const row = await tx.channelAccount.update({
          where: { name },
          data: {
            config: write.config as Prisma.InputJsonObject,
            secrets: box.seal(write.secrets),
            ...(write.isDefault !== undefined ? { isDefault: write.isDefault } : {}),
          },
        });
        const saved = { row, secrets: write.secrets };
        await inTx?.(tx, saved, before);
        return saved;
      });
    },

    async remove(name, inTx) {
      await prisma.$transaction(async (tx) => {
        const { count } = await tx.channelAccount.deleteMany({ where: { name } });
        if (count === 0) throw new NotFoundError('channel account', name);
        await inTx?.(tx);
      });
    },
  };
}
