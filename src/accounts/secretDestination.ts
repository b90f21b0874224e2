import type { ReplaceAccountBody } from '../contract/channelAccount';
import { ValidationError } from '../errors';
import type { StoredAccount } from './accountStore';

const SMTP_DESTINATION = ['host', 'port', 'user', 'secure'] as const;

/**
 * A PUT that leaves a secret out keeps the stored one, which is right for a name or sender change but not
 * when the secret would then go somewhere else: an admin who can never read the password could point the
 * account at a host of their own and receive it. Changing where a secret goes needs the secret again.
 * (`secure` counts: turning TLS off sends the password in the clear.) Returns the body unchanged.
 */
export function requireSecretsForNewDestination(
  body: ReplaceAccountBody,
  current: StoredAccount,
): ReplaceAccountBody {
  const stored = current.row.config as Record<string, unknown>;
  if (body.type === 'smtp') {
    const changed = SMTP_DESTINATION.filter((k) => (body.config[k] ?? null) !== (stored[k] ?? null));
    if (changed.length && current.secrets.password !== undefined && body.config.password === undefined)
      throw secretRequired(['password'], changed.join(', '));
    return body;
  }
  const before = typeof stored.webhook === 'string' ? new URL(stored.webhook) : undefined;
  const after = new URL(body.config.webhook);
  if (before && before.origin === after.origin) return body;
  const missing = [
    ...(current.secrets.accessToken !== undefined && !after.searchParams.get('access_token')
      ? ['access_token (in the webhook URL)']
      : []),
    ...(current.secrets.secret !== undefined && body.config.secret === undefined ? ['secret'] : []),
  ];
  if (missing.length) throw secretRequired(missing, 'the webhook host');
  return body;
}

function secretRequired(secrets: string[], changed: string): ValidationError {
  return new ValidationError(
    'secret_required',
    `changing ${changed} would send the stored ${secrets.join(' and ')} to a new destination: send ${secrets.length > 1 ? 'them' : 'it'} again in this request`,
    { secrets, changed },
  );
}
