import type { FastifyServerOptions } from 'fastify';
import { redactUrl } from './redactUrl';

/** Paths that may carry secrets; pino replaces their values before a line is written. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.query.token',
  'headers.authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.webhook',
  'config.password',
  'config.secret',
  'config.webhook',
  // Senders' jobs carry the decrypted account (see SmtpAccountConfig, RobotAccountConfig).
  '*.account.password',
  '*.account.secret',
  '*.account.webhook',
];

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      // The default serializer logs the full URL, and a WebSocket URL carries the user token.
      req: (req: { method: string; url: string; id: string }) => ({
        method: req.method,
        url: redactUrl(req.url),
        id: req.id,
      }),
    },
  };
}
