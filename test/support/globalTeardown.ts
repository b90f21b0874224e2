import fs from 'node:fs';
import { PGLITE_SNAPSHOT_ENV } from './testDatabase';

/** Removes globalSetup's PGlite snapshot. */
export default function globalTeardown(): void {
  const snapshot = process.env[PGLITE_SNAPSHOT_ENV];
  if (snapshot) fs.rmSync(snapshot, { force: true });
}
