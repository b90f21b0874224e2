const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Deepest nesting a JSON envelope may have. A valid one needs about 35 levels (data and meta nest at most
 * 32, see the envelope schema); a deeper one is refused before JSON.parse, which would turn a few hundred
 * KiB of brackets into hundreds of MiB of heap for every such envelope in flight.
 */
export const MAX_ENVELOPE_DEPTH = 64;

export type Decoded =
  { ok: true; value: unknown } | { ok: false; code: 'invalid_utf8' | 'invalid_json'; reason: string };

/** Whether the JSON text opens more than `limit` arrays or objects inside one another (strings skipped). */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Bytes from the broker to a JSON value, refusing invalid UTF-8 rather than replacing it silently. */
export function decodeEnvelope(content: Buffer, maxBytes: number, maxDepth = MAX_ENVELOPE_DEPTH): Decoded {
  if (content.length > maxBytes) {
    return {
      ok: false,
      code: 'invalid_json',
      reason: `envelope is ${content.length} bytes; the limit is ${maxBytes}`,
    };
  }
  let text: string;
  try {
    text = utf8.decode(content);
  } catch {
    return { ok: false, code: 'invalid_utf8', reason: 'envelope is not valid UTF-8' };
  }
  if (nestsDeeperThan(text, maxDepth)) {
    return {
      ok: false,
      code: 'invalid_json',
      reason: `envelope nests arrays or objects more than ${maxDepth} levels deep`,
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return {
      ok: false,
      code: 'invalid_json',
      reason: `envelope is not valid JSON: ${(err as Error).message}`,
    };
  }
}
