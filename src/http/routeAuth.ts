import type { FastifyRequest } from 'fastify';
import { grants, type Principal, type Scope } from '../auth/scopes';
import { InsufficientScopeError } from '../errors';

/**
 * Who may call a /v1 route, set with `config: { scope, auth }` on the route. `scope`: what an API key
 * needs (`admin` by default, so a route that says nothing is admin-only). `auth: 'user-or-admin'`: the
 * route also takes a user token and checks it itself (a user's own inbox), with `authorizeKey` for keys.
 */
export type RouteAuth = 'admin' | 'user-or-admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    scope?: Scope;
  }
  interface FastifyRequest {
    /** The key (or bootstrap admin token) that made this /v1 request; undefined for a user token or none. */
    principal?: Principal;
  }
}

/** The scope a route needs from an API key. */
export const routeScope = (req: FastifyRequest): Scope => req.routeOptions.config.scope ?? 'admin';

/** True for a key with the route's scope, a 403 for a key without it, false when no key was presented. */
export function authorizeKey(req: FastifyRequest): boolean {
  const p = req.principal;
  if (!p) return false;
  const needed = routeScope(req);
  if (!grants(p.scopes, needed)) throw new InsufficientScopeError(needed, p.scopes);
  return true;
}
