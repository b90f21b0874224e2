import { z } from 'zod';
import type { AnyAccountType } from '../senders/channel';
import {
  ACCOUNT_TYPES as ACCOUNT_TYPE_NAMES,
  accountTypes,
  SECRET_NAMES,
  type ChannelDefinition,
} from '../senders/registry';

/** Channel account types as the API spells them; each channel's module defines its own. */
export const ACCOUNT_TYPES = ACCOUNT_TYPE_NAMES;
export const accountTypeSchema = z.enum(ACCOUNT_TYPES);
type AccountTypeSpecs = NonNullable<ChannelDefinition['account']>;
export type AccountType = AccountTypeSpecs['type'];

export const accountNameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'must start with a letter or digit, then letters, digits, _ . or -');

/** Names of the secret fields an account has stored; their values are never returned. */
export const SECRET_FIELDS = SECRET_NAMES;
export type SecretFieldName = (typeof SECRET_FIELDS)[number];

type BodyOf<A> = A extends AnyAccountType
  ? { type: A['type']; config: z.infer<A['input']>; isDefault?: boolean }
  : never;
export type ReplaceAccountBody = BodyOf<AccountTypeSpecs>;
export type CreateAccountBody = ReplaceAccountBody & { name: string };

interface ViewBase {
  name: string;
  secretsSet: SecretFieldName[];
  isDefault: boolean;
  createdAt: string;
  updatedAt: string;
}
type ViewOf<A> = A extends AnyAccountType
  ? ViewBase & { type: A['type']; config: z.infer<A['stored']> }
  : never;
export type AccountView = ViewOf<AccountTypeSpecs>;

const writeShape = (a: AnyAccountType) => ({
  type: z.literal(a.type),
  config: a.input,
  ...(a.defaultable
    ? { isDefault: z.boolean().optional().describe('the account a template uses when it names none') }
    : {}),
});

/**
 * One member per account type. zod cannot type a union mapped over a list, so the list's union is
 * typed from the account types above (the one cast; the members are built from the same specs).
 */
function unionOver<T>(members: z.ZodObject[]): z.ZodType<T> {
  const [first, ...rest] = members;
  if (!first) throw new Error('no channel account types are registered');
  return z.discriminatedUnion('type', [first, ...rest]) as unknown as z.ZodType<T>;
}

export const createAccountBodySchema = unionOver<CreateAccountBody>(
  accountTypes.map((a) => z.object({ name: accountNameSchema, ...writeShape(a) }).strict()),
).meta({ id: 'ChannelAccountCreate' });

export const replaceAccountBodySchema = unionOver<ReplaceAccountBody>(
  accountTypes.map((a) => z.object(writeShape(a)).strict()),
).meta({ id: 'ChannelAccountReplace' });

const viewBase = {
  name: z.string(),
  secretsSet: z.array(z.enum(SECRET_FIELDS)).describe('which write-only secrets are stored'),
  isDefault: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
};

// No secret field exists in these schemas, so the serializer strips one even if a bug passed it along.
export const accountViewSchema = unionOver<AccountView>(
  accountTypes.map((a) => z.object({ ...viewBase, type: z.literal(a.type), config: a.stored })),
).meta({ id: 'ChannelAccount' });

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
