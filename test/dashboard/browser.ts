import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO } from '../support/process.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO, 'test-results', 'dashboard');

/** Why browser tests cannot run here, or undefined. Under CI a missing Chromium is a failure, not a skip. */
export function chromiumUnavailable(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `Debian Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium (scripts/test-setup.sh does it as root)`;
  if (process.env['CI'] === 'true') throw new Error(why);
  return why;
}

/** Builds dist/web when it is missing or older than web/ (the same script `npm start` runs first). */
export function ensureBundle(): void {
  const result = spawnSync(process.execPath, [join(REPO, 'scripts', 'build-web.mjs')], {
    cwd: REPO,
    encoding: 'utf8',
  });
  if (result.status !== 0)
    throw new Error(`building the dashboard failed:\n${result.stdout}\n${result.stderr}`);
}

/** Debian's Chromium, headless, without any of the background traffic this closed network refuses. */
export async function launchChromium(): Promise<Browser> {
  // playwright-core gives each launch a fresh temporary profile (it refuses --user-data-dir in args).
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

export const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 900 },
} as const;

/** Console lines that report a Content-Security-Policy violation, collected per page. */
export function watchConsole(page: Page, into: string[]): void {
  page.on('console', (message) => {
    const text = message.text();
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(text)) into.push(text);
  });
  page.on('pageerror', (error) => into.push(`page error: ${error.message}`));
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Signs in through the sign-in page with an API token, as a person would. */
export async function signIn(context: BrowserContext, baseUrl: string, token: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${baseUrl}/incidents`);
  await page.waitForURL(/\/signin/);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/incidents/);
  return page;
}
