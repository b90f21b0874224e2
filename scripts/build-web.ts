/**
 * Bundles the browser code under web/ into dist/public/ (served by Herald: the console by the api role,
 * the inbox kit and demo page by the gateway role) and prints each bundle's size, gzipped. Fails when
 * the inbox component passes its budget.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist', 'public');

/** The component a frontend embeds must stay small: it loads with their page. */
const COMPONENT_BUDGET_GZIP = 30 * 1024;

const entries: Array<{ in: string; out: string }> = [
  { in: 'web/client/index.ts', out: 'kit/herald-client' },
  { in: 'web/inbox/herald-inbox.ts', out: 'kit/herald-inbox' },
  { in: 'web/demo/demo.ts', out: 'demo/demo' },
  { in: 'web/console/main.ts', out: 'console/console' },
];

export async function buildWeb(opts: { quiet?: boolean } = {}): Promise<Record<string, number>> {
  fs.rmSync(out, { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: entries,
    outdir: out,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const file of [
    'web/console/console.css',
    'web/console/index.html',
    'web/demo/index.html',
    'web/demo/demo.css',
  ])
    fs.cpSync(path.join(root, file), path.join(out, path.relative('web', file)));
  const sizes: Record<string, number> = {};
  for (const dir of fs.readdirSync(out))
    for (const f of fs.readdirSync(path.join(out, dir))) {
      const rel = `${dir}/${f}`;
      sizes[rel] = gzipSync(fs.readFileSync(path.join(out, rel)), { level: 9 }).length;
    }
  if (!opts.quiet)
    for (const [rel, size] of Object.entries(sizes))
      console.log(`  dist/public/${rel.padEnd(28)} ${(size / 1024).toFixed(1).padStart(6)} KB gzip`);
  const component = sizes['kit/herald-inbox.js'] ?? 0;
  if (component > COMPONENT_BUDGET_GZIP)
    throw new Error(
      `herald-inbox.js is ${component} bytes gzipped, over its ${COMPONENT_BUDGET_GZIP} budget`,
    );
  return sizes;
}

if (require.main === module)
  buildWeb().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
