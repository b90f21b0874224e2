import { CHANNELS, recipientFieldsSchema } from '../contract/envelope';
import type { TemplateChannels, TemplateLocales, TemplateVariables } from '../contract/template';
import { DIGEST_VARIABLES } from '../contract/templatePolicy';
import { ValidationError } from '../errors';
import { parseVariableName } from './checkVariables';
import type { LiquidEngines } from './liquidEngine';
import { nearestName } from './nearestName';
import { textFields } from './templateParts';

export interface UndeclaredVariable {
  channel: string;
  field: string;
  locale?: string;
  variable: string;
  /** The declared (or recipient) name closest to it, when one is close. */
  didYouMean?: string;
}

/** Names a template may use without declaring them: the recipient's fields and `recipient` itself. */
const ALWAYS_IN_SCOPE = [...Object.keys(recipientFieldsSchema.shape), 'recipient'];

/**
 * Refuses, at save, a part that uses a variable the template does not declare (`{{ ordrNo }}` beside a
 * declared `orderNo`), which would otherwise fail every send; names the variable and the nearest name.
 * Names a template defines itself (assign, capture, for) are not global and so not counted.
 */
export function assertDeclaredVariables(
  engines: LiquidEngines,
  content: {
    variables: TemplateVariables;
    channels: TemplateChannels;
    locales: TemplateLocales;
    digest?: unknown;
  },
): void {
  const found = findUndeclaredVariables(engines, content);
  const first = found[0];
  if (!first) return;
  const where = `${first.locale ? `locales.${first.locale}.` : ''}${first.channel}.${first.field}`;
  const hint = first.didYouMean ? ` (did you mean ${first.didYouMean}?)` : '';
  const more = found.length > 1 ? ` (and ${found.length - 1} more)` : '';
  throw new ValidationError(
    'undeclared_variable',
    `${where} uses ${first.variable}, which the template does not declare${hint}; declare it in variables or use a recipient field${more}`,
    found,
  );
}

/** Every use of an undeclared variable, by channel, field and locale (what the console marks in place). */
export function findUndeclaredVariables(
  engines: LiquidEngines,
  content: {
    variables: TemplateVariables;
    channels: TemplateChannels;
    locales: TemplateLocales;
    digest?: unknown;
  },
): UndeclaredVariable[] {
  const declared = Object.keys(content.variables).map((k) => parseVariableName(k).name);
  // A digest's message sees the collected events and their count beside the latest event's data.
  const known = new Set([...declared, ...ALWAYS_IN_SCOPE, ...(content.digest ? DIGEST_VARIABLES : [])]);
  const found: UndeclaredVariable[] = [];
  const scan = (parts: Partial<Record<string, object>>, locale?: string) => {
    for (const channel of CHANNELS) {
      const part = parts[channel];
      if (!part) continue;
      for (const { field, source, html } of textFields(channel, part as Record<string, unknown>)) {
        const engine = html ? engines.html : engines.text;
        for (const variable of new Set(engine.globalVariablesSync(source))) {
          if (known.has(variable)) continue;
          const didYouMean = nearestName(variable, known);
          found.push({
            channel,
            field,
            ...(locale ? { locale } : {}),
            variable,
            ...(didYouMean ? { didYouMean } : {}),
          });
        }
      }
    }
  };
  scan(content.channels);
  for (const [locale, override] of Object.entries(content.locales)) scan(override, locale);
  return found;
}
