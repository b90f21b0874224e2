import { CHANNELS } from '../contract/envelope';
import {
  templateChannelsSchema,
  templateLocalesSchema,
  variablesSchema,
  type CreateTemplateInput,
  type TemplateChannels,
  type TemplateList,
  type TemplateListQuery,
  type TemplateVersionView,
  type TemplateView,
  type UpdateTemplateInput,
} from '../contract/template';
import { policyOf, templatePolicySchema } from '../contract/templatePolicy';
import type { AuditInTx } from '../audit/auditLog';
import type { Database } from '../db/database';
import { Prisma, type Template, type TemplateVersion } from '../generated/prisma/client';
import { ConflictError, NotFoundError } from '../errors';
import { decodeTimeCursor, encodeTimeCursor, keysetPage } from '../http/cursor';
import type { StoredTemplateVersion } from './storedTemplateVersion';

/** Prisma-backed template rows; knows nothing of rendering or caching. */
export interface TemplateStore {
  /** Each write takes `audit`, the change's audit row, and writes it in the write's transaction. */
  create(input: CreateTemplateInput, audit?: AuditInTx<TemplateView>): Promise<TemplateView>;
  list(query: TemplateListQuery): Promise<TemplateList>;
  /** The template with the content of `version` (the current one when omitted). */
  get(code: string, version?: number): Promise<TemplateView>;
  /** Writes version n+1 and makes it current; an archived template becomes active again. */
  update(code: string, input: UpdateTemplateInput, audit?: AuditInTx<TemplateView>): Promise<TemplateView>;
  archive(code: string, audit?: AuditInTx<TemplateView>): Promise<TemplateView>;
  versions(code: string): Promise<TemplateVersionView[]>;
  /** The stored version (`version` omitted: the current one); undefined when code or version is unknown. */
  findVersion(
    code: string,
    version?: number,
  ): Promise<{ status: Template['status']; version: StoredTemplateVersion } | undefined>;
}

const channelList = (channels: TemplateChannels): string[] =>
  CHANNELS.filter((c) => channels[c] !== undefined);
const json = (v: unknown): Prisma.InputJsonValue => v as Prisma.InputJsonValue;

/** The columns of a stored version, the same for a new template and for a new version of one. */
function versionFields(input: CreateTemplateInput | UpdateTemplateInput) {
  return {
    name: input.name,
    category: input.category ?? null,
    critical: input.critical,
    variables: json(input.variables),
    channels: json(input.channels),
    locales: json(input.locales),
    policy: json(policyOf(input)),
  };
}

function content(v: TemplateVersion) {
  return {
    category: v.category,
    critical: v.critical,
    // Stored as JSON; parsed with the same schemas the version was validated with on write.
    variables: variablesSchema.parse(v.variables),
    channels: templateChannelsSchema.parse(v.channels),
    locales: templateLocalesSchema.parse(v.locales),
    ...templatePolicySchema.parse(v.policy),
  };
}

function toView(t: Template, v: TemplateVersion): TemplateView {
  return {
    id: t.id,
    code: t.code,
    // The name as of the version shown; the template's own name is the current version's.
    name: v.name,
    description: t.description,
    status: t.status,
    currentVersion: t.currentVersion,
    version: v.version,
    ...content(v),
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

function toVersionView(v: TemplateVersion): TemplateVersionView {
  return { version: v.version, name: v.name, ...content(v), createdAt: v.createdAt.toISOString() };
}

const isUniqueViolation = (err: unknown) =>
  err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';

export function createTemplateStore(db: Database): TemplateStore {
  const prisma = db.prisma;

  async function templateOrThrow(code: string): Promise<Template> {
    const t = await prisma.template.findUnique({ where: { code } });
    if (!t) throw new NotFoundError('template', code);
    return t;
  }

  return {
    async create(input, audit) {
      try {
        return await prisma.$transaction(async (tx) => {
          const t = await tx.template.create({
            data: {
              code: input.code,
              name: input.name,
              description: input.description ?? null,
              currentVersion: 1,
              channels: channelList(input.channels),
              versions: {
                create: {
                  version: 1,
                  ...versionFields(input),
                },
              },
            },
            include: { versions: true },
          });
          const view = toView(t, t.versions[0] as TemplateVersion);
          await audit?.({ prisma: tx }, view);
          return view;
        });
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ConflictError(
            'template_exists',
            `template "${input.code}" already exists (archived templates keep their code; PUT it to restore it)`,
          );
        throw err;
      }
    },

    async list(query) {
      const cursor = query.cursor ? decodeTimeCursor(query.cursor) : undefined;
      const rows = await prisma.template.findMany({
        where: {
          ...(query.status ? { status: query.status } : {}),
          ...(query.channel ? { channels: { has: query.channel } } : {}),
          ...(cursor
            ? {
                OR: [{ createdAt: { lt: cursor.at } }, { createdAt: cursor.at, id: { lt: cursor.id } }],
              }
            : {}),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: query.limit + 1,
      });
      const { items: page, nextCursor } = keysetPage(rows, query.limit, (last) =>
        encodeTimeCursor(last.createdAt, last.id),
      );
      return {
        items: page.map((t) => ({
          id: t.id,
          code: t.code,
          name: t.name,
          description: t.description,
          status: t.status,
          currentVersion: t.currentVersion,
          channels: t.channels.filter((c): c is (typeof CHANNELS)[number] =>
            (CHANNELS as readonly string[]).includes(c),
          ),
          createdAt: t.createdAt.toISOString(),
          updatedAt: t.updatedAt.toISOString(),
        })),
        nextCursor,
      };
    },

    async get(code, version) {
      const t = await templateOrThrow(code);
      const v = await prisma.templateVersion.findUnique({
        where: { templateId_version: { templateId: t.id, version: version ?? t.currentVersion } },
      });
      if (!v) throw new NotFoundError('template version', `${code}@${version}`);
      return toView(t, v);
    },

    async update(code, input, audit) {
      return prisma.$transaction(async (tx) => {
        // The increment takes the row lock, so concurrent PUTs get consecutive version numbers.
        const t = await tx.template
          .update({
            where: { code },
            data: {
              name: input.name,
              description: input.description ?? null,
              status: 'active',
              currentVersion: { increment: 1 },
              channels: channelList(input.channels),
            },
          })
          .catch((err: unknown) => {
            if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025')
              throw new NotFoundError('template', code);
            throw err;
          });
        const v = await tx.templateVersion.create({
          data: {
            templateId: t.id,
            version: t.currentVersion,
            ...versionFields(input),
          },
        });
        const view = toView(t, v);
        await audit?.({ prisma: tx }, view);
        return view;
      });
    },

    async archive(code, audit) {
      return prisma.$transaction(async (tx) => {
        const t = await tx.template
          .update({
            where: { code },
            data: { status: 'archived' },
            include: { versions: { orderBy: { version: 'desc' }, take: 1 } },
          })
          .catch((err: unknown) => {
            if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025')
              throw new NotFoundError('template', code);
            throw err;
          });
        const view = toView(t, t.versions[0] as TemplateVersion);
        await audit?.({ prisma: tx }, view);
        return view;
      });
    },

    async versions(code) {
      const t = await templateOrThrow(code);
      const rows = await prisma.templateVersion.findMany({
        where: { templateId: t.id },
        orderBy: { version: 'desc' },
      });
      return rows.map(toVersionView);
    },

    async findVersion(code, version) {
      const t = await prisma.template.findUnique({ where: { code } });
      if (!t) return undefined;
      const v = await prisma.templateVersion.findUnique({
        where: { templateId_version: { templateId: t.id, version: version ?? t.currentVersion } },
      });
      if (!v) return undefined;
      return {
        status: t.status,
        version: {
          id: v.id,
          templateId: t.id,
          code: t.code,
          version: v.version,
          name: v.name,
          ...(({ digest, escalate, fallback, throttle, dedupe, ...rest }) => ({
            ...rest,
            policy: policyOf({ digest, escalate, fallback, throttle, dedupe }),
          }))(content(v)),
        },
      };
    },
  };
}
