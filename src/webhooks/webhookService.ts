import { createSecretBox } from '../accounts/secretBox';
import type {
  CreateWebhookBody,
  ReplaceWebhookBody,
  WebhookAttemptView,
  WebhookView,
} from '../contract/statusWebhook';
import type { AuditInTx } from '../audit/auditLog';
import type { Database } from '../db/database';
import { NotFoundError } from '../errors';
import type { EventType } from '../events/eventTypes';
import { decodeCursor, encodeCursor, keysetPage } from '../http/cursor';
import { redactUrl } from '../http/redactUrl';
import { jobStore } from '../scheduler/jobStore';
import type { EgressGuard } from '../senders/egress';
import { startFromNow } from '../events/sequencer';
import { scheduleEndpoint, STATUS_WEBHOOK_JOB } from './webhookJobs';
import { z } from 'zod';

/** Each write takes `audit`, the change's audit row, and writes it in the write's transaction. */
export interface StatusWebhookService {
  create(body: CreateWebhookBody, audit?: AuditInTx<WebhookView>): Promise<WebhookView>;
  list(): Promise<{ items: WebhookView[] }>;
  get(id: string): Promise<WebhookView>;
  replace(id: string, body: ReplaceWebhookBody, audit?: AuditInTx<WebhookView>): Promise<WebhookView>;
  remove(id: string, audit?: AuditInTx<void>): Promise<void>;
  attempts(
    id: string,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: WebhookAttemptView[]; nextCursor: string | null }>;
}

interface WebhookRow {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  templates: string[];
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: Date | null;
  consecutiveFailures: number;
  cursor: bigint;
  createdAt: Date;
  updatedAt: Date;
}

function toView(r: WebhookRow): WebhookView {
  return {
    id: r.id,
    url: redactUrl(r.url),
    description: r.description,
    events: r.events as EventType[],
    templates: r.templates,
    secretSet: true,
    enabled: r.enabled,
    disabledReason: r.disabledReason,
    disabledAt: r.disabledAt?.toISOString() ?? null,
    consecutiveFailures: r.consecutiveFailures,
    cursor: Number(r.cursor),
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

const select = {
  id: true,
  url: true,
  description: true,
  events: true,
  templates: true,
  enabled: true,
  disabledReason: true,
  disabledAt: true,
  consecutiveFailures: true,
  cursor: true,
  createdAt: true,
  updatedAt: true,
} as const;

const attemptCursor = z.tuple([z.string().regex(/^\d+$/)]);

/**
 * Status-webhook endpoints: the signing secret is sealed like channel-account secrets and never returned;
 * the URL is checked against HERALD_STATUS_WEBHOOK_ALLOW_HOSTS at save (and again after DNS at each send).
 * A new endpoint starts at the end of the event log: it receives what happens from now on.
 */
export function createStatusWebhookService(deps: {
  db: Database;
  secretKey: Buffer;
  previousSecretKeys?: readonly Buffer[];
  egress: EgressGuard;
}): StatusWebhookService {
  const { db } = deps;
  const box = createSecretBox(deps.secretKey, deps.previousSecretKeys);
  const find = async (id: string) => {
    const row = await db.prisma.statusWebhook.findUnique({ where: { id }, select });
    if (!row) throw new NotFoundError('status webhook', id);
    return row;
  };

  return {
    async create(body, audit) {
      deps.egress.checkUrl(body.url);
      const cursor = await startFromNow(db.sql);
      const view = await db.prisma.$transaction(async (tx) => {
        const row = await tx.statusWebhook.create({
          data: {
            url: body.url,
            description: body.description ?? null,
            events: body.events,
            templates: body.templates,
            secret: box.seal({ secret: body.secret }),
            cursor,
          },
          select,
        });
        await audit?.({ prisma: tx }, toView(row));
        return toView(row);
      });
      await scheduleEndpoint(db.sql, db.schema, [view.id], { now: true });
      return view;
    },
    async list() {
      const rows = await db.prisma.statusWebhook.findMany({ select, orderBy: { createdAt: 'asc' } });
      return { items: rows.map(toView) };
    },
    get: async (id) => toView(await find(id)),
    async replace(id, body, audit) {
      deps.egress.checkUrl(body.url);
      const before = await find(id);
      const reenable = body.enabled === true && !before.enabled;
      const view = await db.prisma.$transaction(async (tx) => {
        const row = await tx.statusWebhook.update({
          where: { id },
          data: {
            url: body.url,
            description: body.description ?? null,
            events: body.events,
            templates: body.templates,
            ...(body.secret ? { secret: box.seal({ secret: body.secret }) } : {}),
            ...(body.enabled === false
              ? {
                  enabled: false,
                  disabledReason: 'paused through the API',
                  disabledAt: new Date(),
                  consecutiveFailures: 0,
                }
              : {}),
            ...(reenable
              ? { enabled: true, disabledReason: null, disabledAt: null, consecutiveFailures: 0 }
              : {}),
            updatedAt: new Date(),
          },
          select,
        });
        await audit?.({ prisma: tx }, toView(row));
        return toView(row);
      });
      if (view.enabled) await scheduleEndpoint(db.sql, db.schema, [id], { now: true });
      return view;
    },
    async remove(id, audit) {
      await find(id);
      await db.prisma.$transaction(async (tx) => {
        await tx.statusWebhook.delete({ where: { id } });
        await audit?.({ prisma: tx }, undefined);
      });
      await jobStore.removeKey(db.sql, STATUS_WEBHOOK_JOB, id);
    },
    async attempts(id, page) {
      await find(id);
      const before = page.cursor ? BigInt(decodeCursor(page.cursor, attemptCursor)[0]) : undefined;
      const rows = await db.prisma.statusWebhookAttempt.findMany({
        where: { webhookId: id, ...(before !== undefined ? { id: { lt: before } } : {}) },
        orderBy: { id: 'desc' },
        take: page.limit + 1,
      });
      const { items, nextCursor } = keysetPage(rows, page.limit, (last) =>
        encodeCursor([last.id.toString()]),
      );
      return {
        items: items.map((a) => ({
          id: a.id.toString(),
          eventId: a.eventId,
          eventType: a.eventType,
          messageId: a.messageId,
          attempt: a.attempt,
          outcome: a.outcome as 'delivered' | 'failed',
          statusCode: a.statusCode,
          error: a.error,
          durationMs: a.durationMs,
          createdAt: a.createdAt.toISOString(),
        })),
        nextCursor,
      };
    },
  };
}
