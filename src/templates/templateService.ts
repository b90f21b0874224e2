import type {
  CreateTemplateInput,
  PreviewRequest,
  PreviewResponse,
  UpdateTemplateInput,
} from '../contract/template';
import type { Database } from '../db/database';
import { NotFoundError, ValidationError } from '../errors';
import { createActiveVersionCache } from './activeVersionCache';
import { assertVariables } from './checkVariables';
import { assertChannelParts } from './checkChannelParts';
import { assertDeclaredVariables } from './checkDeclaredVariables';
import { assertSyntax } from './checkSyntax';
import { createLiquidEngines, type RenderLimits } from './liquidEngine';
import { createTemplateRenderer, type TemplateRenderer } from './renderTemplate';
import type { StoredTemplateVersion } from './storedTemplateVersion';
import { createTemplateStore, type TemplateStore } from './templateStore';

export type TemplateChangeListener = (code: string) => void;

export interface TemplateService extends Omit<TemplateStore, 'findVersion'> {
  renderer: TemplateRenderer;
  /** Renders a version (the current one by default) with sample data; 422 `invalid_variables` on bad data. */
  preview(code: string, request: PreviewRequest, version?: number): Promise<PreviewResponse>;
  /** What dispatch renders: the current version of an active template, else undefined. Cached. */
  getActiveVersion(code: string): Promise<StoredTemplateVersion | undefined>;
  /** A given version, whatever the template's status (a retry keeps the version it started with). */
  getVersion(code: string, version: number): Promise<StoredTemplateVersion | undefined>;
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
  const cache = createActiveVersionCache(
    async (code) => {
      const found = await store.findVersion(code);
      return found?.status === 'active' ? found.version : undefined;
    },
    { ttlMs: deps.cacheTtlMs },
  );
  const listeners = new Set<TemplateChangeListener>();

  function changed(code: string): void {
    cache.invalidate(code);
    for (const listener of listeners) {
      try {
        listener(code);
      } catch (err) {
        deps.onError?.(err);
      }
    }
  }

  async function withChange<T>(code: string, write: () => Promise<T>): Promise<T> {
    const result = await write();
    changed(code);
    return result;
  }

  return {
    renderer,
    list: (query) => store.list(query),
    get: (code, version) => store.get(code, version),
    versions: (code) => store.versions(code),
    async create(input: CreateTemplateInput) {
      assertSyntax(engines, input);
      assertChannelParts(input);
      assertDeclaredVariables(engines, input);
      return withChange(input.code, () => store.create(input));
    },
    async update(code: string, input: UpdateTemplateInput) {
      if (input.code !== undefined && input.code !== code)
        throw new ValidationError(
          'code_mismatch',
          `body code "${input.code}" differs from the path's "${code}"`,
        );
      assertSyntax(engines, input);
      assertChannelParts(input);
      assertDeclaredVariables(engines, input);
      return withChange(code, () => store.update(code, input));
    },
    archive: (code) => withChange(code, () => store.archive(code)),
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
    getActiveVersion: (code) => cache.get(code),
    getVersion: async (code, version) => (await store.findVersion(code, version))?.version,
    invalidate: (code) => cache.invalidate(code),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
