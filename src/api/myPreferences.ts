import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from '../appContext';
import { createUserTokenVerifier, UserTokenError } from '../auth/userToken';
import { preferencesSchema } from '../contract/subscriber';
import { HeraldError } from '../errors';
import { bearerToken } from '../http/adminAuth';
import { problemSchema } from '../http/problemSchema';
import { readPreferences, writePreferences } from '../audience/subscriberStore';

declare module 'fastify' {
  interface FastifyRequest {
    /** The user a user token names, set by the /v1/me guard. */
    tokenUser?: string;
  }
}

const description = 'Bearer: the user token (HS256 JWT) of the user whose preferences these are.';
const errors = { 400: problemSchema, 401: problemSchema };

/** A user's own preferences, with their user token: what a frontend's settings page calls. */
export const myPreferencesRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const verifyUser = createUserTokenVerifier(ctx.secrets.jwtSecret, ctx.config.HERALD_JWT_MAX_TTL);
  const guard = async (req: FastifyRequest) => {
    try {
      req.tokenUser = verifyUser(bearerToken(req)).userId;
    } catch (err) {
      if (err instanceof UserTokenError) throw new HeraldError(`token_${err.reason}`, err.message, 401);
      throw err;
    }
  };
  const userOf = (req: FastifyRequest): string => req.tokenUser as string;

  app.get(
    '/me/preferences',
    {
      config: { auth: 'user-or-admin' },
      onRequest: guard,
      schema: {
        tags: ['subscribers'],
        summary: 'My preferences: channels and categories switched on or off',
        description,
        response: { 200: preferencesSchema, ...errors },
      },
    },
    async (req) => readPreferences(ctx.db.sql, userOf(req)),
  );

  app.put(
    '/me/preferences',
    {
      config: { auth: 'user-or-admin' },
      onRequest: guard,
      schema: {
        tags: ['subscribers'],
        summary: 'Replace my preferences; critical notifications still reach me',
        description,
        body: preferencesSchema,
        response: { 200: preferencesSchema, ...errors },
      },
    },
    async (req) => writePreferences(ctx.db.sql, userOf(req), req.body),
  );
};
