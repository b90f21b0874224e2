import { setImmediate as nextLoopTurn } from 'node:timers/promises';
import { CHANNELS, recipientFieldsSchema, type ChannelName, type Recipient } from '../contract/envelope';
import type { RenderedParts, TemplateVariables } from '../contract/template';
import { DIGEST_VARIABLES } from '../contract/templatePolicy';
import { ValidationError } from '../errors';
import {
  createLiquidEngines,
  DEFAULT_RENDER_LIMITS,
  describeLiquidError,
  type LiquidEngines,
  type LiquidErrorInfo,
  type ParsedText,
  type RenderLimits,
} from './liquidEngine';
import { parseVariableName } from './checkVariables';
import { judgeLimitHit, RenderStarvedError, startRenderClock } from './renderBudget';
import type { StoredTemplateVersion } from './storedTemplateVersion';
import { mergeLocale, recordFields, resolveLocale, textFields } from './templateParts';

export type { RenderedParts };

export interface RenderInput {
  data: Record<string, unknown>;
  recipient?: Partial<Recipient>;
  /** The message's default locale, used when the recipient has none. */
  locale?: string;
  /** Render only these channels (those the template lacks are ignored); all by default. */
  channels?: readonly ChannelName[];
}

/** A text that failed to render (an undefined variable, a limit hit): permanent for that message. */
export class TemplateRenderError extends ValidationError {
  constructor(details: { channel: string; field: string; message: string; line?: number; column?: number }) {
    const at = details.line === undefined ? '' : ` at line ${details.line}, column ${details.column}`;
    super(
      'template_render',
      `${details.channel}.${details.field} failed to render${at}: ${details.message}`,
      details,
    );
  }
}

interface CompiledField {
  field: string;
  parsed: ParsedText;
  html: boolean;
  /** Reads no recipient field: one output serves every recipient of an envelope. */
  shared: boolean;
}
interface CompiledChannel {
  /** Non-text fields (account, msgtype, non-string data values), copied as they are. */
  fixed: Record<string, unknown>;
  fields: CompiledField[];
}
type CompiledVersion = Partial<Record<ChannelName, CompiledChannel>>;

export interface TemplateRenderer {
  /** Which locale override `render` would use for these inputs (undefined: the base parts). */
  resolveLocale(
    version: StoredTemplateVersion,
    input: Pick<RenderInput, 'recipient' | 'locale'>,
  ): string | undefined;
  render(version: StoredTemplateVersion, input: RenderInput): Promise<RenderedParts>;
}

const RECIPIENT_FIELDS = Object.keys(recipientFieldsSchema.shape) as Array<keyof Recipient>;
const RECIPIENT_SCOPE: ReadonlySet<string> = new Set([...RECIPIENT_FIELDS, 'recipient']);

/** What one envelope's renders of one compiled version × locale have in common. */
interface EnvelopeRenders {
  /** Outputs of the fields that read no recipient field. */
  outputs: Map<string, string>;
  /**
   * Per field, whether a CPU-bound limit hit was the template's own work, as a recipient's confirming
   * renders found (or are finding: the other recipients wait for that verdict rather than confirm again).
   */
  ownWork: Map<string, Promise<boolean>>;
}
type RendersByData = WeakMap<object, EnvelopeRenders>;

/** Renders on fresh clocks that must repeat a CPU-bound limit hit before it counts as the template's own. */
const CONFIRMING_RENDERS = 2;

/**
 * Parses each version × locale once (versions are immutable, so the version id is a safe key) and
 * renders many. The cache is bounded; the least recently used entry goes first.
 */
export function createTemplateRenderer(
  opts: { limits?: RenderLimits; cacheSize?: number; engines?: LiquidEngines } = {},
): TemplateRenderer {
  const engines = opts.engines ?? createLiquidEngines(opts.limits ?? DEFAULT_RENDER_LIMITS);
  const cacheSize = opts.cacheSize ?? 1000;
  const limits = opts.limits ?? DEFAULT_RENDER_LIMITS;
  const cache = new Map<string, CompiledVersion>();
  const sharedByKey = new Map<string, RendersByData>();

  function compile(key: string, version: StoredTemplateVersion, locale: string | undefined): CompiledVersion {
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const merged = mergeLocale(version.channels, version.locales, locale);
    const compiled: CompiledVersion = {};
    for (const channel of CHANNELS) {
      const part = merged[channel] as Record<string, unknown> | undefined;
      if (!part) continue;
      const texts = textFields(channel, part);
      const records = recordFields(channel);
      const fixed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(part))
        if (!records.includes(k) && !texts.some((t) => t.field === k)) fixed[k] = v;
      for (const r of records) {
        const value = part[r];
        if (value && typeof value === 'object') fixed[r] = { ...value };
      }
      const fields = texts.map(({ field, source, html }) => {
        const engine = html ? engines.html : engines.text;
        const parsed = engine.parse(source);
        const shared = !engine.globalVariablesSync(parsed).some((name) => RECIPIENT_SCOPE.has(name));
        return { field, html, parsed, shared };
      });
      compiled[channel] = { fixed, fields };
    }
    cache.set(key, compiled);
    if (cache.size > cacheSize) {
      const oldest = cache.keys().next().value as string;
      cache.delete(oldest);
      sharedByKey.delete(oldest);
    }
    return compiled;
  }

  /**
   * Keyed by the envelope's `data` object, which dispatch passes unchanged for every recipient of one
   * envelope; entries go with the envelope. A caller that mutates `data` between renders must pass a copy.
   */
  function envelopeRenders(key: string, data: object): EnvelopeRenders {
    let byData = sharedByKey.get(key);
    if (!byData) sharedByKey.set(key, (byData = new WeakMap()));
    let renders = byData.get(data);
    if (!renders) byData.set(data, (renders = { outputs: new Map(), ownWork: new Map() }));
    return renders;
  }

  /**
   * One render on its own clock, synchronous, so the render limit's clock runs only while this render
   * works: a thousand renders of one burst no longer share one deadline. A limit hit that the CPU time does
   * not explain is the machine, not the template: the render gets more wall time (up to a stretch), so a
   * runaway template is still judged by the CPU it burnt, and a render that stays starved past the stretch
   * is retryable. A hit the CPU time does explain comes back as `cpuBound` for the caller to confirm.
   */
  function renderOnClock(
    channel: string,
    f: CompiledField,
    scope: Record<string, unknown>,
    fresh: boolean,
  ): { text: string } | { cpuBound: LiquidErrorInfo } {
    const engine = f.html ? engines.html : engines.text;
    const clock = startRenderClock(fresh);
    let renderLimit = limits.renderLimit;
    for (;;) {
      try {
        return { text: String(engine.renderSync(f.parsed, scope, { renderLimit })) };
      } catch (err) {
        const info = describeLiquidError(err);
        if (!/template render limit exceeded/.test(info.message))
          throw new TemplateRenderError({ channel, field: f.field, ...info });
        const spent = judgeLimitHit(clock, limits.renderLimit);
        if (spent.verdict === 'starved')
          throw new RenderStarvedError(channel, f.field, spent.cpuMs, spent.wallMs);
        if (spent.verdict === 'own_work') return { cpuBound: info };
        renderLimit = spent.wallLeftMs;
      }
    }
  }

  /**
   * A CPU-bound limit hit may still be garbage collection on this thread, which a busy heap can run twice
   * in a row inside one synchronous burst of renders. So it is permanent only when each of
   * `CONFIRMING_RENDERS` more renders, each on a fresh clock after the event loop has run (and with it the
   * collector's pending tasks), hits the limit the same way. Once one recipient's renders confirmed it, the
   * envelope's other recipients are judged on their first hit, so a runaway costs the extra renders once
   * per envelope, not per recipient. Synchronous unless a limit was hit.
   */
  function renderField(
    channel: string,
    f: CompiledField,
    scope: Record<string, unknown>,
    renders: EnvelopeRenders,
    name: string,
  ): string | Promise<string> {
    const first = renderOnClock(channel, f, scope, false);
    if ('text' in first) return first.text;
    const limitHit = new TemplateRenderError({ channel, field: f.field, ...first.cpuBound });
    const earlier = renders.ownWork.get(name);
    return (async () => {
      if (earlier && (await earlier)) throw limitHit;
      const confirming = confirmingRenders(channel, f, scope);
      // A confirming render that fails otherwise (starved, say) settles nothing for the other recipients.
      renders.ownWork.set(
        name,
        confirming.then(
          (text) => text === undefined,
          () => false,
        ),
      );
      const text = await confirming;
      if (text === undefined) throw limitHit;
      return text;
    })();
  }

  /** The text, or undefined when every confirming render hit the limit on CPU time too. */
  async function confirmingRenders(
    channel: string,
    f: CompiledField,
    scope: Record<string, unknown>,
  ): Promise<string | undefined> {
    for (let i = 0; i < CONFIRMING_RENDERS; i++) {
      await nextLoopTurn();
      const again = renderOnClock(channel, f, scope, true);
      if ('text' in again) return again.text;
    }
    return undefined;
  }

  const pickLocale: TemplateRenderer['resolveLocale'] = (version, input) =>
    resolveLocale(version.locales, [input.recipient?.locale, input.locale]);

  return {
    resolveLocale: pickLocale,
    async render(version, input) {
      const locale = pickLocale(version, input);
      const key = `${version.id}\u0000${locale ?? ''}`;
      const compiled = compile(key, version, locale);
      const renders = envelopeRenders(key, input.data);
      // A digest template's parts may use events and count, which only a digest message's data holds
      // (an onRateLimit template also sends envelopes one by one): null elsewhere, as an absent optional.
      const digestNames = version.policy?.digest ? DIGEST_VARIABLES : [];
      const scope = renderScope(version.variables, input.data, input.recipient, digestNames);
      const out: Record<string, Record<string, unknown>> = {};
      for (const channel of input.channels ?? CHANNELS) {
        const part = compiled[channel];
        if (!part) continue;
        const rendered: Record<string, unknown> = structuredClone(part.fixed);
        for (const f of part.fields) {
          const name = `${channel}.${f.field}`;
          let text = f.shared ? renders.outputs.get(name) : undefined;
          if (text === undefined) {
            const field = renderField(channel, f, scope, renders, name);
            text = typeof field === 'string' ? field : await field;
            if (f.shared) renders.outputs.set(name, text);
          }
          const dot = f.field.indexOf('.');
          if (dot > 0)
            (rendered[f.field.slice(0, dot)] as Record<string, unknown>)[f.field.slice(dot + 1)] = text;
          else rendered[f.field] = text;
        }
        out[channel] = rendered;
      }
      return out as RenderedParts;
    },
  };
}

/**
 * What a template sees: recipient fields, then `recipient` as an object, then the data (data wins on a
 * clash). Recipient fields and optional variables that are absent are null, so strictVariables only
 * trips on names the template has no business using.
 */
export function renderScope(
  variables: TemplateVariables,
  data: Record<string, unknown>,
  recipient: Partial<Recipient> = {},
  /** Names beside the declared variables that are null unless `data` has them. */
  optional: readonly string[] = [],
): Record<string, unknown> {
  const scope: Record<string, unknown> = {};
  for (const field of RECIPIENT_FIELDS) scope[field] = recipient[field] ?? null;
  scope.recipient = { ...scope };
  for (const declared of Object.keys(variables)) scope[parseVariableName(declared).name] = null;
  for (const name of optional) scope[name] = null;
  for (const [k, v] of Object.entries(data)) if (v !== undefined) scope[k] = v;
  return scope;
}
