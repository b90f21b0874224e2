import type { JobBase } from '../sender';

export interface SmtpAccountConfig {
  name: string;
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  /** AUTH without TLS when the server offers no STARTTLS; otherwise TLS is required before AUTH. */
  allowInsecureAuth?: boolean;
  password?: string;
  from: string;
  replyTo?: string;
}

export interface MailJob extends JobBase {
  channel: 'mail';
  /** undefined: no SMTP account exists, write to the outbox. */
  account?: SmtpAccountConfig;
  to: { email: string; name?: string };
  subject: string;
  html: string;
  text?: string;
  /**
   * What the mail's unsubscribe link turns off: this user's (else this address's) mail of the category.
   * Absent for a critical template's mail, which carries no link.
   */
  unsubscribe?: { userId?: string; category: string | null };
}
