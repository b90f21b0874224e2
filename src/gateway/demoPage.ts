import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../appContext';
import { DEMO_INBOX_HTML } from './demoInboxHtml';

/** `GET /demo/inbox`: a static page (no data, no auth) that connects to /v1/ws with a token typed in. */
export const demoPageRoute: FastifyPluginAsync<{ ctx: AppContext }> = async (app) => {
  app.get('/demo/inbox', { schema: { hide: true } }, async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .send(DEMO_INBOX_HTML),
  );
};
