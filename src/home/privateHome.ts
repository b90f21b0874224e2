import fs from 'node:fs';

/**
 * HERALD_HOME holds the generated admin token and keys, the embedded database and the mail outbox: only
 * its owner may enter it (0700), whatever modes the files inside get (PGlite writes its own 0666).
 */
export function ensurePrivateHome(homeDir: string): void {
  fs.mkdirSync(homeDir, { recursive: true, mode: 0o700 });
  if ((fs.statSync(homeDir).mode & 0o077) !== 0) fs.chmodSync(homeDir, 0o700);
}
