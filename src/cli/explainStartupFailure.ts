/**
 * One readable line for the start-up failures an operator meets first, instead of a library stack
 * ("Expected ConnectionOpenOk", a WASM trace). Undefined when the error is none of these.
 */
export function explainStartupFailure(err: unknown, env: NodeJS.ProcessEnv): string | undefined {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { message?: unknown; code?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const amqp = parse(env.AMQP_URL);
  const db = parse(env.DATABASE_URL);

  if (amqp && /Expected ConnectionOpenOk|NOT_ALLOWED.*vhost|vhost .* not found/i.test(message)) {
    const vhost = decodeURIComponent(amqp.pathname.slice(1)) || '/';
    const user = decodeURIComponent(amqp.username) || 'guest';
    return `RabbitMQ refused vhost ${vhost} (does it exist? rabbitmqctl add_vhost ${vhost}; may ${user} use it? rabbitmqctl set_permissions -p ${vhost} ${user} '.*' '.*' '.*')`;
  }
  if (amqp && /ACCESS_REFUSED/.test(message))
    return `RabbitMQ refused the login of user ${decodeURIComponent(amqp.username) || 'guest'} at ${amqp.host} (check the user and password in AMQP_URL)`;

  const missingDb = /[Dd]atabase [`"]([^`"]+)[`"] does not exist/.exec(message);
  if (db && (missingDb || e.code === '3D000')) {
    const name = missingDb?.[1] ?? decodeURIComponent(db.pathname.slice(1));
    return `database ${name} does not exist on ${db.host} (createdb ${name})`;
  }
  if (
    db &&
    (e.code === '28P01' ||
      /password authentication failed|Authentication failed against database/i.test(message))
  )
    return `PostgreSQL refused the login of user ${decodeURIComponent(db.username)} at ${db.host} (check DATABASE_URL)`;

  if (e.code === 'ECONNREFUSED' || /ECONNREFUSED|Can't reach database/.test(message)) {
    const target = /(\d{1,3}(?:\.\d{1,3}){3}|\[[^\]]+\]|[\w.-]+):(\d+)/.exec(message)?.[0];
    const which =
      amqp && target === amqp.host
        ? 'RabbitMQ (AMQP_URL)'
        : db && target === db.host
          ? 'PostgreSQL (DATABASE_URL)'
          : 'a service';
    return `cannot reach ${which}${target ? ` at ${target}` : ''}: connection refused (is it running?)`;
  }
  return undefined;
}

function parse(url: string | undefined): URL | undefined {
  if (!url) return undefined;
  try {
    return new URL(url.split(',')[0] as string);
  } catch {
    return undefined;
  }
}
