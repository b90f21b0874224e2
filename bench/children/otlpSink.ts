import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveRpc } from '../lib/childRpc';

/**
 * The OTLP/HTTP collector of the benchmark, in a process of its own so that decoding the exports costs
 * the measured process nothing: takes `POST /v1/traces` (JSON) and counts the spans by name.
 */
let requests = 0;
let bytes = 0;
let refused = 0;
const byName = new Map<string, number>();

interface ExportRequest {
  resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<{ name: string }> }> }>;
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      refused++;
      res.writeHead(404).end();
      return;
    }
    requests++;
    bytes += body.length;
    try {
      const parsed = JSON.parse(body.toString('utf8')) as ExportRequest;
      for (const rs of parsed.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? []) byName.set(s.name, (byName.get(s.name) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } catch {
      refused++;
      res.writeHead(400).end();
    }
  });
});

serveRpc({
  async listen(): Promise<{ url: string }> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  },
  counts: () => ({
    requests,
    bytes,
    refused,
    spans: [...byName.values()].reduce((a, b) => a + b, 0),
    byName: Object.fromEntries(byName),
  }),
});
