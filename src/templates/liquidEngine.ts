import { Liquid, type Template } from 'liquidjs';

/** DoS bounds; liquidjs defaults every one of them to Infinity. */
export interface RenderLimits {
  /** Characters parsed per template text. */
  parseLimit: number;
  /** Milliseconds per render of one text. */
  renderLimit: number;
  /** Allocation units (array/string growth) per render of one text. */
  memoryLimit: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = {
  parseLimit: 100_000,
  renderLimit: 200,
  memoryLimit: 10_000_000,
};

/** Tags that read other templates from disk; templates here are self-contained. */
const FILE_TAGS = ['include', 'render', 'layout'] as const;

function createEngine(limits: RenderLimits, escapeOutput: boolean): Liquid {
  const engine = new Liquid({
    ...limits,
    strictVariables: true,
    strictFilters: true,
    ownPropertyOnly: true,
    // An empty in-memory map replaces the filesystem loader, so even a re-registered file tag finds nothing.
    templates: {},
    ...(escapeOutput ? { outputEscape: 'escape' as const } : {}),
  });
  // Unknown tags fail at parse time, so a template using them is refused when it is saved.
  for (const tag of FILE_TAGS) delete engine.tags[tag];
  return engine;
}

export interface LiquidEngines {
  /** Subjects, DingTalk and IM texts: output as is. */
  text: Liquid;
  /** Mail HTML: every `{{ }}` output is HTML-escaped unless piped through `raw`. */
  html: Liquid;
}

export function createLiquidEngines(limits: RenderLimits = DEFAULT_RENDER_LIMITS): LiquidEngines {
  return { text: createEngine(limits, false), html: createEngine(limits, true) };
}

export type ParsedText = Template[];

export interface LiquidErrorInfo {
  message: string;
  line?: number;
  column?: number;
}

interface TokenLike {
  getPosition(): number[];
}

function hasToken(err: object): err is { token: TokenLike } {
  const token = (err as { token?: { getPosition?: unknown } }).token;
  return typeof token?.getPosition === 'function';
}

/** liquidjs puts "line:3, col:7" in the message and on the token; split them out for API answers. */
export function describeLiquidError(err: unknown): LiquidErrorInfo {
  if (!(err instanceof Error)) return { message: String(err) };
  const message = err.message.replace(/, line:\d+, col:\d+$/, '');
  if (!hasToken(err)) return { message };
  const [line, column] = err.token.getPosition();
  return { message, ...(line === undefined ? {} : { line }), ...(column === undefined ? {} : { column }) };
}
