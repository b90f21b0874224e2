import pino from 'pino';
import type { ChannelName } from '../../../src/contract/envelope';
import type { DispatchDeps } from '../../../src/consumer/dispatch';
import { createDeliveryStore } from '../../../src/consumer/deliveryStore';
import type { RenderedParts, ResolvedTemplate } from '../../../src/consumer/dispatchTypes';
import type { Database } from '../../../src/db/database';
import type { Sender, SendJob, SendOutcome } from '../../../src/senders/types';

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
        channels: t.channels,
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
export function scriptedSender(
  channel: ChannelName,
  script: (job: SendJob, call: number) => SendOutcome = () => ({ kind: 'sent' }),
) {
  const jobs: SendJob[] = [];
  const sender: Sender & { jobs: SendJob[] } = {
    channel,
    jobs,
    async send(job) {
      jobs.push(job);
      return script(job, jobs.length);
    },
  };
  return sender;
}

export function dispatchDeps(
  db: Database,
  senders: Sender[],
  overrides: Partial<DispatchDeps> = {},
): DispatchDeps {
  return {
    sql: db.sql,
    templates: fixedTemplates([{ code: 'order_shipped', channels: ['mail', 'im'], required: ['orderNo'] }]),
    accounts: {
      getSmtpAccount: async () => undefined,
      getRobotAccount: async (name) => ({ name, webhook: 'http://127.0.0.1:1/robot/send?access_token=t' }),
    },
    senders: new Map(senders.map((s) => [s.channel, s])),
    limits: new Map(),
    // Above the 200 ms early-claim tolerance of claimDue even at -20 % jitter and a loaded machine's lag:
    // a redelivery before the delay is due must find nothing to send.
    retryDelays: [800, 900],
    now: () => Date.now(),
    log: pino({ level: 'silent' }),
    store: createDeliveryStore(db.sql, 60_000),
    ...overrides,
  };
}
