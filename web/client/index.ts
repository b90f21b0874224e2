export { connect } from './connect';
export type { ConnectOptions, HeraldInbox, InboxEvents, InboxError, InboxStatus } from './connect';
export { backoffDelay, type BackoffOptions } from './backoff';
export { HeraldHttpError } from './httpInbox';
export { switchedOn, withSwitch, type Preferences, type Switch } from './preferences';
export type {
  InboxCounts,
  InboxItem,
  InboxPage,
  ServerFrame,
  ClientFrame,
  SocketConstructor,
  SocketLike,
} from './types';
