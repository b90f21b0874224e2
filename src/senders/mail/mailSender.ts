import type { FastifyBaseLogger } from 'fastify';
import type { SenderAudience } from '../channel';
import type { Sender, SendOutcome } from '../sender';
import type { MailJob } from './mailJob';
import { buildMailMessage } from './buildMailMessage';
import { classifySmtpError, rejectsMailbox, smtpFailureDetail, SMTP_UNREACHABLE } from './classifySmtpError';
import { createOutboxWriter } from './outboxWriter';
import { createSmtpTransports, type SMTP_TIMEOUTS } from './smtpTransports';

export interface MailSenderDeps {
  /** Where mails go when no SMTP account exists (`$HERALD_HOME/outbox`). */
  outboxDir: string;
  log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'debug'>;
  /** Connections per SMTP account pool. */
  maxConnections?: number;
  /** Socket limits (SMTP_TIMEOUTS by default); tests shorten them. */
  timeouts?: Partial<typeof SMTP_TIMEOUTS>;
  /** Subscribes to account changes, so a changed or deleted account's pool is dropped. */
  onAccountChange?(listener: (name: string) => void): () => void;
  /** Unsubscribe links for non-critical mail, and the suppression of mailboxes that do not exist. */
  audience?: SenderAudience;
}

export interface MailSender extends Sender<MailJob> {
  close(): Promise<void>;
  /** Drops an account's pool, e.g. after the account was changed or deleted. */
  forgetAccount(name: string): Promise<void>;
}

/** The outbox uses this sender address when no account provides one. */
const OUTBOX_FROM = 'Herald <herald@localhost>';

export function createMailSender(deps: MailSenderDeps): MailSender {
  const transports = createSmtpTransports({ maxConnections: deps.maxConnections, timeouts: deps.timeouts });
  const outbox = createOutboxWriter(deps.outboxDir, (dir) =>
    deps.log.info({ outboxDir: dir }, `no SMTP account: mails are written as .eml files to ${dir}`),
  );

  const offAccountChange = deps.onAccountChange?.((name) => transports.forget(name));
  const audience = deps.audience;
  const unsubscribeUrl = (job: MailJob): string | undefined =>
    job.unsubscribe &&
    audience?.unsubscribeUrl({
      ...job.unsubscribe,
      channel: 'mail',
      address: job.to.email,
      deliveryId: job.deliveryId,
    });

  // The outcome stands whatever happens here: a suppression that failed to be written is written on the
  // next send to the address, which the server refuses the same way.
  const recordRejected = async (job: MailJob, outcome: Extract<SendOutcome, { kind: 'permanent' }>) => {
    try {
      await audience?.addressRejected({
        address: job.to.email,
        detail: `${outcome.code}: ${outcome.message}`,
        messageId: job.messageId,
        deliveryId: job.deliveryId,
      });
    } catch (err) {
      deps.log.warn(
        { deliveryId: job.deliveryId, err: (err as Error).message },
        'mail: could not record the refused address in the suppression list',
      );
    }
  };

  return {
    channel: 'mail',
    async send(job): Promise<SendOutcome> {
      const account = job.account;
      if (!account) {
        try {
          const file = await outbox.write(
            buildMailMessage(job, OUTBOX_FROM, undefined, unsubscribeUrl(job)),
            `${job.deliveryId}-${job.attempt}`,
          );
          return { kind: 'sent', providerId: file };
        } catch (err) {
          return { kind: 'retryable', code: 'outbox_write_failed', message: String((err as Error).message) };
        }
      }
      try {
        const info = await transports.use(account, (t) =>
          t.sendMail(buildMailMessage(job, account.from, account.replyTo, unsubscribeUrl(job))),
        );
        const reply = typeof info.response === 'string' ? /^\d{3}/.exec(info.response)?.[0] : undefined;
        return {
          kind: 'sent',
          providerId: acceptedId(info.response, info.messageId),
          ...(reply ? { answer: reply } : {}),
        };
      } catch (err) {
        const outcome = classifySmtpError(err);
        if (outcome.kind === 'permanent' && rejectsMailbox(err)) await recordRejected(job, outcome);
        // The cause stays in the server log: in the attempt row it would map the network for the caller.
        if (outcome === SMTP_UNREACHABLE)
          deps.log.debug(
            { account: account.name, host: account.host, port: account.port, ...smtpFailureDetail(err) },
            'mail: SMTP server unreachable',
          );
        return outcome;
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
