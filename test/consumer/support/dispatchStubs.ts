import { randomBytes } from 'node:crypto';
import { batchedSubscriberLookup } from '../../../src/audience/subscriberStore';
import os from 'node:os';
import pino from 'pino';
import { decodeAccount } from '../../../src/accounts/accountCodec';
import type { ChannelName } from '../../../src/contract/envelope';
import type { DispatchDeps } from '../../../src/consumer/dispatch';
import { createDeliveryStore } from '../../../src/delivery/deliveryStore';
import { createSuppressions } from '../../../src/audience/suppressionList';
import type { RenderedParts, ResolvedTemplate } from '../../../src/consumer/dispatchTypes';
import type { Database } from '../../../src/db/database';
import { createLocalImBus } from '../../../src/inbox/imBus';
import { createInboxStore } from '../../../src/inbox/inboxStore';
import type { JobOf } from '../../../src/senders/channel';
import { bindChannels, type ByName, type SenderOverrides } from '../../../src/senders/channelSet';
import { channels, type Channels } from '../../../src/senders/registry';
import type { Sender, SendOutcome } from '../../../src/senders/sender';

type JobFor<N extends ChannelName> = JobOf<ByName<Channels, N>>;

/** A template resolver over fixed templates; `render` interpolates {{ key }} from data and recipient. */
export function fixedTemplates(
  templates: Array<{ code: string; version?: number; channels: ChannelName[]; required?: string[] }>,
) {
  return {
    async resolve(code: string): Promise<ResolvedTemplate | undefined> {
      const t = templates.find((x) => x.code === code);
      if (!t) return undefined;
      return {
        code,
        version: t.version ?? 1,
        category: null,
        channels: t.channels,
        critical: false,
        checkData: (data) => (t.required ?? []).filter((k) => !(k in data)).map((k) => `${k}: missing`),
        async render({ data, recipient }): Promise<RenderedParts> {
          const text = `Hello ${recipient?.name ?? 'group'}, order ${String(data.orderNo)}`;
          return {
            mail: { subject: `Order ${String(data.orderNo)}`, html: `<p>${text}</p>` },
            im: { title: `Order ${String(data.orderNo)}`, body: text },
            dingtalk: { account: 'robot', msgtype: 'text', text },
          };
        },
      };
    },
  };
}

/** A sender that records every job and answers from a script (default: sent). */
export function scriptedSender<N extends ChannelName>(
  channel: N,
  script: (job: JobFor<N>, call: number) => SendOutcome = () => ({ kind: 'sent' }),
) {
  const jobs: JobFor<N>[] = [];
  const sender: Sender<JobFor<N>> & { jobs: JobFor<N>[] } = {
    channel,
    jobs,
    async send(job) {
      jobs.push(job);
      return script(job, jobs.length);
    },
  };
  return sender;
}

/** Dispatch deps on a test database; channels without a stand-in sender get their real one. */
export function dispatchDeps(
  db: Database,
  senders: SenderOverrides<Channels>,
  overrides: Partial<DispatchDeps> = {},
): DispatchDeps {
  const log = pino({ level: 'silent' });
  return {
    sql: db.sql,
    templates: fixedTemplates([{ code: 'order_shipped', channels: ['mail', 'im'], required: ['orderNo'] }]),
    channels: bindChannels(channels, {
      accounts: {
        // No default account (mails go to the outbox); any named account is a robot.
        find: async (type, name) =>
          name === undefined
            ? undefined
            : decodeAccount(type, name, { webhook: 'http://127.0.0.1:1/robot/send?access_token=t' }, {}),
      },
      deps: {
        db,
        log,
        homeDir: os.tmpdir(),
        inbox: createInboxStore(db.sql),
        imBus: createLocalImBus(),
        onAccountChange: () => () => undefined,
        // The named robot above is local: allowed, so its sends fail as a dead port does, not as egress.
        webhookAllowHosts: [{ host: '127.0.0.1' }],
      },
      slotFor: () => undefined,
      senders,
    }),
    retryDelays: [300, 400],
    now: () => Date.now(),
    log,
    store: createDeliveryStore(db.sql, 60_000),
    suppressions: createSuppressions({ secretKey: randomBytes(32), previousSecretKeys: [] }),
    directory: batchedSubscriberLookup(db.sql),
    ...overrides,
  };
}
