import type { FastifyBaseLogger } from 'fastify';
import type { Sender, SendOutcome } from '../sender';
import type { MailJob } from './mailJob';
import { buildMailMessage } from './buildMailMessage';
import { classifySmtpError } from './classifySmtpError';
import { createOutboxWriter } from './outboxWriter';
import { createSmtpTransports } from './smtpTransports';

export interface MailSenderDeps {
  /** Where mails go when no SMTP account exists (`$HERALD_HOME/outbox`). */
  outboxDir: string;
  log: Pick<FastifyBaseLogger, 'info' | 'warn'>;
  /** Connections per SMTP account pool. */
  maxConnections?: number;
  /** Subscribes to account changes, so a changed or deleted account's pool is dropped. */
  onAccountChange?(listener: (name: string) => void): () => void;
}

export interface MailSender extends Sender<MailJob> {
  close(): Promise<void>;
  /** Drops an account's pool, e.g. after the account was changed or deleted. */
  forgetAccount(name: string): Promise<void>;
}

/** The outbox uses this sender address when no account provides one. */
const OUTBOX_FROM = 'Herald <herald@localhost>';

export function createMailSender(deps: MailSenderDeps): MailSender {
  const transports = createSmtpTransports({ maxConnections: deps.maxConnections });
  const outbox = createOutboxWriter(deps.outboxDir, (dir) =>
    deps.log.info({ outboxDir: dir }, `no SMTP account: mails are written as .eml files to ${dir}`),
  );

  const offAccountChange = deps.onAccountChange?.((name) => transports.forget(name));

  return {
    channel: 'mail',
    async send(job): Promise<SendOutcome> {
      const account = job.account;
      if (!account) {
        try {
          const file = await outbox.write(
            buildMailMessage(job, OUTBOX_FROM),
            `${job.deliveryId}-${job.attempt}`,
          );
          return { kind: 'sent', providerId: file };
        } catch (err) {
          return { kind: 'retryable', code: 'outbox_write_failed', message: String((err as Error).message) };
        }
      }
      try {
        const info = await transports.use(account, (t) =>
          t.sendMail(buildMailMessage(job, account.from, account.replyTo)),
        );
        return { kind: 'sent', providerId: acceptedId(info.response, info.messageId) };
      } catch (err) {
        return classifySmtpError(err);
      }
    },
    async forgetAccount(name) {
      transports.forget(name);
    },
    async close() {
      offAccountChange?.();
      transports.closeAll();
    },
  };
}

/** Servers name their queue id in the 250 reply ("250 2.0.0 Ok: queued as 4F1C2"); else keep the reply. */
function acceptedId(response: unknown, messageId: string): string {
  if (typeof response !== 'string' || !response) return messageId;
  const queued = /queued as ([^\s;,]+)/i.exec(response);
  return queued?.[1] ?? response.trim().slice(0, 200);
}
