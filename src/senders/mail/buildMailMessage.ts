import { compile } from 'html-to-text';
import type { SendMailOptions } from 'nodemailer';
import type { MailJob } from './mailJob';

/**
 * The Message-ID of a delivery: the same on every attempt, so a receiving system (or a person reading
 * headers) can recognise a retried send as the same mail.
 */
export function deliveryMessageId(deliveryId: string): string {
  return `<${deliveryId.replace(/[^A-Za-z0-9._-]/g, '-')}@herald>`;
}

// Compiled once: html-to-text's convert() rebuilds its options on every call (about 50 x slower).
const htmlToText = compile({ wordwrap: 100 });

/** Plain text for clients that do not show HTML, when the template has none of its own. */
export function textFromHtml(html: string): string {
  return htmlToText(html);
}

/**
 * RFC 2369 List-Unsubscribe with RFC 8058 one-click: a mailbox provider POSTs `List-Unsubscribe=One-Click`
 * to the link. No mailto: Herald reads no mailbox, and an address nobody processes would leave the
 * request unhonoured.
 */
export function unsubscribeHeaders(url: string): Record<string, string> {
  return { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

export function buildMailMessage(
  job: MailJob,
  from: string,
  replyTo?: string,
  unsubscribeUrl?: string,
): SendMailOptions {
  return {
    from,
    replyTo,
    to: job.to.name ? { name: job.to.name, address: job.to.email } : job.to.email,
    subject: job.subject,
    html: job.html,
    text: job.text ?? textFromHtml(job.html),
    messageId: deliveryMessageId(job.deliveryId),
    ...(unsubscribeUrl ? { headers: unsubscribeHeaders(unsubscribeUrl) } : {}),
  };
}
