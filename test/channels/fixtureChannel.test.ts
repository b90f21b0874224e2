import os from 'node:os';
import pino from 'pino';
import {
  bindChannels,
  type RecipientFieldsOf,
  type RenderedPartsOf,
  type SenderOverrides,
} from '../../src/senders/channelSet';
import type { Database } from '../../src/db/database';
import { createLocalImBus } from '../../src/inbox/imBus';
import type { InboxStore } from '../../src/inbox/inboxStore';
import { channels } from '../../src/senders/registry';
import { createPagerSender, pager } from './support/fixtureChannel';
import { scriptedSender } from '../consumer/support/dispatchStubs';

// The registration: one line.
const withPager = [...channels, pager] as const;

type Parts = RenderedPartsOf<typeof withPager>;
type Recipient = RecipientFieldsOf<typeof withPager>;

/** Never touched: the pager and the stand-ins below need no database or inbox. */
const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used')) });

function bind(senders: SenderOverrides<typeof withPager>) {
  return bindChannels(withPager, {
    accounts: { find: async () => undefined },
    deps: {
      db: unused as Database,
      log: pino({ level: 'silent' }),
      homeDir: os.tmpdir(),
      inbox: unused as InboxStore,
      imBus: createLocalImBus(),
      onAccountChange: () => () => undefined,
      webhookAllowHosts: [],
    },
    slotFor: () => undefined,
    senders,
  });
}

describe('a channel defined under test/, registered in one line', () => {
  it("reaches its own sender with its own job type, and only that channel's part", async () => {
    const sender = createPagerSender();
    const runtime = bind({ pager: sender }).get('pager');
    const parts: Parts = { pager: { text: 'disk full on db-1' }, im: { title: 'x', body: 'y' } };
    const paged: Recipient = { pagerId: 'p-7' };
    const unpaged: Recipient = { name: 'no pager' };
    const results = await runtime?.sendBatch(
      [
        { base: { deliveryId: 'd-1', messageId: 'm-1', attempt: 1 }, parts, recipient: paged },
        { base: { deliveryId: 'd-2', messageId: 'm-1', attempt: 1 }, parts, recipient: unpaged },
      ],
      { to: [paged, unpaged], atAll: false },
    );
    expect(sender.jobs).toEqual([
      {
        deliveryId: 'd-1',
        messageId: 'm-1',
        attempt: 1,
        channel: 'pager',
        pagerId: 'p-7',
        text: 'disk full on db-1',
      },
    ]);
    expect(results).toEqual([
      { kind: 'tried', outcome: { kind: 'sent', providerId: 'page-1' }, durationMs: expect.any(Number) },
      {
        kind: 'tried',
        outcome: {
          kind: 'permanent',
          code: 'nothing_to_send',
          message: 'the template has no pager part for this recipient',
        },
        durationMs: 0,
      },
    ]);
  });

  it('is type-checked: a job reaches only its own sender, and an unknown channel does not compile', () => {
    const mail = scriptedSender('mail');
    // @ts-expect-error a mail sender cannot stand in for the pager: its jobs are MailJobs
    bind({ pager: mail });
    // @ts-expect-error no channel is called "fax"
    bind({ fax: createPagerSender() });
    const runtimes = bind({});
    // @ts-expect-error the runtime map has no "fax" key
    expect(runtimes.get('fax')).toBeUndefined();
    // @ts-expect-error the pager's rendered part needs its text
    const bad: Parts = { pager: {} };
    expect(bad).toBeDefined();
    expect([...runtimes.keys()]).toEqual([...channels.map((c) => c.name), 'pager']);
  });
});
