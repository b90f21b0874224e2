import { spellOutNul } from '../contract/nulCharacter';
import type { AuditInTx } from '../audit/auditLog';
import type { Database } from '../db/database';
import { NotFoundError } from '../errors';
import type { EnvelopePublisher } from '../broker/envelopePublisher';
import { rejectMessage } from '../delivery/deliveryState';
import { decodeTimeCursor, encodeTimeCursor, keysetPage } from '../http/cursor';
import { messageRejectionOf } from './messageRejection';

/** An envelope that cannot be dispatched, as a runner hands it over. */
export interface DeadLetterInput {
  messageId?: string;
  routingKey?: string;
  code: string;
  reason: string;
  payload: Buffer;
}

export interface DeadLetterView {
  id: string;
  messageId: string | null;
  routingKey: string | null;
  code: string;
  reason: string;
  /** The envelope as received: UTF-8 text when it decodes, else base64. */
  payload: string;
  payloadEncoding: 'utf8' | 'base64';
  createdAt: Date;
  replayedAt: Date | null;
}

interface Row {
  id: string;
  messageId: string | null;
  routingKey: string | null;
  code: string;
  reason: string;
  payload: Uint8Array;
  createdAt: Date;
  replayedAt: Date | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function view(r: Row): DeadLetterView {
  const bytes = Buffer.from(r.payload);
  let payload: string;
  let payloadEncoding: 'utf8' | 'base64' = 'utf8';
  try {
    payload = utf8.decode(bytes);
  } catch {
    payload = bytes.toString('base64');
    payloadEncoding = 'base64';
  }
  const { payload: _bytes, ...rest } = r;
  return { ...rest, payload, payloadEncoding };
}

/** Rejected envelopes as records: listed with their reason, replayed to the exchange, or purged. */
export function createDeadLetterStore(db: Database, publisher: () => EnvelopePublisher | undefined) {
  const prisma = db.prisma;
  return {
    async record(d: DeadLetterInput): Promise<void> {
      const rejection = messageRejectionOf(d);
      if (rejection) await rejectMessage(db.sql, rejection);
      await prisma.deadLetter.create({
        // What came off the wire is recorded, not refused: a NUL in it is spelled out for PostgreSQL.
        data: {
          messageId: d.messageId === undefined ? undefined : spellOutNul(d.messageId),
          routingKey: d.routingKey === undefined ? undefined : spellOutNul(d.routingKey),
          code: spellOutNul(d.code),
          reason: spellOutNul(d.reason),
          payload: new Uint8Array(d.payload),
        },
      });
    },
    async list(q: { limit: number; cursor?: string; code?: string; messageId?: string }) {
      const after = q.cursor ? decodeTimeCursor(q.cursor) : undefined;
      const rows = await prisma.deadLetter.findMany({
        where: {
          ...(q.code ? { code: q.code } : {}),
          ...(q.messageId ? { messageId: q.messageId } : {}),
          ...(after
            ? { OR: [{ createdAt: { lt: after.at } }, { createdAt: after.at, id: { lt: after.id } }] }
            : {}),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: q.limit + 1,
      });
      const { items, nextCursor } = keysetPage(rows, q.limit, (last) =>
        encodeTimeCursor(last.createdAt, last.id),
      );
      return { items: items.map(view), nextCursor };
    },
    async get(id: string): Promise<DeadLetterView> {
      const row = await prisma.deadLetter.findUnique({ where: { id } });
      if (!row) throw new NotFoundError('dead letter', id);
      return view(row);
    },
    /** Publishes the envelope again exactly as received; the row stays, marked replayed. */
    async replay(id: string): Promise<DeadLetterView> {
      const row = await prisma.deadLetter.findUnique({ where: { id } });
      if (!row) throw new NotFoundError('dead letter', id);
      const pub = publisher();
      if (!pub) throw new Error('no publisher is running');
      await pub.publish(
        row.routingKey ?? 'notify.replay',
        Buffer.from(row.payload),
        row.messageId ?? undefined,
      );
      return view(await prisma.deadLetter.update({ where: { id }, data: { replayedAt: new Date() } }));
    },
    /** `audit`, the change's audit row, is written in the delete's transaction. */
    async remove(id: string, audit?: AuditInTx<void>): Promise<void> {
      await prisma.$transaction(async (tx) => {
        const { count } = await tx.deadLetter.deleteMany({ where: { id } });
        if (!count) throw new NotFoundError('dead letter', id);
        await audit?.({ prisma: tx }, undefined);
      });
    },
    /** Deletes every dead letter; returns how many, which `audit` gets in the same transaction. */
    async purge(audit?: AuditInTx<number>): Promise<number> {
      return prisma.$transaction(async (tx) => {
        const { count } = await tx.deadLetter.deleteMany({});
        await audit?.({ prisma: tx }, count);
        return count;
      });
    },
  };
}

export type DeadLetterStore = ReturnType<typeof createDeadLetterStore>;
