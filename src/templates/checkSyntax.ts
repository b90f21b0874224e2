import { CHANNELS } from '../contract/envelope';
import type { TemplateChannels, TemplateLocales } from '../contract/template';
import { ValidationError } from '../errors';
import { describeLiquidError, type LiquidEngines } from './liquidEngine';
import { textFields } from './templateParts';

export interface SyntaxProblem {
  channel: string;
  field: string;
  /** Set when the text is a locale override. */
  locale?: string;
  message: string;
  line?: number;
  column?: number;
}

/** Parses every text of every channel and locale override; what create and update run before saving. */
export function findSyntaxProblems(
  engines: LiquidEngines,
  content: { channels: TemplateChannels; locales: TemplateLocales },
): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const scan = (parts: Partial<Record<string, object>>, locale?: string) => {
    for (const channel of CHANNELS) {
      const part = parts[channel];
      if (!part) continue;
      for (const { field, source, html } of textFields(channel, part as Record<string, unknown>)) {
        const engine = html ? engines.html : engines.text;
        try {
          engine.parse(source);
        } catch (err) {
          problems.push({ channel, field, ...(locale ? { locale } : {}), ...describeLiquidError(err) });
        }
      }
    }
  };
  scan(content.channels);
  for (const [locale, override] of Object.entries(content.locales)) scan(override, locale);
  return problems;
}

export function assertSyntax(
  engines: LiquidEngines,
  content: { channels: TemplateChannels; locales: TemplateLocales },
): void {
  const problems = findSyntaxProblems(engines, content);
  const first = problems[0];
  if (!first) return;
  const where = `${first.locale ? `locales.${first.locale}.` : ''}${first.channel}.${first.field}`;
  const at = first.line === undefined ? '' : ` at line ${first.line}, column ${first.column}`;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  throw new ValidationError(
    'template_syntax',
    `${where} does not parse${at}: ${first.message}${more}`,
    problems,
  );
}
