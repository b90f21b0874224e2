const utf8 = new TextDecoder('utf-8', { fatal: true });

export type Decoded =
  { ok: true; value: unknown } | { ok: false; code: 'invalid_utf8' | 'invalid_json'; reason: string };

/** Bytes from the broker to a JSON value, refusing invalid UTF-8 rather than replacing it silently. */
export function decodeEnvelope(content: Buffer, maxBytes: number): Decoded {
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
