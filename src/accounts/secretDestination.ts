import type { ReplaceAccountBody } from '../contract/channelAccount';
import { ValidationError } from '../errors';
import { accountTypeOf } from './accountCodec';
import type { StoredAccount } from './accountStore';

/**
 * A PUT that leaves a secret out keeps the stored one, which is right for a name or sender change but not
 * when the secret would then go somewhere else: an admin who can never read the password could point the
 * account at a host of their own and receive it. Changing where a secret goes needs the secret again; what
 * counts as "where" is the account type's (`movedSecrets`). Returns the body unchanged.
 */
export function requireSecretsForNewDestination(
  body: ReplaceAccountBody,
  current: StoredAccount,
): ReplaceAccountBody {
  const spec = accountTypeOf(body.type);
  if (!spec.movedSecrets) return body;
  const stored = spec.stored.safeParse(current.row.config);
  // A stored config that no longer parses has no destination to compare with: every stored secret is asked for.
  const moved = stored.success
    ? spec.movedSecrets(spec.input.parse(body.config), stored.data, current.secrets)
    : {
        changed: 'the stored configuration',
        secrets: Object.entries(spec.secrets)
          .filter(([, key]) => current.secrets[key] !== undefined)
          .map(([name]) => name),
      };
  if (moved?.secrets.length) throw secretRequired(moved.secrets, moved.changed);
  return body;
}

function secretRequired(secrets: string[], changed: string): ValidationError {
  return new ValidationError(
    'secret_required',
    `changing ${changed} would send the stored ${secrets.join(' and ')} to a new destination: send ${secrets.length > 1 ? 'them' : 'it'} again in this request`,
    { secrets, changed },
  );
}
