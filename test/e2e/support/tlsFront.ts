import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const CERT = fs.readFileSync(path.join(__dirname, 'localhost-cert.pem'), 'utf8');
const KEY = fs.readFileSync(path.join(__dirname, 'localhost-key.pem'), 'utf8');

export interface TlsFront {
  /** `target` with its scheme and port swapped for this front's. */
  url: string;
  close(): Promise<void>;
}

/**
 * An HTTPS front for a local HTTP peer: the API takes only https robot webhooks, the fake robot speaks
 * plain HTTP. The front forwards each request unchanged and answers with what the peer answered.
 */
export async function startTlsFront(target: string): Promise<TlsFront> {
  const upstream = new URL(target);
  const server = https.createServer({ cert: CERT, key: KEY }, (req, res) => {
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = new URL(target);
  url.protocol = 'https:';
  url.port = String(port);
  return {
    url: url.toString(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Makes this process's HTTPS clients (axios in Herald's DingTalk sender goes through the global agent)
 * trust the front's self-signed certificate, as a deployment would trust its CA; returns the undo.
 */
export function trustTlsFront(): () => void {
  const options = https.globalAgent.options;
  const before = options.ca;
  options.ca = [CERT];
  return () => {
    options.ca = before;
  };
}
