import type { AppContext } from '../appContext';
import { rejectMessage } from '../delivery/deliveryState';
import type { Envelope } from '../contract/envelope';
import { ValidationError } from '../errors';
import { assertVariables } from '../templates/checkVariables';
import { nearestName } from '../templates/nearestName';

/**
 * What `POST /v1/messages` can check at once against the template's current version: that it exists, has
 * the channels asked for, and that the data fits its variables. A refusal is a 422 and a `rejected`
 * message row with the reason; a rejected id is not used up (the same id is accepted once it is right).
 * What only send time knows (a later version, recipients) is checked again by dispatch.
 */
export async function assertPublishable(ctx: AppContext, env: Envelope): Promise<void> {
  try {
    // Not the cache: a template just written through another instance must be found here too.
    const template = await ctx.db.prisma.template.findUnique({
      where: { code: env.template },
      select: { status: true, currentVersion: true },
    });
    const version =
      template?.status === 'active'
        ? await ctx.services.templates.getVersion(env.template, template.currentVersion)
        : undefined;
    if (!version) {
      const active = await ctx.db.prisma.template.findMany({
        where: { status: 'active' },
        select: { code: true },
      });
      const hint = nearestName(
        env.template,
        active.map((t) => t.code),
      );
      throw new ValidationError(
        'unknown_template',
        `no active template "${env.template}"${hint ? ` (did you mean ${hint}?)` : ''}`,
        hint ? { suggestion: hint } : undefined,
      );
    }
    const has = new Set(Object.entries(version.channels).flatMap(([c, part]) => (part ? [c] : [])));
    const lacking = (env.channels ?? []).filter((c) => !has.has(c));
    if (lacking.length)
      throw new ValidationError(
        'unknown_channel',
        `template "${env.template}" has no ${lacking.join(', ')} channel (it has ${[...has].join(', ')})`,
      );
    assertVariables(version.variables, env.data);
  } catch (err) {
    if (err instanceof ValidationError)
      await rejectMessage(ctx.db.sql, {
        id: env.id,
        templateCode: env.template,
        reason: `${err.code}: ${err.message}`,
      });
    throw err;
  }
}
