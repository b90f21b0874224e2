import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StatusEventBody } from '../../../src/contract/statusWebhook';
import { SIGNATURE_HEADER, verifySignature } from '../../../src/webhooks/signature';

export interface ReceivedEvent {
  body: StatusEventBody;
  signed: boolean;
  headerId: string | undefined;
  answered: number;
}

/**
 * A business's status-webhook endpoint on 127.0.0.1: checks every request's signature against `secret`
 * and answers what `answer` says (200 by default). `received` holds every request, answered or not.
 */
export async function startWebhookReceiver(secret: string) {
  const received: ReceivedEvent[] = [];
  let answer: () => number = () => 200;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const status = answer();
      received.push({
        body: JSON.parse(raw) as StatusEventBody,
        signed: verifySignature(secret, req.headers[SIGNATURE_HEADER] as string | undefined, raw),
        headerId: req.headers['herald-event-id'] as string | undefined,
        answered: status,
      });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'receiver is down');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/herald-events`,
    received,
    /** Accepted (2xx) deliveries only. */
    accepted: () => received.filter((r) => r.answered >= 200 && r.answered < 300),
    answerWith(fn: () => number) {
      answer = fn;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
