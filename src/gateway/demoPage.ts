import { createHash } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../appContext';
import { DEMO_INBOX_HTML } from './demoInboxHtml';

const hashOf = (tag: 'script' | 'style'): string => {
  const body = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(DEMO_INBOX_HTML)?.[1] ?? '';
  return `'sha256-${createHash('sha256').update(body).digest('base64')}'`;
};

/**
 * Only the page's own inline script and style run, it talks only to its own origin (the WebSocket), and
 * no other site may frame it (a framed token form invites clickjacking).
 */
export const DEMO_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${hashOf('script')}`,
  `style-src ${hashOf('style')}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** `GET /demo/inbox`: a static page (no data, no auth) that connects to /v1/ws with a token typed in. */
export const demoPageRoute: FastifyPluginAsync<{ ctx: AppContext }> = async (app) => {
  app.get('/demo/inbox', { schema: { hide: true } }, async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .header('content-security-policy', DEMO_PAGE_CSP)
      .header('x-frame-options', 'DENY')
      .send(DEMO_INBOX_HTML),
  );
};
