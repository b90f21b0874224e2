import { z } from 'zod';

/** Channel account types as the API spells them (the database enum says `dingtalk_robot`). */
export const ACCOUNT_TYPES = ['smtp', 'dingtalk-robot'] as const;
export const accountTypeSchema = z.enum(ACCOUNT_TYPES);
export type AccountType = z.infer<typeof accountTypeSchema>;

export const accountNameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'must start with a letter or digit, then letters, digits, _ . or -');

/** `addr@example.com` or `Display Name <addr@example.com>`. */
const mailbox = z
  .string()
  .max(320)
  .regex(
    /^(?:[^<>]*<\s*[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+\s*>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/,
    'must be an address like a@example.com or "Name <a@example.com>"',
  );

const smtpPublicConfig = {
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

export const smtpConfigInputSchema = z
  .object({
    ...smtpPublicConfig,
    password: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe('write-only; omitted on PUT keeps the stored one'),
  })
  .strict();

export const robotConfigInputSchema = z
  .object({
    webhook: z
      .url({ protocol: /^https$/, message: 'must be an https URL' })
      .max(2048)
      .describe(
        'the robot webhook; its access_token is write-only (omitted on PUT keeps the stored one) and never returned',
      ),
    secret: z
      .string()
      .regex(/^SEC[0-9a-zA-Z]+$/, 'must be the signing secret shown by DingTalk, starting with SEC')
      .max(256)
      .optional()
      .describe('write-only signing secret; omitted on PUT keeps the stored one'),
  })
  .strict();

const smtpWrite = {
  type: z.literal('smtp'),
  config: smtpConfigInputSchema,
  isDefault: z.boolean().optional().describe('the account mails use when a template names none'),
};
const robotWrite = { type: z.literal('dingtalk-robot'), config: robotConfigInputSchema };

export const createAccountBodySchema = z
  .discriminatedUnion('type', [
    z.object({ name: accountNameSchema, ...smtpWrite }).strict(),
    z.object({ name: accountNameSchema, ...robotWrite }).strict(),
  ])
  .meta({ id: 'ChannelAccountCreate' });
export type CreateAccountBody = z.infer<typeof createAccountBodySchema>;

export const replaceAccountBodySchema = z
  .discriminatedUnion('type', [z.object(smtpWrite).strict(), z.object(robotWrite).strict()])
  .meta({ id: 'ChannelAccountReplace' });
export type ReplaceAccountBody = z.infer<typeof replaceAccountBodySchema>;

/** Names of the secret fields an account has stored; their values are never returned. */
export const SECRET_FIELDS = ['password', 'access_token', 'secret'] as const;
export type SecretFieldName = (typeof SECRET_FIELDS)[number];

const viewBase = {
  name: z.string(),
  secretsSet: z.array(z.enum(SECRET_FIELDS)).describe('which write-only secrets are stored'),
  isDefault: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
};

// No secret field exists in these schemas, so the serializer strips one even if a bug passed it along.
export const accountViewSchema = z
  .discriminatedUnion('type', [
    z.object({ ...viewBase, type: z.literal('smtp'), config: z.object(smtpPublicConfig) }),
    z.object({
      ...viewBase,
      type: z.literal('dingtalk-robot'),
      config: z.object({ webhook: z.string().describe('the webhook without its access_token') }),
    }),
  ])
  .meta({ id: 'ChannelAccount' });
export type AccountView = z.infer<typeof accountViewSchema>;

export const accountListQuerySchema = z.object({
  type: accountTypeSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
});
export type AccountListQuery = z.infer<typeof accountListQuerySchema>;

export const accountPageSchema = z.object({
  items: z.array(accountViewSchema),
  nextCursor: z.string().nullable(),
});
export type AccountPage = z.infer<typeof accountPageSchema>;
