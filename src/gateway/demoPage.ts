import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../appContext';
import { pageCsp, registerStaticPage } from '../web/staticPage';

/** Herald's page policy as it is: the demo talks only to its own origin (the WebSocket and the HTTP inbox). */
export const DEMO_PAGE_CSP = pageCsp();

/**
 * `GET /demo/inbox`: a static page (no data, no auth) with the `<herald-inbox>` component, connected with
 * a token typed in.
 */
export const demoPageRoute: FastifyPluginAsync<{ ctx: AppContext }> = async (app) => {
  registerStaticPage(app, {
    paths: ['/demo/inbox'],
    dir: 'demo',
    page: 'index.html',
    assets: ['demo.js', 'demo.css'],
    csp: DEMO_PAGE_CSP,
  });
};
