import path from 'node:path';
import { z } from 'zod';
import { defineChannel, type Skip } from '../channel';
import type { MailJob } from './mailJob';
import { createMailSender } from './mailSender';
import { mailPartSchema, renderedMailSchema } from './mailPart';
import { smtpAccount } from './smtpAccount';

/**
 * Mail: one delivery per recipient with an email address, through the SMTP account the part names (or
 * the default one; with none at all, the outbox of .eml files).
 */
export const mail = defineChannel({
  name: 'mail',
  fanOut: 'perRecipient',
  recipientFields: { email: z.email().max(320).optional() },
  address: (r) => r.email,
  missingAddress: 'recipient has no email address',
  label: 'Email',
  suppressible: true,
  part: mailPartSchema,
  rendered: renderedMailSchema,
  textFields: ['subject', 'text'],
  htmlFields: ['html'],
  account: smtpAccount,
  concurrency: 16,
  vendorHosts: [],
  async toJob({ base, rendered, recipient, account }): Promise<MailJob | Skip> {
    if (!recipient?.email) return { skip: 'recipient has no email address' };
    const { subject, html, text } = rendered;
    return {
      ...base,
      channel: 'mail',
      account: await account(rendered.account),
      to: { email: recipient.email, name: recipient.name },
      subject,
      html,
      text,
      ...(base.critical
        ? {}
        : {
            unsubscribe: {
              ...(base.userId ? { userId: base.userId } : {}),
              category: base.templateCategory ?? null,
            },
          }),
    };
  },
  testMessage: (account, t) => ({ account, subject: t.title, html: `<p>${t.body}</p>`, text: t.body }),
  createSender: (deps) =>
    createMailSender({
      outboxDir: path.join(deps.homeDir, 'outbox'),
      log: deps.log,
      onAccountChange: deps.onAccountChange,
      audience: deps.audience,
    }),
});
