import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** An answer a fake vendor gives instead of checking the request; `body` is sent as JSON unless a string. */
export interface VendorAnswerOverride {
  status?: number;
  body: unknown;
  delayMs?: number;
}

export interface VendorRequest {
  receivedAt: number;
  method: string;
  path: string;
  query: URLSearchParams;
  /** The parsed JSON body (the raw text when it is not JSON, undefined for none). */
  body: unknown;
  status: number;
  answer: unknown;
}

export interface FakeVendorServer {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  requests: VendorRequest[];
  /** Answer the next requests with these, one each, before any check. */
  answerNext(...answers: VendorAnswerOverride[]): void;
  close(): Promise<void>;
}

/** Real time, not Date.now(): a test may shift the sender's clock, the vendor keeps real time. */
export const vendorNow = (): number => Math.round(performance.timeOrigin + performance.now());

/**
 * The HTTP part every fake vendor shares: parses the request, lets queued overrides answer first, else
 * asks `handle`, and records each request with its answer.
 */
export async function startFakeVendorServer(
  handle: (req: { method: string; path: string; query: URLSearchParams; body: unknown; now: number }) => {
    status?: number;
    body: unknown;
  },
): Promise<FakeVendorServer> {
  const requests: VendorRequest[] = [];
  const queued: VendorAnswerOverride[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = vendorNow();
      const url = new URL(req.url ?? '/', 'http://vendor');
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw === '' ? undefined : raw;
      try {
        if (raw) body = JSON.parse(raw);
      } catch {
        // recorded as text
      }
      const method = req.method ?? 'GET';
      const override = queued.shift();
      const result = override ?? handle({ method, path: url.pathname, query: url.searchParams, body, now });
      const status = result.status ?? 200;
      requests.push({
        receivedAt: now,
        method,
        path: url.pathname,
        query: url.searchParams,
        body,
        status,
        answer: result.body,
      });
      const reply = () => {
        const text = typeof result.body === 'string';
        res.writeHead(status, { 'content-type': text ? 'text/html' : 'application/json' });
        res.end(text ? (result.body as string) : JSON.stringify(result.body));
      };
      if (override?.delayMs) setTimeout(reply, override.delayMs);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    answerNext(...answers) {
      queued.push(...answers);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Sliding-window counters like the vendors keep: `admit` answers false, and counts nothing, once any
 * window already holds its `limit`.
 */
export function slidingWindows(windows: Array<{ limit: number; windowMs: number }>): {
  admit(now: number): boolean;
} {
  const times = windows.map(() => [] as number[]);
  return {
    admit(now) {
      const full = windows.some((w, i) => {
        const t = times[i]!;
        while (t.length > 0 && t[0]! <= now - w.windowMs) t.shift();
        return t.length >= w.limit;
      });
      if (full) return false;
      for (const t of times) t.push(now);
      return true;
    },
  };
}
