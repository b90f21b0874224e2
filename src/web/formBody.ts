/** A posted HTML form: each field's values in order (a checkbox group repeats its name). */
export type FormFields = ReadonlyMap<string, readonly string[]>;

function collect(pairs: Iterable<[string, string]>): FormFields {
  const out = new Map<string, string[]>();
  for (const [k, v] of pairs) out.set(k, [...(out.get(k) ?? []), v]);
  return out;
}

export function parseUrlEncoded(body: string): FormFields {
  return collect(new URLSearchParams(body));
}

/**
 * The text fields of a multipart/form-data body (RFC 7578), which RFC 8058 lets a mailbox provider use for
 * its one-click POST. Files are not expected and are read as text like any other part.
 */
export function parseMultipart(body: string, contentType: string | undefined): FormFields {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const b = boundary?.[1] ?? boundary?.[2];
  if (!b) throw Object.assign(new Error('multipart body without a boundary'), { statusCode: 400 });
  const pairs: Array<[string, string]> = [];
  for (const part of body.split(`--${b}`).slice(1)) {
    if (part.startsWith('--')) break;
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(part.slice(0, split))?.[1];
    if (name === undefined) continue;
    pairs.push([name, part.slice(split + 4).replace(/\r\n$/, '')]);
  }
  return collect(pairs);
}
