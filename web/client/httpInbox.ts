import type { Preferences } from './preferences';
import type { InboxCounts, InboxPage } from './types';

/** Herald's HTTP routes for one user (the inbox, the preferences), with the user's token. */
export interface HttpInbox {
  page(query: {
    cursor?: string;
    since?: number;
    limit: number;
    status?: string;
    tab?: string;
  }): Promise<InboxPage>;
  /** `seen`, `read`, `unread`, `archive`, `unarchive`, `delete` or `snooze` over a selection. */
  change(kind: string, body: Record<string, unknown>): Promise<{ updated: number; counts: InboxCounts }>;
  action(id: string, action: 'primary' | 'secondary'): Promise<{ counts: InboxCounts }>;
  /** GET /v1/me/preferences. */
  preferences(): Promise<Preferences>;
  /** PUT /v1/me/preferences: replaces them, answers them as stored. */
  setPreferences(p: Preferences): Promise<Preferences>;
}

/** A refused or failed HTTP call: `code` is Herald's problem code (`token_expired`, …) when it sent one. */
export class HeraldHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HeraldHttpError';
  }
}

export function createHttpInbox(deps: {
  baseUrl: string;
  userId: () => string;
  /** The token in use, or with `fresh` a new one (after the server said the old one expired). */
  token: (fresh: boolean) => Promise<string>;
  fetch: typeof fetch;
}): HttpInbox {
  /** `path` is under /v1. */
  async function call<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
    fresh = false,
  ): Promise<T> {
    const url = `${deps.baseUrl}/v1${path}`;
    const headers: Record<string, string> = { authorization: `Bearer ${await deps.token(fresh)}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await deps.fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json: unknown = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const problem = (json ?? {}) as { code?: string; detail?: string; title?: string };
      if (problem.code === 'token_expired' && !fresh) return call<T>(method, path, body, true);
      throw new HeraldHttpError(
        res.status,
        problem.code ?? `http_${res.status}`,
        problem.detail ?? problem.title ?? res.statusText,
      );
    }
    return json as T;
  }

  const inbox = (path: string) => `/users/${encodeURIComponent(deps.userId())}/inbox${path}`;

  return {
    page(query) {
      const q = new URLSearchParams({ limit: String(query.limit) });
      if (query.cursor !== undefined) q.set('cursor', query.cursor);
      if (query.since !== undefined) q.set('since', String(query.since));
      if (query.status !== undefined) q.set('status', query.status);
      if (query.tab !== undefined) q.set('tab', query.tab);
      return call<InboxPage>('GET', inbox(`?${q.toString()}`));
    },
    change: (kind, body) => call<{ updated: number; counts: InboxCounts }>('POST', inbox(`/${kind}`), body),
    action: (id, action) =>
      call<{ counts: InboxCounts }>('POST', inbox(`/items/${encodeURIComponent(id)}/action`), { action }),
    preferences: () => call<Preferences>('GET', '/me/preferences'),
    setPreferences: (p) => call<Preferences>('PUT', '/me/preferences', p),
  };
}

/** The `sub` of a JWT, read without verifying (the server verifies); undefined when it has none. */
export function tokenSubject(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const bytes = Uint8Array.from(atob(payload.replace(/-/g, '+').replace(/_/g, '/')), (c) =>
      c.charCodeAt(0),
    );
    const sub = (JSON.parse(new TextDecoder().decode(bytes)) as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}
