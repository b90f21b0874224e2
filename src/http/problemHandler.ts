import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { HeraldError, OperatorError } from '../errors';
import { redactUrl } from './redactUrl';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  errors?: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function problem(
  status: number,
  code: string,
  detail: string | undefined,
  url: string,
  errors?: unknown,
): Problem {
  return {
    type: `https://herald.dev/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    ...(detail ? { detail } : {}),
    // A WebSocket or misdirected client may carry its user token in the query; never echo it.
    instance: redactUrl(url),
    ...(errors === undefined ? {} : { errors }),
  };
}

/**
 * RFC 9457 answers for every error; 5xx internals are logged, never sent. Unknown paths under a protected
 * prefix answer 401 to callers without a valid token, so the route map is not probed anonymously.
 */
export function registerProblemHandler(
  app: FastifyInstance,
  guard?: {
    prefix: string;
    allows(req: FastifyRequest): Promise<boolean>;
    refusal(req: FastifyRequest): HeraldError;
  },
): void {
  app.setErrorHandler((err: FastifyError | HeraldError | Error, req, reply) => {
    let body: Problem;
    if (err instanceof HeraldError) {
      // The operator's to fix (a changed secret key): logged like any other server failure.
      if (err instanceof OperatorError) req.log.error({ err }, 'request failed');
      body = problem(err.status, err.code, err.message, req.url, err.details);
    } else if (hasZodFastifySchemaValidationErrors(err)) {
      const errors = err.validation.map((v) => ({
        path: `${err.validationContext ?? 'body'}${v.instancePath.replace(/\//g, '.')}`,
        message: v.message,
      }));
      body = problem(
        400,
        'invalid_request',
        errors.map((e) => `${e.path}: ${e.message}`).join('; '),
        req.url,
        errors,
      );
    } else {
      const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
      if (status >= 500) {
        req.log.error({ err }, 'request failed');
        body = problem(status, 'internal_error', 'the server could not complete the request', req.url);
      } else {
        const code =
          'code' in err && typeof err.code === 'string'
            ? err.code.toLowerCase().replace(/^fst_err_/, '')
            : 'bad_request';
        body = problem(status, code, err.message, req.url);
      }
    }
    if (body.status === 401) void reply.header('www-authenticate', 'Bearer');
    return reply.status(body.status).type('application/problem+json').send(body);
  });

  app.setNotFoundHandler(async (req, reply) => {
    if (guard && req.url.startsWith(guard.prefix) && !(await guard.allows(req))) {
      const err = guard.refusal(req);
      return reply
        .status(401)
        .header('www-authenticate', 'Bearer')
        .type('application/problem+json')
        .send(problem(401, err.code, err.message, req.url, err.details));
    }
    return reply
      .status(404)
      .type('application/problem+json')
      .send(problem(404, 'route_not_found', `no route ${req.method} ${req.url.split('?')[0]}`, req.url));
  });
}
