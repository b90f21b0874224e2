import { z } from 'zod';
import { defineAccountType } from '../channel';
import type { SmtpAccountConfig } from './mailJob';

/** `addr@example.com` or `Display Name <addr@example.com>`. */
const mailbox = z
  .string()
  .max(320)
  .regex(
    /^(?:[^<>]*<\s*[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+\s*>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/,
    'must be an address like a@example.com or "Name <a@example.com>"',
  );

const publicConfig = {
  host: z.string().min(1).max(255),
  port: z.int().min(1).max(65535),
  secure: z
    .boolean()
    .describe('TLS from the first byte (usually port 465); false uses STARTTLS when offered'),
  user: z.string().min(1).max(320).optional(),
  allowInsecureAuth: z
    .boolean()
    .optional()
    .describe(
      'with secure false: send AUTH even when the server offers no STARTTLS (in the clear); default false',
    ),
  from: mailbox,
  replyTo: mailbox.optional(),
};

export const smtpAccount = defineAccountType({
  type: 'smtp',
  dbType: 'smtp',
  label: 'SMTP',
  defaultable: true,
  input: z
    .object({
      ...publicConfig,
      password: z
        .string()
        .min(1)
        .max(1024)
        .optional()
        .describe('write-only; omitted on PUT keeps the stored one'),
    })
    .strict(),
  stored: z.object({
    host: z.string(),
    port: z.number(),
    secure: z.boolean(),
    user: z.string().optional(),
    allowInsecureAuth: z.boolean().optional(),
    from: z.string(),
    replyTo: z.string().optional(),
  }),
  secrets: { password: 'password' },
  split({ password, ...config }, previous) {
    const keep = password ?? previous.password;
    const secrets: Record<string, string> = keep === undefined ? {} : { password: keep };
    return { config, secrets };
  },
  // `secure` counts: turning TLS off would send the password in the clear.
  movedSecrets(input, stored, secrets) {
    const changed = (['host', 'port', 'user', 'secure'] as const).filter(
      (k) => (input[k] ?? null) !== (stored[k] ?? null),
    );
    if (!changed.length || secrets.password === undefined || input.password !== undefined) return undefined;
    return { changed: changed.join(', '), secrets: ['password'] };
  },
  toConfig(name, stored, secrets): SmtpAccountConfig {
    return { name, ...stored, ...(secrets.password !== undefined ? { password: secrets.password } : {}) };
  },
});
