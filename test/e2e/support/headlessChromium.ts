import { describeSkippedBecause } from '../../support/services';
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's `chromium` package; HERALD_CHROMIUM points elsewhere. */
export const CHROMIUM_PATH = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';

/** Under HERALD_REQUIRE_BROWSER=1 (CI) a missing browser fails the suite instead of skipping it. */
export const browserRequired = process.env.HERALD_REQUIRE_BROWSER === '1';

/** Why browser suites cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  return fs.existsSync(CHROMIUM_PATH)
    ? undefined
    : `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set HERALD_CHROMIUM)`;
}

/** `describe`, or a skipped one whose name says why, unless the browser is required. */
export function describeWithBrowser(name: string, fn: () => void): void {
  const missing = browserMissing();
  if (missing && !browserRequired) {
    // Jest does not list the tests of a wholly skipped file, so say it where CI logs show it.
    process.stderr.write(`skipping "${name}": ${missing}; HERALD_REQUIRE_BROWSER=1 makes this fail\n`);
    describeSkippedBecause(missing, name, fn);
  } else describe(name, fn);
}

export async function launchChromium(): Promise<Browser> {
  const missing = browserMissing();
  if (missing) throw new Error(`HERALD_REQUIRE_BROWSER=1 but ${missing}`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
