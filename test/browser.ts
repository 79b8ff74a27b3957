/**
 * Debian's Chromium, driven through playwright-core, for the tests that load a page the way a
 * person would. Found on PATH; under CI=true a missing browser fails the suite instead of
 * skipping it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

const BROWSERS = ['chromium', 'chromium-browser', 'google-chrome'];
export const CHROMIUM = findOnPath(BROWSERS);
const IN_CI = process.env.CI === 'true';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The `skip` option of a suite that needs the browser. */
export const SKIP_WITHOUT_BROWSER = !CHROMIUM && !IN_CI && `none of ${BROWSERS.join(', ')} is on PATH`;

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A fresh browser profile, removed again on close. */
export async function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM) throw new Error(`CI=true, but none of ${BROWSERS.join(', ')} is on PATH`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

function findOnPath(names: string[]): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of names) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return file;
      } catch {}
    }
  }
  return undefined;
}
