import { z } from 'zod';
import { concurrencyVariable, shapeOver, type ConcurrencyVariable } from '../senders/channelSet';
import { channels, type Channels } from '../senders/registry';

const intFrom = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const list = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
  );

export const ROLES = ['api', 'consumer', 'gateway'] as const;
export type Role = (typeof ROLES)[number];

/** Parses a comma-separated list of durations ("10s,1m,500ms", or bare milliseconds). */
const durations = z.string().transform((s, ctx) => {
  const out: number[] = [];
  for (const part of s.split(',').map((p) => p.trim())) {
    const m = /^(\d+)(ms|s|m|h|d)?$/.exec(part);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: `"${part}" is not a duration like 500ms, 10s, 5m, 1h or 30d` });
      return z.NEVER;
    }
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
      (m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h' | 'd'
    ];
    out.push(Number(m[1]) * unit);
  }
  return out;
});

/** Concurrent sends per channel: `HERALD_CONCURRENCY_<CHANNEL>`, defaulting to the channel's own. */
const concurrencyShape = shapeOver<
  Channels,
  { [C in Channels[number] as ConcurrencyVariable<C['name']>]: ReturnType<typeof intFrom> }
>(
  channels,
  (c) => intFrom(c.concurrency, 1),
  (c) => concurrencyVariable(c.name),
);

/** Every environment variable Herald reads. `.env.example` mirrors it line by line. */
export const envSchema = z.object({
  PORT: intFrom(3000).pipe(z.number().max(65535)),
  HOST: z.string().min(1).default('0.0.0.0'),
  HERALD_HOME: z.string().min(1).default('./.herald'),
  HERALD_ROLES: list.pipe(
    z
      .array(z.enum(ROLES, { message: `each role must be one of ${ROLES.join(', ')}` }))
      .transform((r) => (r.length ? r : [...ROLES])),
  ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATABASE_POOL_SIZE: intFrom(10, 1),
  AMQP_URL: z
    .string()
    .regex(/^amqps?:\/\//, 'must be an amqp:// or amqps:// URL')
    .optional(),
  HERALD_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]*$/, 'may hold only letters, digits, dot, dash and underscore')
    .default(''),
  HERALD_PREFETCH: intFrom(200, 1).pipe(z.number().max(65535)),
  HERALD_RETRY_DELAYS: durations.default([10_000, 30_000, 60_000, 180_000, 480_000, 1_080_000]),
  HERALD_DELIVERY_LIMIT: intFrom(5, 1),
  /** The rounds of channels' later checks (each channel's own by default); for tests and tuning. */
  HERALD_FOLLOW_UP_DELAYS: durations.optional(),
  ...concurrencyShape,
  HERALD_ADMIN_TOKENS: list.pipe(
    z.array(z.string().min(16, 'each admin token needs at least 16 characters')),
  ),
  HERALD_SECRET_KEY: z
    .string()
    .refine((s) => Buffer.from(s, 'base64').length === 32, 'must be 32 bytes encoded as base64')
    .optional(),
  HERALD_SECRET_KEY_PREVIOUS: list.pipe(
    z.array(
      z
        .string()
        .refine((s) => Buffer.from(s, 'base64').length === 32, 'each must be 32 bytes encoded as base64'),
    ),
  ),
  HERALD_JWT_SECRET: z.string().min(32, 'needs at least 32 characters').optional(),
  HERALD_JWT_MAX_TTL: durations
    .pipe(z.array(z.number().positive()).length(1, 'must be one duration, like 30d or 12h'))
    .transform(([ms]) => ms as number)
    .default(30 * 86_400_000),
  HERALD_WS_MAX_SOCKETS_PER_USER: intFrom(20, 1),
  HERALD_TRUST_PROXY: z
    .string()
    .optional()
    .transform((s): boolean | number | string => {
      if (s === undefined || s === 'false') return false;
      if (s === 'true') return true;
      return /^\d+$/.test(s) ? Number(s) : s;
    }),
  HERALD_SHUTDOWN_GRACE_MS: intFrom(15_000, 0),
  HERALD_WS_HEARTBEAT_MS: intFrom(30_000, 100),
  HERALD_WS_MAX_BUFFERED_BYTES: intFrom(1_048_576, 1024),
  HERALD_AUTH_FAILURE_LIMIT: intFrom(20, 0),
  HERALD_AUTH_FAILURE_WINDOW_MS: intFrom(60_000, 1),
});

export type Env = z.infer<typeof envSchema>;
