/**
 * Fails when two folders under src/ import each other, directly or through others (`consumer` ↔
 * `deadLetters`, `gateway` ↔ `inbox` ↔ `senders` were such cycles). Files at the top of src/ (the
 * composition root, errors, the context type) are not folders and are left out; so is the generated
 * Prisma client.
 */
import fs from 'node:fs';
import path from 'node:path';

const SRC = path.join(__dirname, '..', 'src');
const graph = new Map<string, Set<string>>();

function folderOf(file: string): string | undefined {
  const parts = path.relative(SRC, file).split(path.sep);
  return parts.length > 1 && parts[0] !== 'generated' ? parts[0] : undefined;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? walk(p) : d.name.endsWith('.ts') ? [p] : [];
  });
}

for (const file of walk(SRC)) {
  const from = folderOf(file);
  if (!from) continue;
  for (const m of fs.readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
    const to = folderOf(path.resolve(path.dirname(file), m[1] ?? ''));
    if (to && to !== from) graph.set(from, (graph.get(from) ?? new Set()).add(to));
  }
}

/** A path from `a` back to `target`, if there is one. */
function pathTo(a: string, target: string, seen = new Set<string>()): string[] | undefined {
  for (const next of graph.get(a) ?? []) {
    if (next === target) return [a, next];
    if (seen.has(next)) continue;
    seen.add(next);
    const rest = pathTo(next, target, seen);
    if (rest) return [a, ...rest];
  }
  return undefined;
}

const cycles = new Set<string>();
for (const folder of graph.keys()) {
  const cycle = pathTo(folder, folder);
  if (cycle) cycles.add(cycle.join(' → '));
}
if (cycles.size) {
  console.error(`folder-level import cycles under src/:\n${[...cycles].join('\n')}`);
  process.exit(1);
}
console.log(`folder imports: no cycles among ${graph.size} folders`);
