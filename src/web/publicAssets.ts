import fs from 'node:fs';
import path from 'node:path';
import type { FastifyReply } from 'fastify';
import { HeraldError } from '../errors';

/**
 * Where `npm run build` (scripts/build-web.ts) puts the browser bundles. src/ and dist/ sit at the same
 * depth under the package, so this resolves to <package>/dist/public from either.
 */
export const PUBLIC_DIR = path.resolve(__dirname, '..', '..', 'dist', 'public');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.png': 'image/png',
};

/** Files are read once and kept: they change only with a new build, which comes with a restart. */
const cache = new Map<string, Buffer>();

function read(rel: string): Buffer {
  const hit = cache.get(rel);
  if (hit) return hit;
  let body: Buffer;
  try {
    body = fs.readFileSync(path.join(PUBLIC_DIR, rel));
  } catch {
    throw new HeraldError(
      'assets_not_built',
      `${rel} is not built: run \`npm run build\` (it bundles web/ into dist/public)`,
      503,
    );
  }
  cache.set(rel, body);
  return body;
}

/** Sends one built file; `rel` is a fixed name from a route, never taken from the request. */
export function sendPublicAsset(reply: FastifyReply, rel: string, headers: Record<string, string> = {}) {
  const body = read(rel);
  return reply
    .type(TYPES[path.extname(rel)] ?? 'application/octet-stream')
    .headers({ 'x-content-type-options': 'nosniff', ...headers })
    .send(body);
}
