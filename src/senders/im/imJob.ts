import type { JobBase } from '../sender';

export interface ImJob extends JobBase {
  channel: 'im';
  userId: string;
  title: string;
  body: string;
  url?: string;
  category?: string;
  data?: unknown;
}
