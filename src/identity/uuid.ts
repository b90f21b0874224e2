import { z } from 'zod';

/**
 * A UUID as PostgreSQL's uuid type takes it: 32 hex digits in 8-4-4-4-12 groups, any version and variant
 * (what OpenAPI's `format: uuid` promises), not only RFC 9562's variant.
 */
export const uuidSchema = z.guid();
