import type { WebSocket } from 'ws';
import type { ImEvent } from '../inbox/imBus';

export interface Connection {
  socket: WebSocket;
  userId: string;
  /** Answered the last heartbeat ping. */
  alive: boolean;
  /** `hello` has gone out; until then events wait in `pending` so none overtakes the snapshot. */
  ready: boolean;
  pending: ImEvent[];
  /** Highest item seq up to which this socket holds every item: where a catch-up after a bus gap starts. */
  lastSeq: number;
  /** Seqs it was pushed above `lastSeq`, past a hole (pushes of two commits can arrive out of order). */
  ahead: Set<number>;
}

/** The sockets this instance holds, by user; a user may hold several (tabs, devices). */
export interface ConnectionRegistry {
  add(conn: Connection): void;
  /** false when it was already gone. */
  remove(conn: Connection): boolean;
  ofUser(userId: string): readonly Connection[];
  all(): Connection[];
  size(): number;
}

export function createConnectionRegistry(): ConnectionRegistry {
  const byUser = new Map<string, Set<Connection>>();
  let count = 0;
  return {
    add(conn) {
      let set = byUser.get(conn.userId);
      if (!set) byUser.set(conn.userId, (set = new Set()));
      if (!set.has(conn)) count++;
      set.add(conn);
    },
    remove(conn) {
      const set = byUser.get(conn.userId);
      if (!set?.delete(conn)) return false;
      count--;
      if (set.size === 0) byUser.delete(conn.userId);
      return true;
    },
    ofUser: (userId) => [...(byUser.get(userId) ?? [])],
    all: () => [...byUser.values()].flatMap((s) => [...s]),
    size: () => count,
  };
}
