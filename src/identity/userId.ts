import { z } from 'zod';

/**
 * A user id, wherever one is taken or stored (envelope recipients, routes, queries, the JWT `sub`):
 * 1..128 characters without control characters, so it can be logged, stored and compared as is.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Whether a text holds a C0/C1 control character (a user id, a template category may not). */
export const hasControlCharacter = (s: string): boolean => CONTROL.test(s);

export const USER_ID_RULE = '1 to 128 characters without control characters';

export const userIdSchema = z
  .string()
  .min(1)
  .max(128)
  .refine((s) => !hasControlCharacter(s), 'must not contain control characters')
  .describe(`a user id: ${USER_ID_RULE}`);

export const isUserId = (v: unknown): v is string => userIdSchema.safeParse(v).success;
