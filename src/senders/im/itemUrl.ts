/**
 * Where an in-site item may link: http(s), or a path on the frontend's own site. Anything else the
 * browser would follow as given — `javascript:`, `data:`, or `//host` and `/\host`, which browsers read as
 * another host. Tabs and newlines are refused too, since browsers drop them inside URLs (`java\tscript:`).
 */
const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_OR_EDGE_SPACE = new RegExp(`${CONTROL.source}|^\\s|\\s$`);

export const ITEM_URL_RULE = 'must be an http(s) URL or a path on the site (not //host or /\\host)';

export function isSafeItemUrl(url: string): boolean {
  if (CONTROL_OR_EDGE_SPACE.test(url)) return false;
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) return scheme === 'http' || scheme === 'https';
  return !/^[/\\][/\\]/.test(url) && !url.startsWith('\\');
}

/**
 * For a URL template at save time: whether its literal beginning (before the first tag) can still render
 * to a safe URL. What the tags fill in is checked again on the rendered URL at send time.
 */
export function couldBeSafeItemUrl(template: string): boolean {
  const cut = template.search(/\{[{%]/);
  if (cut < 0) return isSafeItemUrl(template);
  const prefix = template.slice(0, cut);
  if (/^\s/.test(prefix) || CONTROL.test(prefix)) return false;
  const scheme = SCHEME.exec(prefix)?.[1]?.toLowerCase();
  if (scheme !== undefined) return scheme === 'http' || scheme === 'https';
  return !/^[/\\][/\\]/.test(prefix) && !prefix.startsWith('\\');
}
