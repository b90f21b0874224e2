import type { FastifyInstance } from 'fastify';
import { sendPublicAsset } from './publicAssets';

/**
 * The policy of Herald's own pages: only their own script and style from this origin (no inline code),
 * talking only to this origin, never framed elsewhere (a framed token form invites clickjacking); `extra`
 * adds what one page needs beyond that, and a directive it names that the policy has replaces the
 * policy's (a browser would ignore the second of two).
 */
export const pageCsp = (...extra: string[]): string => {
  const name = (d: string) => d.split(' ', 1)[0];
  const base = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ];
  const replacing = new Map(extra.map((d) => [name(d), d]));
  const kept = base.map((d) => replacing.get(name(d)) ?? d);
  const added = extra.filter((d) => !base.some((b) => name(b) === name(d)));
  return [...kept.slice(0, 4), ...added, ...kept.slice(4)].join('; ');
};

/** What every page of Herald's is sent with: its policy, never cached, no referrer, never framed. */
export const pageHeaders = (csp: string): Record<string, string> => ({
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'content-security-policy': csp,
  'x-frame-options': 'DENY',
});

export interface StaticPage {
  /** The URLs that answer the page (`/console`, `/console/`). */
  paths: readonly string[];
  /** The folder under dist/public its files were built into, which is also its URL prefix. */
  dir: string;
  /** The page's file in `dir`. */
  page: string;
  /** Its script and style files in `dir`, served at `/<dir>/<file>`. */
  assets: readonly string[];
  csp: string;
}

/** Serves one built page (never cached, its policy attached) and its assets (revalidated on each load). */
export function registerStaticPage(app: FastifyInstance, p: StaticPage): void {
  const headers = pageHeaders(p.csp);
  for (const path of p.paths)
    app.get(path, { schema: { hide: true } }, async (_req, reply) =>
      sendPublicAsset(reply, `${p.dir}/${p.page}`, headers),
    );
  for (const file of p.assets)
    app.get(`/${p.dir}/${file}`, { schema: { hide: true } }, async (_req, reply) =>
      sendPublicAsset(reply, `${p.dir}/${file}`, { 'cache-control': 'no-cache' }),
    );
}
