import { userIdSchema } from '../../identity/userId';
import { parseDuration } from '../../time/duration';
import { HeraldError } from '../../errors';
import { defineChannel, type Skip } from '../channel';
import type { ImJob } from './imJob';
import { createImSender } from './imSender';
import { imPartSchema, renderedImSchema } from './imPart';
import { isSafeItemUrl, ITEM_URL_RULE } from './itemUrl';

/**
 * In-site IM: the item stored in the user's inbox is the send; every gateway then pushes it to the
 * user's sockets.
 */
export const im = defineChannel({
  name: 'im',
  fanOut: 'perRecipient',
  recipientFields: { userId: userIdSchema.optional() },
  address: (r) => r.userId,
  missingAddress: 'recipient has no userId for in-site messages',
  label: 'In-app',
  part: imPartSchema,
  rendered: renderedImSchema,
  textFields: ['title', 'body', 'url', 'category'],
  // The user reads the item in the inbox.
  readable: true,
  recordFields: ['data', 'tags'],
  concurrency: 64,
  vendorHosts: [],
  async toJob({ base, rendered, recipient }): Promise<ImJob | Skip> {
    if (!recipient?.userId) return { skip: 'recipient has no userId for in-site messages' };
    // What the variables filled in is checked here; the template's literal start was checked at save.
    if (rendered.url !== undefined && !isSafeItemUrl(rendered.url))
      throw new HeraldError('unsafe_url', `the rendered im url ${ITEM_URL_RULE}`, 422);
    for (const slot of ['primary', 'secondary'] as const) {
      const a = rendered.actions?.[slot];
      if (a && 'url' in a && !isSafeItemUrl(a.url))
        throw new HeraldError('unsafe_url', `the im ${slot} action's url ${ITEM_URL_RULE}`, 422);
    }
    const { tags, expiresAfter, ...rest } = rendered;
    const tagList =
      tags === undefined ? undefined : (Array.isArray(tags) ? tags : Object.values(tags)).filter(Boolean);
    const { templateCategory, ...jobBase } = base;
    const category = rest.category ?? templateCategory;
    return {
      ...jobBase,
      ...(category !== undefined ? { category } : {}),
      channel: 'im',
      userId: recipient.userId,
      ...rest,
      ...(tagList ? { tags: [...new Set(tagList)] } : {}),
      ...(expiresAfter
        ? { expiresAt: new Date(Date.now() + parseDuration(expiresAfter)).toISOString() }
        : {}),
    };
  },
  createSender: (deps) => createImSender({ inbox: deps.inbox, bus: deps.imBus, log: deps.log }),
});
