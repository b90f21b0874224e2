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
}
