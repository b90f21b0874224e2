/**
 * The nodes of one RabbitMQ cluster as AMQP_URL (and the SDK's `url`) name them: one URL, or several
 * separated by commas (`amqp://u:p@rabbit-1:5672,amqp://u:p@rabbit-2:5672`), each complete.
 */
export function parseBrokerUrls(value: string | readonly string[]): string[] {
  const parts = (typeof value === 'string' ? value.split(',') : value).map((s) => s.trim());
  const urls = parts.filter((s) => s.length > 0);
  if (urls.length === 0) throw new Error('no broker URL given');
  for (const u of urls)
    if (!/^amqps?:\/\/[^/?#,]/.test(u)) throw new Error(`not an amqp:// or amqps:// URL: ${redactUrl(u)}`);
  return urls;
}

/** host:port of a broker URL, for logs (never the credentials). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}:${u.port || (u.protocol === 'amqps:' ? '5671' : '5672')}`;
  } catch {
    return '(unparsable URL)';
  }
}
