import { z } from 'zod';
import { defineChannel, type Skip } from '../../../src/senders/channel';
import type { JobBase, Sender, SendOutcome } from '../../../src/senders/sender';

/** A channel defined outside src/: a pager that takes one line of text per recipient. */
export interface PagerJob extends JobBase {
  channel: 'pager';
  pagerId: string;
  text: string;
}

export function createPagerSender(): Sender<PagerJob> & { jobs: PagerJob[] } {
  const jobs: PagerJob[] = [];
  return {
    channel: 'pager',
    jobs,
    async send(job): Promise<SendOutcome> {
      jobs.push(job);
      return { kind: 'sent', providerId: `page-${jobs.length}` };
    },
  };
}

export const pager = defineChannel({
  name: 'pager',
  fanOut: 'perRecipient',
  recipientFields: { pagerId: z.string().min(1).optional() },
  address: (r) => r.pagerId,
  missingAddress: 'recipient has no pagerId',
  part: z.object({ text: z.string().min(1).max(80) }).strict(),
  rendered: z.object({ text: z.string() }),
  textFields: ['text'],
  concurrency: 1,
  vendorHosts: ['pager.example.com'],
  async toJob({ base, rendered, recipient }): Promise<PagerJob | Skip> {
    if (!recipient?.pagerId) return { skip: 'recipient has no pagerId' };
    return { ...base, channel: 'pager', pagerId: recipient.pagerId, text: rendered.text };
  },
  createSender: () => createPagerSender(),
});
