/**
 * Fails when a channel's name appears in a source file under src/ outside its own folder
 * (src/senders/<name>/) and the registry: everything channel-specific elsewhere must come from the
 * channel's module through the registry. The names are the registered channels' plus every channel
 * folder under src/senders/ (a channel being built, not yet registered, is checked too). Comments are
 * prose and not checked; code is split into words (camelCase, snake_case) and a name matches as whole
 * words, so `mail` matches `'mail'` and `HERALD_CONCURRENCY_MAIL` but not `email`.
 *
 * A name of two letters or fewer (`im`) is matched only as a whole string literal (`'im'`): as a word it
 * also prefixes the identifiers of the in-site messaging platform the IM channel writes into (the
 * inbox's ImBus, the herald.im exchange), which are not channel switches.
 */
import fs from 'node:fs';
import path from 'node:path';
import { channels } from '../src/senders/registry';

const ROOT = path.join(__dirname, '..');
const SRC = path.join(ROOT, 'src');
const SENDERS = path.join(SRC, 'senders');
const SKIP = [path.join(SRC, 'generated'), path.join(SENDERS, 'registry.ts')];

const folders = fs
  .readdirSync(SENDERS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const registered = channels.map((c) => c.name);
for (const name of registered)
  if (!folders.includes(name))
    fail([`channel "${name}" is registered but src/senders/${name}/ does not exist`]);
/** Channels being added on other branches, checked before their folders land here. */
const ANNOUNCED = ['feishu', 'wecom', 'dingtalk_work'];
const names = [...new Set([...registered, ...folders, ...ANNOUNCED])];

/** Lower-case words of the code: identifiers and string contents split at case changes, _ and -. */
function words(code: string): string[] {
  return code
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

function stripComments(source: string): string {
  // Good enough for our sources: no comment markers inside string literals here, and the check errs
  // towards flagging, never towards missing a name.
  return source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:'"`])\/\/[^\n]*/g, '$1');
}

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (SKIP.includes(p)) return [];
    if (d.isDirectory()) return files(p);
    return /\.(ts|js)$/.test(d.name) ? [p] : [];
  });
}

const problems: string[] = [];
for (const file of files(SRC)) {
  const own = path.relative(SENDERS, file).split(path.sep)[0];
  const lines = stripComments(fs.readFileSync(file, 'utf8')).split('\n');
  lines.forEach((line, i) => {
    const w = words(line);
    for (const name of names) {
      const nw = words(name);
      // A channel's own folder may name it, and a channel whose name extends another's
      // (dingtalk_work) may name the vendor it shares.
      if (own !== undefined && nw.every((x, j) => words(own)[j] === x)) continue;
      const found =
        name.length <= 2
          ? new RegExp(`['"\`]${name}['"\`]`).test(line)
          : w.some((_, k) => nw.every((x, j) => w[k + j] === x));
      if (found)
        problems.push(
          `${path.relative(ROOT, file)}:${i + 1}: channel "${name}" outside src/senders/${name}/`,
        );
    }
  });
}
if (problems.length) fail(problems);
console.log(`channel names: ${names.join(', ')} appear only in their own folders and the registry`);

function fail(lines: string[]): never {
  console.error(
    `${lines.join('\n')}\n\nChannel-specific code belongs in the channel's folder, reached through src/senders/registry.ts.`,
  );
  process.exit(1);
}
