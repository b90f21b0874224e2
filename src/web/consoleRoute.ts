import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../appContext';
import { pageCsp, registerStaticPage } from './staticPage';

/** Beyond Herald's page policy, the console shows mail previews in a sandboxed frame of its own document. */
export const CONSOLE_CSP = pageCsp("img-src 'self' data:", "frame-src 'self'");

/**
 * `GET /console`: the admin console (a static page; every call it makes carries the admin token the
 * user types in, which the page keeps in sessionStorage). Served where the api role runs.
 */
export const consoleRoute: FastifyPluginAsync<{ ctx: AppContext }> = async (app) => {
  registerStaticPage(app, {
    paths: ['/console', '/console/'],
    dir: 'console',
    page: 'index.html',
    assets: ['console.js', 'console.css'],
    csp: CONSOLE_CSP,
  });
};
