import type { AppContext } from '../appContext';
import { rejectMessage } from '../delivery/deliveryState';
import { audienceOf, type Envelope } from '../contract/envelope';
import { unknownTopics } from '../audience/topicStore';
import { ValidationError } from '../errors';
import { assertVariables } from '../templates/checkVariables';
import { nearestName } from '../templates/nearestName';

/**
 * What `POST /v1/messages` can check at once against the template's current version: that it exists, has
 * the channels asked for, and that the data fits its variables. A refusal is a 422 and a `rejected`
 * message row with the reason; a rejected id is not used up (the same id is accepted once it is right).
 * What only send time knows (a later version, recipients) is checked again by dispatch.
 */
async function freshActiveVersion(ctx: AppContext, code: string) {
  const template = await ctx.db.prisma.template.findUnique({
    where: { code },
    select: { status: true, currentVersion: true },
  });
  return template?.status === 'active'
    ? ctx.services.templates.getVersion(code, template.currentVersion)
    : undefined;
}

export async function assertPublishable(ctx: AppContext, env: Envelope): Promise<void> {
  try {
    // The cached active version first: this runs for every publish. A miss reads the database, so a
    // template just written through another instance (before its broadcast arrives) is found too; a
    // version archived meanwhile is caught again at send time.
    const version =
      (await ctx.services.templates.getActiveVersion(env.template)) ??
      (await freshActiveVersion(ctx, env.template));
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
    const missing = await unknownTopics(ctx.db.sql, audienceOf(env).topics);
    if (missing.length)
      throw new ValidationError('unknown_topic', `no topic ${missing.map((k) => `"${k}"`).join(', ')}`);
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
