import { z } from 'zod';
import { uuidSchema } from '../identity/uuid';
import { shapeOver } from '../senders/channelSet';
import { channels, type Channels } from '../senders/registry';
import { hasControlCharacter } from '../identity/userId';
import { CHANNELS, recipientFieldsSchema } from './envelope';
import { templatePolicyShape } from './templatePolicy';

export const TEMPLATE_CODE_PATTERN = /^[a-z0-9][a-z0-9_.-]*$/i;
export const templateCodeSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(TEMPLATE_CODE_PATTERN, 'must start with a letter or digit, then letters, digits, _ . -');

export const VARIABLE_TYPES = ['string', 'number', 'boolean', 'date', 'object', 'array'] as const;
export const variableTypeSchema = z.enum(VARIABLE_TYPES);
export type VariableType = z.infer<typeof variableTypeSchema>;

/** `name` is required, `name?` optional; the name must be usable as a Liquid variable. */
export const variablesSchema = z
  .record(
    z
      .string()
      .max(100)
      .regex(/^[A-Za-z_][A-Za-z0-9_]*\??$/, 'a variable name is letters, digits and _, with ? if optional'),
    variableTypeSchema,
  )
  .meta({ id: 'TemplateVariables' });
export type TemplateVariables = z.infer<typeof variablesSchema>;

/** Each channel's template part, by channel name. */
const partsShape = shapeOver<Channels, { [C in Channels[number] as C['name']]: z.ZodOptional<C['part']> }>(
  channels,
  (c) => c.part.optional(),
);
export const templateChannelsSchema = z
  .object(partsShape)
  .strict()
  .refine((c) => CHANNELS.some((ch) => c[ch] !== undefined), {
    message: 'a template needs at least one channel',
  })
  // The refinement, as JSON Schema says it: every key is a channel, so one key is one channel.
  .meta({ id: 'TemplateChannels', minProperties: 1, description: 'at least one channel' });
export type TemplateChannels = z.infer<typeof templateChannelsSchema>;

/** A locale override of a part may set any of its fields. */
const overridesShape = shapeOver<
  Channels,
  { [C in Channels[number] as C['name']]: z.ZodOptional<z.ZodType<Partial<z.infer<C['part']>>>> }
>(channels, (c) => c.part.partial().strict().optional());
export const localeOverrideSchema = z.object(overridesShape).strict();
export const localeTagSchema = z
  .string()
  .min(2)
  .max(35)
  .regex(/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/, 'must be a BCP 47 language tag like "en" or "zh-CN"');
export const templateLocalesSchema = z
  .record(localeTagSchema, localeOverrideSchema)
  .meta({ id: 'TemplateLocales' })
  .describe('per-locale overrides, merged field by field over the base channel parts');
export type TemplateLocales = z.infer<typeof templateLocalesSchema>;

/** What kind of notification a template sends; subscribers opt in and out per category. */
export const templateCategorySchema = z
  .string()
  .min(1)
  .max(64)
  .refine((s) => !hasControlCharacter(s), 'must not contain control characters')
  .describe('the kind of notification (e.g. "billing"); preferences are kept per category');

const templateCriticalSchema = z
  .boolean()
  .describe(
    'an alert that ignores opt-outs and quiet hours (security codes, outages), dispatched through a queue of its own ahead of other work',
  );

const templateContentShape = {
  name: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  category: templateCategorySchema.optional(),
  critical: templateCriticalSchema.default(false),
  variables: variablesSchema.default({}),
  channels: templateChannelsSchema,
  locales: templateLocalesSchema.default({}),
  ...templatePolicyShape,
};

function localesOverrideKnownChannels(
  t: { channels: TemplateChannels; locales: TemplateLocales },
  ctx: z.RefinementCtx,
): void {
  for (const [locale, override] of Object.entries(t.locales)) {
    for (const ch of CHANNELS) {
      if (override[ch] && !t.channels[ch])
        ctx.addIssue({
          code: 'custom',
          path: ['locales', locale, ch],
          message: `locale "${locale}" overrides channel ${ch}, which the template does not define`,
        });
    }
  }
}

export const createTemplateSchema = z
  .object({ code: templateCodeSchema, ...templateContentShape })
  .superRefine(localesOverrideKnownChannels)
  .meta({ id: 'TemplateCreate' });
export type CreateTemplateInput = z.infer<typeof createTemplateSchema>;

/** PUT body: the same content; `code` may be repeated but must match the path. */
export const updateTemplateSchema = z
  .object({ code: templateCodeSchema.optional(), ...templateContentShape })
  .superRefine(localesOverrideKnownChannels)
  .meta({ id: 'TemplateUpdate' });
export type UpdateTemplateInput = z.infer<typeof updateTemplateSchema>;

export const templateStatusSchema = z.enum(['active', 'archived']);
export type TemplateStatus = z.infer<typeof templateStatusSchema>;

export const templateVersionSchema = z
  .object({
    version: z.number().int(),
    name: z.string(),
    category: z.string().nullable(),
    critical: z.boolean(),
    variables: variablesSchema,
    channels: templateChannelsSchema,
    locales: templateLocalesSchema,
    ...templatePolicyShape,
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'TemplateVersion' });
export type TemplateVersionView = z.infer<typeof templateVersionSchema>;

/** A template with the content of one version (the current one unless asked otherwise). */
export const templateSchema = z
  .object({
    id: uuidSchema,
    code: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    status: templateStatusSchema,
    currentVersion: z.number().int(),
    version: z.number().int().describe('the version whose content is shown'),
    category: z.string().nullable().describe("the version's category; null when it has none"),
    critical: z.boolean(),
    variables: variablesSchema,
    channels: templateChannelsSchema,
    locales: templateLocalesSchema,
    ...templatePolicyShape,
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    warnings: z.array(z.string()).optional().describe('channels that cannot be sent as the template stands'),
  })
  .meta({ id: 'Template' });
export type TemplateView = z.infer<typeof templateSchema>;

export const templateSummarySchema = templateSchema
  .pick({ id: true, code: true, name: true, description: true, status: true, currentVersion: true })
  .extend({ channels: z.array(z.enum(CHANNELS)), createdAt: z.iso.datetime(), updatedAt: z.iso.datetime() })
  .meta({ id: 'TemplateSummary' });
export type TemplateSummary = z.infer<typeof templateSummarySchema>;

export const templateListSchema = z
  .object({ items: z.array(templateSummarySchema), nextCursor: z.string().nullable() })
  .meta({ id: 'TemplateList' });
export type TemplateList = z.infer<typeof templateListSchema>;

export const templateListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional().describe('nextCursor of the previous page'),
  status: templateStatusSchema.optional(),
  channel: z.enum(CHANNELS).optional(),
});
export type TemplateListQuery = z.infer<typeof templateListQuerySchema>;

export const previewRequestSchema = z
  .object({
    data: z.record(z.string(), z.unknown()).default({}),
    locale: localeTagSchema.optional(),
    recipient: recipientFieldsSchema
      .optional()
      .describe('a sample recipient; its fields are available to the template'),
  })
  .meta({ id: 'PreviewRequest' });
export type PreviewRequest = z.infer<typeof previewRequestSchema>;

const renderedShape = shapeOver<
  Channels,
  { [C in Channels[number] as C['name']]: z.ZodOptional<C['rendered']> }
>(channels, (c) => c.rendered.optional());
export const renderedPartsSchema = z.object(renderedShape).meta({ id: 'RenderedParts' });
export type RenderedParts = z.infer<typeof renderedPartsSchema>;

export const previewResponseSchema = z
  .object({
    version: z.number().int(),
    locale: z.string().nullable().describe('the locale override used; null for the base parts'),
    channels: renderedPartsSchema,
  })
  .meta({ id: 'TemplatePreview' });
export type PreviewResponse = z.infer<typeof previewResponseSchema>;

/** An unsaved template's content with sample data: what the console previews as an admin types. */
export const draftPreviewRequestSchema = previewRequestSchema
  .extend({
    template: z.object({
      variables: variablesSchema.default({}),
      channels: templateChannelsSchema,
      locales: templateLocalesSchema.default({}),
      ...templatePolicyShape,
    }),
  })
  .meta({ id: 'DraftPreviewRequest' });
export type DraftPreviewRequest = z.infer<typeof draftPreviewRequestSchema>;

const partPlace = {
  channel: z.string(),
  field: z.string(),
  locale: z.string().optional().describe('set when the text is a locale override'),
};

/** Every problem save or send would refuse, each at its place; the rendered parts when there is none. */
export const draftPreviewResponseSchema = z
  .object({
    locale: z.string().nullable(),
    channels: renderedPartsSchema.nullable().describe('null while any problem stands'),
    problems: z.object({
      syntax: z.array(
        z.object({
          ...partPlace,
          message: z.string(),
          line: z.number().int().optional(),
          column: z.number().int().optional(),
        }),
      ),
      undeclared: z.array(
        z.object({ ...partPlace, variable: z.string(), didYouMean: z.string().optional() }),
      ),
      variables: z.array(
        z.object({
          variable: z.string(),
          problem: z.enum(['missing', 'wrong_type']),
          expected: variableTypeSchema,
          got: z.string(),
        }),
      ),
      render: z.string().optional().describe('an error raised while rendering (a failing filter, a limit)'),
    }),
  })
  .meta({ id: 'DraftPreview' });
export type DraftPreviewResponse = z.infer<typeof draftPreviewResponseSchema>;
