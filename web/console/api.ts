/** The admin token lives in this tab's sessionStorage only: never a cookie, a URL or localStorage. */
const TOKEN_KEY = 'herald.adminToken';

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  signOut: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** A problem+json answer: `errors` holds the per-field or per-variable details Herald sent. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: unknown,
  ) {
    super(message);
  }
}

/** Fired on window when the token is refused, so the shell shows the sign-in form again. */
export const SIGNED_OUT = 'herald-signed-out';

export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  token = session.token(),
): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json: unknown = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const p = (json ?? {}) as { code?: string; detail?: string; title?: string; errors?: unknown };
    if (res.status === 401 && token === session.token()) {
      session.signOut();
      window.dispatchEvent(new Event(SIGNED_OUT));
    }
    throw new ApiError(
      res.status,
      p.code ?? `http_${res.status}`,
      p.detail ?? p.title ?? res.statusText,
      p.errors,
    );
  }
  return json as T;
}

export const qs = (params: Record<string, string | undefined>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
};

export const enc = encodeURIComponent;
