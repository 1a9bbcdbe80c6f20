import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
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

/** axe-core's browser build, injected into pages by `seriousAxeViolations`. */
const AXE_SCRIPT = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

// Runs in the page (a string: the test is compiled without the DOM library, and a function would carry the
// transpiler's helpers along). Only what a report needs crosses back: rule, impact, help and target selectors.
const AXE_RUN = `axe.run(document, { resultTypes: ['violations'] }).then((results) =>
  results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => [].concat(n.target).map(String).join(' ')),
    })),
)`;

interface AxeViolation {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly targets: string[];
}

/**
 * Runs axe-core on the page as it stands and returns its serious and critical violations, one readable line
 * each (rule id, impact, what it asks, target selectors). The page's context must be made with
 * `bypassCSP: true`: axe is injected as an inline script, which the dashboard's CSP refuses.
 */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE_SCRIPT });
  const found = (await page.evaluate(AXE_RUN)) as AxeViolation[];
  return found.map((v) => `${v.id} [${v.impact}] ${v.help}: ${v.targets.join(' | ')}`);
}
