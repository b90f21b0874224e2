import { z } from 'zod';
import { defineChannel, type Skip } from '../channel';
import type { ImJob } from './imJob';
import { createImSender } from './imSender';
import { imPartSchema, renderedImSchema } from './imPart';

/**
 * In-site IM: the item stored in the user's inbox is the send; every gateway then pushes it to the
 * user's sockets.
 */
export const im = defineChannel({
  name: 'im',
  fanOut: 'perRecipient',
  recipientFields: { userId: z.string().min(1).max(128).optional() },
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
    return { ...base, channel: 'im', userId: recipient.userId, ...rendered };
  },
  createSender: (deps) => createImSender({ inbox: deps.inbox, bus: deps.imBus, log: deps.log }),
});
