import { z } from 'zod';
import { parseBrokerUrls } from '../broker/brokerUrls';
import { parseAllowedHost, type AllowedHost } from '../senders/egress';
import { quietHoursSchema, timeZoneSchema } from '../contract/subscriber';
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

const oneDuration = durations
  .pipe(z.array(z.number().positive()).length(1, 'must be one duration, like 30d or 12h'))
  .transform(([ms]) => ms as number);

/** Workspace quiet hours as `from-to` ("22:00-08:00"), for subscribers without their own. */
const quietHoursVariable = z
  .string()
  .transform((s) => {
    const [from, to, ...rest] = s.split('-').map((p) => p.trim());
    return rest.length ? { from: s, to: '' } : { from: from ?? '', to: to ?? '' };
  })
  .pipe(quietHoursSchema);

/** Hosts a request may go to beyond the default rule: `host` or `host:port`, comma-separated. */
const allowHosts = list.transform((entries, ctx): AllowedHost[] => {
  const out: AllowedHost[] = [];
  for (const entry of entries) {
    const parsed = parseAllowedHost(entry);
    if (parsed) out.push(parsed);
    else ctx.addIssue({ code: 'custom', message: `"${entry}" is not a host or host:port` });
  }
  return out;
});

const otlpUrl = z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }).optional();
/** What the OTLP exporter speaks: JSON over HTTP (@opentelemetry/exporter-trace-otlp-http). */
const otlpProtocol = z
  .enum(['http/json'], {
    message: "Herald exports OTLP as http/json; point it at the collector's HTTP port (4318)",
  })
  .optional();

/** Browser origins (`https://app.example.com`, or `*`), each scheme, host and optional port only. */
const corsOrigins = list.transform((entries, ctx): string[] => {
  for (const entry of entries)
    if (entry !== '*' && !/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(entry))
      ctx.addIssue({
        code: 'custom',
        message: `"${entry}" is not an origin like https://app.example.com (no path, no trailing /)`,
      });
  return entries.map((e) => e.toLowerCase());
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
  /** One node's URL, or several nodes of one cluster separated by commas (tried in turn). */
  AMQP_URL: z
    .string()
    .refine((s) => {
      try {
        return parseBrokerUrls(s).length > 0;
      } catch {
        return false;
      }
    }, 'must be an amqp:// or amqps:// URL, or several separated by commas')
    .optional(),
  HERALD_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]*$/, 'may hold only letters, digits, dot, dash and underscore')
    .default(''),
  HERALD_PREFETCH: intFrom(200, 1).pipe(z.number().max(65535)),
  /**
   * Critical templates' envelopes one consumer holds at a time, on their own queue and on top of
   * HERALD_PREFETCH (embedded: scheduler slots kept free for them).
   */
  HERALD_PREFETCH_CRITICAL: intFrom(32, 1).pipe(z.number().max(65535)),
  HERALD_RETRY_DELAYS: durations.default([10_000, 30_000, 60_000, 180_000, 480_000, 1_080_000]),
  HERALD_DELIVERY_LIMIT: intFrom(5, 1),
  /** The rounds of channels' later checks (each channel's own by default); for tests and tuning. */
  HERALD_FOLLOW_UP_DELAYS: durations.optional(),
  ...concurrencyShape,
  HERALD_ADMIN_TOKENS: list.pipe(
    z.array(z.string().min(16, 'each admin token needs at least 16 characters')),
  ),
  HERALD_API_KEY_CACHE_MS: intFrom(10_000, 0),
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
  HERALD_JWT_MAX_TTL: oneDuration.default(30 * 86_400_000),
  // Unset: nothing is ever removed. See src/retention.
  HERALD_RETENTION: oneDuration
    .pipe(
      z
        .number()
        .min(86_400_000, 'must be at least 1d, so a message is never removed while it may still be retried'),
    )
    .optional(),
  // Unset: only subscribers' own quiet hours hold deliveries back. See src/consumer/quietHours.ts.
  HERALD_QUIET_HOURS: quietHoursVariable.optional(),
  HERALD_QUIET_HOURS_TIMEZONE: timeZoneSchema.default('UTC'),
  HERALD_WS_MAX_SOCKETS_PER_USER: intFrom(20, 1),
  /**
   * Where people reach this Herald's api role from outside (unsubscribe links in mails); unset:
   * http://localhost:PORT, which only works on this machine (said in the log at start).
   */
  HERALD_PUBLIC_URL: z
    .url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' })
    .transform((s) => s.replace(/\/+$/, ''))
    .optional(),
  /** How long an unsubscribe and preferences link in a mail keeps working. */
  HERALD_UNSUBSCRIBE_LINK_TTL: oneDuration
    .pipe(z.number().min(86_400_000, 'must be at least 1d: a message is often read days later'))
    .default(90 * 86_400_000),
  HERALD_TRUST_PROXY: z
    .string()
    .optional()
    .transform((s): boolean | number | string => {
      if (s === undefined || s === 'false') return false;
      if (s === 'true') return true;
      return /^\d+$/.test(s) ? Number(s) : s;
    }),
  HERALD_WEBHOOK_ALLOW_HOSTS: allowHosts,
  HERALD_STATUS_WEBHOOK_ALLOW_HOSTS: allowHosts,
  HERALD_CORS_ORIGINS: corsOrigins,
  HERALD_STATUS_WEBHOOK_RETRY_DELAYS: durations.default([1000, 5000, 30_000, 120_000, 600_000, 1_800_000]),
  HERALD_STATUS_WEBHOOK_MAX_FAILURES: intFrom(20, 1),
  HERALD_STATUS_WEBHOOK_TIMEOUT_MS: intFrom(10_000, 100),
  HERALD_STATUS_WEBHOOK_POLL_MS: intFrom(1000, 10),
  HERALD_SHUTDOWN_GRACE_MS: intFrom(15_000, 0),
  HERALD_WS_HEARTBEAT_MS: intFrom(30_000, 100),
  HERALD_WS_MAX_BUFFERED_BYTES: intFrom(1_048_576, 1024),
  HERALD_AUTH_FAILURE_LIMIT: intFrom(20, 0),
  HERALD_AUTH_FAILURE_WINDOW_MS: intFrom(60_000, 1),
  // OpenTelemetry (src/tracing): tracing runs only with an OTLP endpoint; the SDK reads the other OTEL_*.
  OTEL_SDK_DISABLED: z
    .string()
    .optional()
    .transform((s) => s?.trim().toLowerCase() === 'true'),
  OTEL_TRACES_EXPORTER: z
    .enum(['otlp', 'none'], { message: 'Herald exports traces over OTLP only: otlp, or none for no traces' })
    .default('otlp'),
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl,
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol,
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
});

export type Env = z.infer<typeof envSchema>;
