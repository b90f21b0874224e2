import { randomUUID } from 'node:crypto';
import type {
  CreateTemplateInput,
  DraftPreviewRequest,
  DraftPreviewResponse,
  PreviewRequest,
  PreviewResponse,
  UpdateTemplateInput,
} from '../contract/template';
import type { Database } from '../db/database';
import { NotFoundError, ValidationError } from '../errors';
import { channelByName } from '../senders/registry';
import { createActiveVersionCache } from './activeVersionCache';
import { assertVariables, checkVariables } from './checkVariables';
import { assertChannelParts } from './checkChannelParts';
import { assertDeclaredVariables, findUndeclaredVariables } from './checkDeclaredVariables';
import { assertSyntax, findSyntaxProblems } from './checkSyntax';
import { createLiquidEngines, type RenderLimits } from './liquidEngine';
import { createTemplateRenderer, type TemplateRenderer } from './renderTemplate';
import type { StoredTemplateVersion } from './storedTemplateVersion';
import { createTemplateStore, type TemplateStore } from './templateStore';

/** May return a promise: the write that changed the template answers once it has settled. */
export type TemplateChangeListener = (code: string) => void | Promise<void>;

export interface TemplateService extends Omit<TemplateStore, 'findVersion'> {
  renderer: TemplateRenderer;
  /** Renders a version (the current one by default) with sample data; 422 `invalid_variables` on bad data. */
  preview(code: string, request: PreviewRequest, version?: number): Promise<PreviewResponse>;
  /** Checks and renders unsaved content as save and send would, listing every problem instead of the first. */
  previewDraft(request: DraftPreviewRequest): Promise<DraftPreviewResponse>;
  /** What dispatch renders: the current version of an active template, else undefined. Cached. */
  getActiveVersion(code: string): Promise<StoredTemplateVersion | undefined>;
  /** A given version, whatever the template's status (a retry keeps the version it started with). */
  getVersion(code: string, version: number): Promise<StoredTemplateVersion | undefined>;
  /** A digest's or throttle's key: the Liquid expression evaluated over an envelope's data, as text ('' for null). */
  evaluateKey(expression: string, data: Record<string, unknown>): string;
  /** Drops cached active versions (one code, or all); call it when another instance reports a change. */
  invalidate(code?: string): void;
  /** Called after a create, update or archive has committed; returns the unsubscribe function. */
  onChange(listener: TemplateChangeListener): () => void;
}

export function createTemplateService(deps: {
  db: Database;
  limits?: RenderLimits;
  cacheTtlMs?: number;
  onError?: (err: unknown) => void;
}): TemplateService {
  const store = createTemplateStore(deps.db);
  const engines = createLiquidEngines(deps.limits);
  const renderer = createTemplateRenderer({ engines });
  // Drafts change with every keystroke: their own one-entry cache, so they never evict a stored version.
  const draftRenderer = createTemplateRenderer({ engines, cacheSize: 1 });
  const cache = createActiveVersionCache(
    async (code) => {
      const found = await store.findVersion(code);
      return found?.status === 'active' ? found.version : undefined;
    },
    { ttlMs: deps.cacheTtlMs },
  );
  const listeners = new Set<TemplateChangeListener>();
  const parsedKeys = new Map<string, ReturnType<typeof engines.text.parse>>();
  const parseKey = (expression: string) => {
    let parsed = parsedKeys.get(expression);
    if (!parsed) {
      parsed = engines.text.parse(`{{ ${expression} }}`);
      if (parsedKeys.size > 1000) parsedKeys.clear();
      parsedKeys.set(expression, parsed);
    }
    return parsed;
  };
  /** Escalation and fallback channels must be the template's own, and leave some channel to send first. */
  const assertPolicyChannels = (input: CreateTemplateInput | UpdateTemplateInput) => {
    const defined = Object.keys(input.channels).filter(
      (c) => input.channels[c as keyof typeof input.channels],
    );
    const later = [...(input.escalate?.channels ?? []), ...(input.fallback ?? [])];
    const unknown = later.filter((c) => !defined.includes(c));
    if (unknown.length)
      throw new ValidationError(
        'unknown_channel',
        `escalate and fallback name ${unknown.join(', ')}, which the template does not define`,
      );
    const first = defined.filter((c) => !later.includes(c as never));
    if (later.length && !first.length)
      throw new ValidationError('no_first_channel', 'escalate and fallback leave no channel to send first');
    if (input.escalate?.unless === 'read' && !first.some((c) => channelByName.get(c as never)?.readable))
      throw new ValidationError(
        'no_first_channel',
        'escalate.unless "read" watches an item the user reads (the in-site inbox): the template needs such a part sent first',
      );
  };
  /** The digest's and the throttle's keys must parse as Liquid expressions. */
  const assertKeys = (input: { digest?: { key?: string }; throttle?: { key?: string } }) => {
    for (const [field, key] of [
      ['digest', input.digest?.key],
      ['throttle', input.throttle?.key],
    ] as const) {
      if (key === undefined) continue;
      try {
        parseKey(key);
      } catch (err) {
        throw new ValidationError(
          `invalid_${field}_key`,
          `${field}.key "${key}" is not a Liquid expression: ${(err as Error).message}`,
        );
      }
    }
  };

  async function changed(code: string): Promise<void> {
    cache.invalidate(code);
    const settled = await Promise.allSettled([...listeners].map(async (listener) => listener(code)));
    for (const s of settled) if (s.status === 'rejected') deps.onError?.(s.reason);
  }

  async function withChange<T>(code: string, write: () => Promise<T>): Promise<T> {
    const result = await write();
    await changed(code);
    return result;
  }

  return {
    renderer,
    list: (query) => store.list(query),
    get: (code, version) => store.get(code, version),
    versions: (code) => store.versions(code),
    async create(input: CreateTemplateInput, audit) {
      assertSyntax(engines, input);
      assertChannelParts(input);
      assertDeclaredVariables(engines, input);
      assertKeys(input);
      assertPolicyChannels(input);
      return withChange(input.code, () => store.create(input, audit));
    },
    async update(code: string, input: UpdateTemplateInput, audit) {
      if (input.code !== undefined && input.code !== code)
        throw new ValidationError(
          'code_mismatch',
          `body code "${input.code}" differs from the path's "${code}"`,
        );
      assertSyntax(engines, input);
      assertChannelParts(input);
      assertDeclaredVariables(engines, input);
      assertKeys(input);
      assertPolicyChannels(input);
      return withChange(code, () => store.update(code, input, audit));
    },
    archive: (code, audit) => withChange(code, () => store.archive(code, audit)),
    async preview(code, request, version) {
      const found = await store.findVersion(code, version);
      if (!found) throw new NotFoundError('template', version === undefined ? code : `${code}@${version}`);
      assertVariables(found.version.variables, request.data);
      const input = { data: request.data, recipient: request.recipient, locale: request.locale };
      const channels = await renderer.render(found.version, input);
      return {
        version: found.version.version,
        locale: renderer.resolveLocale(found.version, input) ?? null,
        channels,
      };
    },
    async previewDraft(request) {
      const content = request.template;
      const problems: DraftPreviewResponse['problems'] = {
        syntax: findSyntaxProblems(engines, content),
        undeclared: [],
        variables: checkVariables(content.variables, request.data),
      };
      // An unparsable text has no variables to list; the syntax problem is what to fix first.
      if (problems.syntax.length === 0) problems.undeclared = findUndeclaredVariables(engines, content);
      const draft = {
        id: randomUUID(),
        templateId: 'draft',
        code: 'draft',
        version: 0,
        name: 'draft',
        // A draft has no category and is not critical (the preview renders it, nothing routes by those).
        category: null,
        critical: false,
        ...content,
      };
      const input = { data: request.data, recipient: request.recipient, locale: request.locale };
      const locale = renderer.resolveLocale(draft, input) ?? null;
      const clean = problems.syntax.length + problems.undeclared.length + problems.variables.length === 0;
      if (!clean) return { locale, channels: null, problems };
      try {
        return { locale, channels: await draftRenderer.render(draft, input), problems };
      } catch (err) {
        return { locale, channels: null, problems: { ...problems, render: (err as Error).message } };
      }
    },
    getActiveVersion: (code) => cache.get(code),
    getVersion: async (code, version) => (await store.findVersion(code, version))?.version,
    // Lenient where rendering is strict: a key naming an absent field collects under ''.
    evaluateKey: (expression, data) =>
      String(engines.text.renderSync(parseKey(expression), data, { strictVariables: false }) ?? ''),
    invalidate: (code) => cache.invalidate(code),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
