import { z } from 'zod';

/** RFC 9457 problem details as Herald sends them (see src/http/problemHandler.ts). */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.unknown().optional(),
  })
  .describe('application/problem+json (RFC 9457)')
  .meta({ id: 'Problem' });
