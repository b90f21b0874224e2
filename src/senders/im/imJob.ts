import type { ItemActions, Severity } from '../../inbox/inboxItem';
import type { JobBase } from '../sender';

export interface ImJob extends JobBase {
  channel: 'im';
  userId: string;
  title: string;
  body: string;
  url?: string;
  category?: string;
  tags?: string[];
  severity?: Severity;
  data?: unknown;
  actions?: ItemActions;
  /** ISO 8601: when the item leaves lists and counts (the part's expiresAfter from the send's planning). */
  expiresAt?: string;
}
