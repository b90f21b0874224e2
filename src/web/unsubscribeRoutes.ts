import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import type { ChannelName } from '../contract/envelope';
import { offeredCategories } from '../audience/offeredCategories';
import { withChannelOff } from '../audience/preferences';
import { readPreferences, writePreferences } from '../audience/subscriberStore';
import { LinkError, type VerifiedLink } from '../audience/unsubscribeLinks';
import { channelByName, channels } from '../senders/registry';
import { parseMultipart, parseUrlEncoded, type FormFields } from './formBody';
import { preferencesFromForm } from './preferencesForm';
import {
  PREFERENCES_PAGE_CSP,
  renderLinkProblem,
  renderPreferencesPage,
  type PageChannel,
  type PreferencesPage,
} from './preferencesPage';
import { pageHeaders } from './staticPage';

const querystring = z.object({ token: z.string().min(1).max(4096) });
/** A preferences form is a few KiB even with many categories. */
const FORM_LIMIT = 64 * 1024;
const headers = pageHeaders(PREFERENCES_PAGE_CSP);

/** The channels that reach one person, which a person can switch (robots post to a group). */
const personal = channels.filter((c) => c.fanOut === 'perRecipient');
const personalChannels: ChannelName[] = personal.map((c) => c.name);
const shown = (c: { name: string; label?: string }): PageChannel => ({
  name: c.name,
  label: c.label ?? c.name,
});
const pageChannelOf = (name: ChannelName): PageChannel => shown(channelByName.get(name) ?? { name });

/**
 * `GET /unsubscribe?token=…`: the preferences page of the person a message's signed link names. `POST` to the
 * same URL: RFC 8058 one-click (`List-Unsubscribe=One-Click`, what a mailbox provider sends), or the page's
 * own forms. A user's link changes their preferences; a link for an address without a user id puts the
 * address on the suppression list (`unsubscribed`). No other credential: the token is the key, it is
 * redacted from the request log (`?token=`), and the page sends no referrer.
 */
export const unsubscribeRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (plain, { ctx }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>();
  const sql = ctx.db.sql;
  const links = ctx.services.unsubscribeLinks;
  const suppressions = ctx.services.suppressions;

  // Registered in this plugin only: the rest of the API stays JSON.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_LIMIT },
    (_req, body, done) => done(null, parseUrlEncoded(body as string)),
  );
  app.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'string', bodyLimit: FORM_LIMIT },
    (req, body, done) => {
      try {
        done(null, parseMultipart(body as string, req.headers['content-type']));
      } catch (err) {
        done(err as Error);
      }
    },
  );

  const show = (reply: FastifyReply, status: number, html: string) =>
    reply.status(status).type('text/html; charset=utf-8').headers(headers).send(html);

  /** The link's scope, or undefined once the problem page has been sent. */
  const verified = (reply: FastifyReply, token: string): VerifiedLink | undefined => {
    try {
      return links.verify(token);
    } catch (err) {
      if (!(err instanceof LinkError)) throw err;
      void show(reply, err.reason === 'expired' ? 410 : 403, renderLinkProblem(err.message));
      return undefined;
    }
  };

  const pageFor = async (link: VerifiedLink, notice?: string): Promise<PreferencesPage> => {
    if ('userId' in link.subject) {
      const preferences = await readPreferences(sql, link.subject.userId);
      const named = [...Object.keys(preferences.categories), ...(link.category ? [link.category] : [])];
      return {
        kind: 'user',
        channel: pageChannelOf(link.channel),
        category: link.category,
        preferences,
        categories: await offeredCategories(sql, named),
        channels: personal.map(shown),
        notice,
      };
    }
    const s = await suppressions.find(sql, link.subject.address);
    return {
      kind: 'address',
      channel: pageChannelOf(link.channel),
      address: link.subject.address,
      suppressed: s?.reason,
      notice,
    };
  };

  /** The message the link's mail belonged to, for the suppression's place in its timeline. */
  const messageOf = async (deliveryId: string | undefined): Promise<string | undefined> => {
    if (!deliveryId) return undefined;
    const { rows } = await sql.query<{ messageId: string }>(
      `SELECT "messageId" FROM "Delivery" WHERE id = $1::uuid`,
      [deliveryId],
    );
    return rows[0]?.messageId;
  };

  const oneClick = async (link: VerifiedLink): Promise<string> => {
    const by = pageChannelOf(link.channel).label;
    if ('userId' in link.subject) {
      const userId = link.subject.userId;
      const prefs = await readPreferences(sql, userId);
      await writePreferences(sql, userId, withChannelOff(prefs, link.channel, link.category));
      return link.category
        ? `You will no longer get “${link.category}” by ${by}.`
        : `You will no longer get anything by ${by}, except critical notices.`;
    }
    await suppressions.suppress(sql, {
      address: link.subject.address,
      reason: 'unsubscribed',
      detail: `unsubscribe link${link.category ? ` (a “${link.category}” message)` : ''}`,
      messageId: await messageOf(link.deliveryId),
      deliveryId: link.deliveryId,
      keepExisting: true,
    });
    return `This address will no longer get anything by ${by}, except critical notices.`;
  };

  app.get('/unsubscribe', { schema: { hide: true, querystring } }, async (req, reply) => {
    const link = verified(reply, req.query.token);
    if (!link) return reply;
    return show(reply, 200, renderPreferencesPage(await pageFor(link)));
  });

  app.post('/unsubscribe', { schema: { hide: true, querystring } }, async (req, reply) => {
    const link = verified(reply, req.query.token);
    if (!link) return reply;
    const form: FormFields =
      req.body instanceof Map
        ? (req.body as FormFields)
        : typeof req.body === 'string'
          ? parseUrlEncoded(req.body)
          : new Map();
    const field = (name: string) => form.get(name)?.[0];

    if (field('List-Unsubscribe') === 'One-Click')
      return show(reply, 200, renderPreferencesPage(await pageFor(link, await oneClick(link))));
    if (field('form') === 'preferences' && 'userId' in link.subject) {
      const userId = link.subject.userId;
      const next = preferencesFromForm(await readPreferences(sql, userId), form, personalChannels);
      if (!next) return show(reply, 400, renderLinkProblem('Those preferences could not be saved.'));
      await writePreferences(sql, userId, next);
      return show(reply, 200, renderPreferencesPage(await pageFor(link, 'Your preferences are saved.')));
    }
    if (field('form') === 'resubscribe' && 'address' in link.subject) {
      // Only the person's own unsubscribe is theirs to undo; a bounce or an admin's block stays.
      const undone = await suppressions.unsuppress(sql, link.subject.address, 'unsubscribed');
      const notice = undone ? 'This address gets our messages again.' : undefined;
      return show(reply, 200, renderPreferencesPage(await pageFor(link, notice)));
    }
    return show(reply, 400, renderLinkProblem('This request was not understood.'));
  });
};
