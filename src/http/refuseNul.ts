import type { FastifyInstance } from 'fastify';
import { findNul, NUL_MESSAGE } from '../contract/nulCharacter';
import { HeraldError } from '../errors';

const PARTS = [
  ['params', (r: { params: unknown }) => r.params],
  ['querystring', (r: { query: unknown }) => r.query],
  ['body', (r: { body: unknown }) => r.body],
] as const;

/**
 * Refuses a NUL anywhere in a request's path parameters, query or JSON body with a 400 naming the field,
 * before any route schema or database sees it (the schemas cannot all repeat the rule).
 */
export function registerNulRefusal(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    for (const [part, read] of PARTS) {
      const at = findNul(read(req));
      if (at) {
        const path = [part, ...at].join('.');
        throw new HeraldError('invalid_request', `${path}: ${NUL_MESSAGE}`, 400, [
          { path, message: NUL_MESSAGE },
        ]);
      }
    }
  });
}
