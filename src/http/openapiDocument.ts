import type { SwaggerTransform, SwaggerTransformObject } from '@fastify/swagger';
import type { FastifySchema } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { problemSchema } from './problemSchema';

/**
 * The OpenAPI document says what the HTTP layer really answers, beside what each route declares: every
 * /v1 route can answer 400 (a request that fails its schema, a NUL character), 401 (no or a wrong token)
 * and 429 (too many requests without a valid token, src/http/failedAuthLimit.ts); a route that takes a
 * body can answer 413 (over the body limit) and 415 (not JSON). Every error is sent as
 * application/problem+json by src/http/problemHandler.ts, so the document says that content type.
 */

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const PROBLEM = 'application/problem+json';
const PROBLEM_REF = '#/components/schemas/Problem';
const SAYS: Record<string, string> = {
  '400': 'the request does not fit its schema, or holds a NUL character (each problem in `errors`)',
  '401':
    'no token, a token that is not recognised, or a user token on an admin route (the detail says which)',
  '403':
    "an API key without the scope this operation needs (insufficient_scope, naming it), or a user token for another user's inbox",
  '404': 'no such resource',
  '409': 'the resource is in a state that refuses this',
  '413': 'the body is larger than 2 MiB',
  '415': 'the body is not application/json',
  '422': 'the request is well formed but cannot be done (the detail and `errors` say why)',
  '426': 'a plain GET on the WebSocket route: send Upgrade: websocket',
  '429': 'too many requests without a valid token from this address (per instance)',
  '503': 'a service Herald needs is not reachable right now',
};

function commonProblems(method: string | string[], url: string): Record<string, typeof problemSchema> {
  if (!url.startsWith('/v1/')) return {};
  const methods = Array.isArray(method) ? method : [method];
  const withBody = methods.some((m) => BODY_METHODS.has(m.toUpperCase()));
  const statuses = withBody ? [400, 401, 413, 415, 429] : [400, 401, 429];
  return Object.fromEntries(statuses.map((s) => [String(s), problemSchema]));
}

/** Per route: the route's own schema plus the answers the HTTP layer adds, then zod → JSON Schema. */
export const describeRoute: SwaggerTransform = (doc) => {
  const schema = doc.schema as (FastifySchema & { response?: Record<string, unknown> }) | undefined;
  if (!schema || (schema as { hide?: boolean }).hide) return jsonSchemaTransform(doc);
  const response = { ...commonProblems(doc.route.method, doc.url), ...schema.response };
  return jsonSchemaTransform({ ...doc, schema: { ...schema, response } });
};

interface MediaMap {
  [contentType: string]: unknown;
}
interface ResponseObject {
  description?: string;
  content?: MediaMap;
}

/** The whole document: components from the zod registry, then errors moved to problem+json. */
export const describeDocument: SwaggerTransformObject = (doc) => {
  const out = jsonSchemaTransformObject(doc) as {
    paths?: Record<string, Record<string, { responses?: Record<string, ResponseObject> }>>;
  };
  for (const operations of Object.values(out.paths ?? {}))
    for (const operation of Object.values(operations))
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const json = response.content?.['application/json'] as { schema?: { $ref?: string } } | undefined;
        if (Number(status) >= 400 && response.content && json?.schema?.$ref === PROBLEM_REF) {
          delete response.content['application/json'];
          response.content[PROBLEM] = json;
          if (response.description === 'Default Response' && SAYS[status])
            response.description = SAYS[status];
        }
      }
  return out as ReturnType<SwaggerTransformObject>;
};
