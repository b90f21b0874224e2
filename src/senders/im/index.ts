import { userIdSchema } from '../../identity/userId';
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
  part: imPartSchema,
  rendered: renderedImSchema,
  textFields: ['title', 'body', 'url', 'category'],
  recordFields: ['data'],
  concurrency: 64,
  vendorHosts: [],
  async toJob({ base, rendered, recipient }): Promise<ImJob | Skip> {
    if (!recipient?.userId) return { skip: 'recipient has no userId for in-site messages' };
    // What the variables filled in is checked here; the template's literal start was checked at save.
    if (rendered.url !== undefined && !isSafeItemUrl(rendered.url))
      throw new HeraldError('unsafe_url', `the rendered im url ${ITEM_URL_RULE}`, 422);
    return { ...base, channel: 'im', userId: recipient.userId, ...rendered };
  },
  createSender: (deps) => createImSender({ inbox: deps.inbox, bus: deps.imBus, log: deps.log }),
});
