import { connect } from '../../web/client';
import type { SocketLike } from '../../web/client/types';

/** A socket the test drives: it opens when told, takes frames from the test and records its URL. */
class ScriptedSocket implements SocketLike {
  static all: ScriptedSocket[] = [];
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {
    ScriptedSocket.all.push(this);
  }
  send(): void {}
  close(code = 1000, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(f: unknown): void {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  get since(): string | null {
    return new URL(this.url).searchParams.get('since');
  }
}

const item = (seq: number) => ({
  id: `item-${seq}`,
  seq,
  title: `t${seq}`,
  body: '',
  url: null,
  category: null,
  tags: [],
  severity: 'normal',
  data: null,
  actions: null,
  createdAt: new Date().toISOString(),
  seenAt: null,
  readAt: null,
  archivedAt: null,
  snoozedUntil: null,
  expiresAt: null,
  actionedAt: null,
  action: null,
});

const nextSocket = async (n: number) => {
  for (let i = 0; i < 200 && ScriptedSocket.all.length < n; i++) await new Promise((r) => setTimeout(r, 5));
  const s = ScriptedSocket.all[n - 1];
  if (!s) throw new Error(`socket ${n} was never opened`);
  return s;
};

describe('browser client: where a reconnect resumes', () => {
  const emptyPage = async () =>
    new Response(JSON.stringify({ items: [], nextCursor: null }), {
      headers: { 'content-type': 'application/json' },
    });
  let inbox: ReturnType<typeof connect> | undefined;

  beforeEach(() => {
    ScriptedSocket.all = [];
  });
  afterEach(() => inbox?.close());

  async function connected(lastSeq: number) {
    inbox = connect({
      url: 'http://herald.test',
      token: async () => 'header.eyJzdWIiOiJ1LTEifQ.sig',
      WebSocket: ScriptedSocket,
      fetch: emptyPage as unknown as typeof fetch,
      backoff: { initialMs: 1, maxMs: 2 },
    });
    const first = await nextSocket(1);
    first.open();
    first.frame({ type: 'hello', userId: 'u-1', items: [], unread: 0, lastSeq, more: false });
    return first;
  }

  it('stays below a push that overtook another, so the one still on its way is not skipped', async () => {
    const first = await connected(10);
    first.frame({ type: 'message', item: item(12) });
    first.close(1006, 'lost');
    const second = await nextSocket(2);
    expect(second.since).toBe('10');
  });

  it('moves over seqs once the hole is filled, in whatever order they came', async () => {
    const first = await connected(10);
    first.frame({ type: 'message', item: item(12) });
    first.frame({ type: 'message', item: item(11) });
    first.frame({ type: 'message', item: item(13) });
    first.close(1006, 'lost');
    const second = await nextSocket(2);
    expect(second.since).toBe('13');
  });

  it('gives up on a hole that never fills once a thousand pushes wait above it', async () => {
    const first = await connected(10);
    for (let seq = 12; seq <= 1012; seq++) first.frame({ type: 'message', item: item(seq) });
    first.close(1006, 'lost');
    const second = await nextSocket(2);
    expect(second.since).toBe('1012');
  });
});
