import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Dialog, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runbookRule } from '../../src/bus/config.ts';
import { eventually, HttpReceiver } from '../support/http-receiver.ts';
import { KubeApiDouble, seedDeployment, writeKubeconfig } from '../support/k8s-api/index.ts';
import { makeTestApp, tempDir, webhook, type TestApp } from '../support/app.ts';
import {
  chromiumUnavailable,
  ensureBundle,
  launchChromium,
  screenshot,
  seriousAxeViolations,
  signIn,
  VIEWPORTS,
  watchConsole,
} from './browser.ts';

// The dashboard against a real Rebound (SQLite, bus, engine) with data made through its API, driven by
// Debian's Chromium. Tests run in order and share the server: each builds on what the previous made.

const OPERATOR = 'operator-token-0123456789abcdef';
const VIEWER = 'viewer-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef00';

const APPROVAL_RUNBOOK = {
  StartAt: 'Ask',
  States: {
    Ask: {
      Type: 'Task',
      Resource: 'rebound:approval.request.waitForTaskToken',
      Parameters: {
        'taskToken.$': '$$.Task.Token',
        'incidentId.$': '$.incidentId',
        runbook: 'dashboard-test',
        summary: 'Restart checkout in shop?',
        timeoutSeconds: 900,
        default: 'escalate',
      },
      ResultPath: '$.approval',
      Next: 'Act',
    },
    Act: { Type: 'Pass', End: true },
  },
};
const FAILING_RUNBOOK = {
  StartAt: 'Check',
  States: {
    Check: { Type: 'Pass', Next: 'Boom' },
    Boom: { Type: 'Fail', Error: 'Test.Failure', Cause: 'fails on purpose' },
  },
};
// A Parallel and a Map, whose nested states the graph draws inside them. The Map takes one pod at a time, so
// every run ends the same way: cart-1 is healthy, cart-2 fails its iteration (the Map's Catch handles it) and
// cart-3 never runs.
const NESTED_RUNBOOK = {
  StartAt: 'Gather',
  States: {
    Gather: {
      Type: 'Parallel',
      Branches: [
        { StartAt: 'ReadLogs', States: { ReadLogs: { Type: 'Pass', End: true } } },
        {
          StartAt: 'ReadMetrics',
          States: {
            ReadMetrics: { Type: 'Pass', Result: { healthy: true }, Next: 'Healthy?' },
            'Healthy?': {
              Type: 'Choice',
              Choices: [{ Variable: '$.healthy', BooleanEquals: true, Next: 'Fine' }],
              Default: 'Degraded',
            },
            Fine: { Type: 'Succeed' },
            Degraded: { Type: 'Pass', End: true },
          },
        },
      ],
      ResultPath: '$.gathered',
      Next: 'EachPod',
    },
    EachPod: {
      Type: 'Map',
      ItemsPath: '$.pods',
      MaxConcurrency: 1,
      ItemProcessor: {
        StartAt: 'Probe',
        States: {
          Probe: { Type: 'Pass', Next: 'Broken?' },
          'Broken?': {
            Type: 'Choice',
            Choices: [{ Variable: '$', StringEquals: 'cart-2', Next: 'GiveUp' }],
            Default: 'Healthy',
          },
          Healthy: { Type: 'Succeed' },
          GiveUp: { Type: 'Fail', Error: 'Pod.Unreachable', Cause: 'cart-2 does not answer' },
        },
      },
      ResultPath: '$.probed',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Report' }],
      Next: 'Report',
    },
    Report: { Type: 'Pass', End: true },
  },
};
const WAITING_RUNBOOK = {
  StartAt: 'Hold',
  States: { Hold: { Type: 'Wait', Seconds: 3600, Next: 'Done' }, Done: { Type: 'Succeed' } },
};

// Runbooks that incident routing (incidents.runbooks) starts through the shipped rule shape (runbookRule), so
// their guard-rail verdicts and shadow requests reach the incident timeline the way they do in production.
const RESTART = {
  Type: 'Task',
  Resource: 'rebound:k8s.restart',
  Parameters: { cluster: 'prod', 'namespace.$': '$.labels.namespace', 'name.$': '$.labels.service' },
  ResultPath: '$.restart',
};
const ROUTED_RUNBOOKS = {
  // In guard.shadow.runbooks: the restart is only recorded; then it holds, so it is seen running.
  'shadow-restart': {
    StartAt: 'Restart',
    States: { Restart: { ...RESTART, Next: 'Hold' }, Hold: { Type: 'Wait', Seconds: 3600, End: true } },
  },
  // Acts for real: the rails judge it, and a failed restart counts against the namespace's breaker.
  restart: { StartAt: 'Restart', States: { Restart: { ...RESTART, End: true } } },
  'dashboard-test': APPROVAL_RUNBOOK,
};
const ROUTES = [
  { runbook: 'shadow-restart', match: { alertname: ['CartPodsCrashLooping'] } },
  { runbook: 'restart', match: { alertname: ['LedgerDeployStuck', 'InventoryDeployStuck'] } },
  { runbook: 'dashboard-test', match: { alertname: ['SearchIndexStale'] } },
];
// Where incident pages link alerts that name no generator URL; nothing calls it.
const PROMETHEUS_UI = 'http://127.0.0.1:9091/prom/';

const skip = chromiumUnavailable();
if (skip) console.warn(`skipping dashboard browser tests: ${skip}`);

describe.skipIf(skip !== undefined)('dashboard in Chromium', { timeout: 60_000 }, () => {
  let t: TestApp;
  let url: string;
  let browser: Browser;
  let operator: BrowserContext;
  let page: Page;
  const receiver = new HttpReceiver();
  const kube = new KubeApiDouble();
  const violations: string[] = [];

  const call = async (method: string, path: string, body?: unknown, token = OPERATOR) => {
    const res = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  };
  /** A critical alert of `service` in shop/prod, with other labels (or no generator URL) when given. */
  const postAlert = (
    alertname: string,
    service: string,
    extra: { labels?: Record<string, string>; generatorURL?: string } = {},
  ) => {
    const payload = webhook([
      {
        labels: {
          alertname,
          service,
          namespace: 'shop',
          cluster: 'prod',
          severity: 'critical',
          ...extra.labels,
        },
      },
    ]);
    if (extra.generatorURL !== undefined)
      for (const alert of payload['alerts'] as Record<string, unknown>[])
        alert['generatorURL'] = extra.generatorURL;
    return call('POST', '/v1/webhooks/alertmanager', payload);
  };
  const incidentByTitle = async (alertname: string) => {
    const list = await call('GET', '/v1/incidents?limit=100');
    return (list.body['items'] as { id: string; title: string; status: string }[]).find((i) =>
      i.title.includes(alertname),
    );
  };
  const waitForIncident = async (alertname: string) => {
    await eventually(async () => (await incidentByTitle(alertname)) !== undefined);
    return (await incidentByTitle(alertname))!;
  };
  const deadLetters = async () =>
    (await call('GET', '/v1/dlq')).body['items'] as { id: number; eventId: string }[];
  /** Starts the approval runbook for an incident and waits until the Approvals page (open in `page`) shows it. */
  const askForApproval = async (name: string) => {
    const incident = (await incidentByTitle('PaymentsLatencyHigh'))!;
    const started = await call(
      'POST',
      '/v1/executions',
      {
        definition: APPROVAL_RUNBOOK,
        input: { incidentId: incident.id },
        name,
      },
      ADMIN, // a definition of one's own needs admin
    );
    expect(started.status).toBe(201);
    // Pending cards only: the decided list below repeats the summaries of earlier approvals.
    await page
      .locator('[data-approval]', { hasText: 'Restart checkout in shop?' })
      .waitFor({ timeout: 10_000 });
    return started.body['executionId'] as string;
  };
  /** The output an execution finished with, once it has succeeded. */
  const outputOf = async (executionId: string) => {
    await eventually(
      async () => (await call('GET', `/v1/executions/${executionId}`)).body['status'] === 'SUCCEEDED',
    );
    return (await call('GET', `/v1/executions/${executionId}`)).body['output'];
  };
  const newPage = async (context: BrowserContext) => {
    const p = await context.newPage();
    watchConsole(p, violations);
    return p;
  };
  /**
   * A context of its own at a viewport width and in a colour scheme, sharing the operator's session unless
   * `signedOut`. Only the accessibility test asks for `bypassCSP` (see there why).
   */
  const viewContext = async (
    viewport: keyof typeof VIEWPORTS,
    scheme: 'light' | 'dark',
    options: { signedOut?: boolean; bypassCSP?: boolean } = {},
  ) => {
    const context = await browser.newContext({
      viewport: VIEWPORTS[viewport],
      colorScheme: scheme,
      bypassCSP: options.bypassCSP ?? false,
    });
    context.on('page', (p) => watchConsole(p, violations));
    if (!options.signedOut) await context.addCookies(await operator.cookies());
    return context;
  };
  /** A second person, signed in through the sign-in page in a context of their own. */
  const signedIn = async (token: string) => {
    const context = await viewContext('desktop', 'light', { signedOut: true });
    return { context, page: await signIn(context, url, token) };
  };
  /** Opens a dashboard path and waits until its page has drawn what it loaded. */
  const openPage = async (p: Page, path: string) => {
    await p.goto(url + path);
    await p.getByRole('heading', { level: 1 }).first().waitFor();
    await expect.poll(() => p.getByText('Loading…').count()).toBe(0);
  };
  /**
   * Every page behind the sign-in, with data the tests before made: `ready` brings it to the state worth
   * looking at (a graph state selected, so its details show too).
   */
  const everyPage = async () => {
    const incident = (await incidentByTitle('CheckoutErrorBudgetBurn'))!;
    const executions = (await call('GET', '/v1/executions?limit=100')).body['items'] as {
      executionId: string;
      name: string;
    }[];
    const execution = (name: string) => executions.find((e) => e.name === name)!.executionId;
    const select = (state: string) => async (p: Page) => {
      await p.locator(`[data-state="${state}"]`).first().click();
      await p.locator('[data-selected-state]').waitFor();
    };
    return [
      { name: 'incidents', path: '/incidents?status=' },
      { name: 'incident-detail', path: `/incidents/${incident.id}` },
      { name: 'executions', path: '/executions' },
      {
        name: 'execution-detail',
        path: `/executions/${execution('approve-from-dashboard')}`,
        ready: select('Ask'),
      },
      {
        name: 'execution-nested',
        path: `/executions/${execution('nested-states')}`,
        ready: select('EachPod'),
      },
      { name: 'approvals', path: '/approvals' },
      { name: 'events', path: '/events' },
      { name: 'operations', path: '/operations' },
      { name: 'analytics', path: '/analytics' },
    ] as { name: string; path: string; ready?: (p: Page) => Promise<void> }[];
  };

  beforeAll(async () => {
    ensureBundle();
    await receiver.start();
    receiver.defaultStatus = 500;
    await kube.start();
    seedDeployment(kube, { namespace: 'shop', name: 'cart' });
    const dir = tempDir('rebound-dashboard-').path; // the app's data dir, removed by t.close()
    const runbooksDir = join(dir, 'runbooks');
    mkdirSync(runbooksDir);
    for (const [name, definition] of Object.entries(ROUTED_RUNBOOKS))
      writeFileSync(join(runbooksDir, `${name}.asl.json`), JSON.stringify(definition));
    const kubeconfig = await writeKubeconfig(dir, kube.url);
    t = await makeTestApp(
      {
        kubernetes: { clusters: { prod: { kubeconfig } }, preflightDryRun: false },
        // Live in shop (one failure opens its breaker), shadow for one runbook, refused elsewhere.
        guard: {
          allowlist: { namespaces: ['shop'] },
          shadow: { runbooks: ['shadow-restart'] },
          breaker: { minOutcomes: 1 },
        },
        workflows: { runbooksDir },
        incidents: { runbooks: { routes: ROUTES } },
        verify: { prometheus: { url: PROMETHEUS_UI } },
        server: {
          auth: {
            apiTokens: [
              { name: 'olivia', role: 'operator', token: OPERATOR },
              { name: 'victor', role: 'viewer', token: VIEWER },
              { name: 'ada', role: 'admin', token: ADMIN },
            ],
          },
        },
        bus: {
          rules: [
            {
              name: 'alerts-to-incidents',
              pattern: { source: ['rebound.alertmanager'] },
              targets: [{ kind: 'incidents', id: 'incidents' }],
            },
            {
              name: 'audit-hook',
              description: 'Posts deploy events to an audit webhook (fails until the receiver is fixed).',
              pattern: { source: ['test.deploys'] },
              targets: [
                {
                  kind: 'webhook',
                  id: 'audit',
                  url: receiver.url,
                  retry: { maximumRetryAttempts: 0 },
                  timeoutMs: 1000,
                },
              ],
            },
            ...Object.keys(ROUTED_RUNBOOKS).map(runbookRule),
          ],
        },
      },
      undefined,
      dir,
    );
    url = `http://127.0.0.1:${(t.app.http.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    operator = await browser.newContext({ viewport: VIEWPORTS.desktop });
    operator.on('page', (p) => watchConsole(p, violations));
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await receiver.stop();
    await kube.stop();
  });

  it('serves the page with a strict CSP and no inline script', async () => {
    const res = await fetch(`${url}/incidents`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
  });

  it('signs in with an API token into an httpOnly SameSite=Strict session', async () => {
    const signin = await newPage(operator);
    await signin.goto(`${url}/incidents`);
    await signin.waitForURL(/\/signin/);
    await screenshot(signin, 'signin-desktop');
    await signin.getByLabel('API token').fill('not-a-valid-token-at-all');
    await signin.getByRole('button', { name: 'Sign in' }).click();
    await signin.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
    await signin.getByLabel('API token').fill(OPERATOR);
    await signin.getByRole('button', { name: 'Sign in' }).click();
    await signin.waitForURL(/\/incidents/);
    const cookie = (await operator.cookies()).find((c) => c.name === 'rebound_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.value).not.toContain(OPERATOR);
    await signin.getByText('olivia · operator').waitFor();
    page = signin;
  });

  it('shows a new incident live, without a reload', async () => {
    await page.getByText('Live', { exact: true }).waitFor();
    await page.getByText('No incidents match.').waitFor();
    expect((await postAlert('CheckoutErrorBudgetBurn', 'checkout')).status).toBe(200);
    await page.getByRole('link', { name: /CheckoutErrorBudgetBurn/ }).waitFor({ timeout: 10_000 });
    await postAlert('PaymentsLatencyHigh', 'payments');
    await page.getByRole('link', { name: /PaymentsLatencyHigh/ }).waitFor({ timeout: 10_000 });
    await page.getByLabel('Search').fill('payments');
    await expect.poll(() => page.getByRole('link', { name: /CheckoutErrorBudgetBurn/ }).count()).toBe(0);
    await page.getByLabel('Search').fill('');
    await screenshot(page, 'incidents-desktop');
  });

  it('acknowledges and resolves an incident from its page', async () => {
    await page.getByRole('link', { name: /CheckoutErrorBudgetBurn/ }).click();
    await page.getByRole('heading', { name: /CheckoutErrorBudgetBurn/ }).waitFor();
    await page
      .getByRole('table', { name: 'Correlated alerts' })
      .getByText('CheckoutErrorBudgetBurn', { exact: true })
      .waitFor();
    await page.getByRole('link', { name: 'Prometheus' }).first().waitFor();
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByText('Acknowledged by user:olivia').waitFor();
    const incident = await incidentByTitle('CheckoutErrorBudgetBurn');
    expect(incident?.status).toBe('acknowledged');
    await screenshot(page, 'incident-detail-desktop');
    await page.getByRole('button', { name: 'Resolve' }).click();
    await page.getByText('Resolved by user:olivia').waitFor();
    expect((await incidentByTitle('CheckoutErrorBudgetBurn'))?.status).toBe('resolved');
    expect(await page.getByRole('button', { name: 'Resolve' }).isDisabled()).toBe(true);
  });

  it('enforces roles: a viewer sees disabled buttons and the API refuses with 403', async () => {
    const { context: viewer, page: v } = await signedIn(VIEWER);
    const incident = (await incidentByTitle('PaymentsLatencyHigh'))!;
    await v.goto(`${url}/incidents/${incident.id}`);
    const ack = v.getByRole('button', { name: 'Acknowledge' });
    await ack.waitFor();
    expect(await ack.isDisabled()).toBe(true);
    expect(await ack.getAttribute('title')).toBe('needs the operator role');
    // The same call the button would make, with the viewer's session and its CSRF token: refused by the API.
    const answer = await v.evaluate(async (id) => {
      const session = (await (await fetch('/v1/session')).json()) as { csrfToken: string };
      const withCsrf = await fetch(`/v1/incidents/${id}/acknowledge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
        body: '{}',
      });
      return { status: withCsrf.status, body: (await withCsrf.json()) as { code: string } };
    }, incident.id);
    expect(answer).toEqual({ status: 403, body: expect.objectContaining({ code: 'FORBIDDEN' }) });
    expect((await incidentByTitle('PaymentsLatencyHigh'))?.status).toBe('open');
    await viewer.close();
  });

  it('requires the CSRF token on writes made with the session cookie', async () => {
    const incident = (await incidentByTitle('PaymentsLatencyHigh'))!;
    const statuses = await page.evaluate(async (id) => {
      const bare = await fetch(`/v1/incidents/${id}/acknowledge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      const wrong = await fetch(`/v1/incidents/${id}/acknowledge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': 'guessed' },
        body: '{}',
      });
      return [bare.status, wrong.status];
    }, incident.id);
    expect(statuses).toEqual([403, 403]);
    expect((await incidentByTitle('PaymentsLatencyHigh'))?.status).toBe('open');
  });

  it('approves from the Approvals page, and the execution resumes', async () => {
    await page.goto(`${url}/approvals`);
    await page.getByText('Nothing is waiting for a human.').waitFor();
    const executionId = await askForApproval('approve-from-dashboard');
    await screenshot(page, 'approvals-desktop');
    await page.getByRole('button', { name: 'Remediate now' }).click();
    await page.getByText('Nothing is waiting for a human.').waitFor();
    expect(await outputOf(executionId)).toMatchObject({
      approval: { decision: 'remediate', via: 'dashboard' },
    });
  });

  it('skips from the Approvals page, and the execution resumes with the skip', async () => {
    const executionId = await askForApproval('skip-from-dashboard');
    await page.getByRole('button', { name: 'Skip' }).click();
    await page.getByText('Nothing is waiting for a human.').waitFor();
    expect(await outputOf(executionId)).toMatchObject({
      approval: { decision: 'skip', decidedBy: 'user:olivia', via: 'dashboard' },
    });
    await page.getByRole('listitem').filter({ hasText: 'by user:olivia via dashboard' }).first().waitFor();
  });

  it('snoozes for 10 minutes from the Approvals page, and the execution resumes with the snooze', async () => {
    const executionId = await askForApproval('snooze-from-dashboard');
    await page.getByRole('button', { name: 'Snooze 10 min' }).click();
    await page.getByText('Nothing is waiting for a human.').waitFor();
    expect(await outputOf(executionId)).toMatchObject({
      approval: { decision: 'snooze', snoozeSeconds: 600, via: 'dashboard' },
    });
  });

  it('draws an execution as a graph, coloured by outcome, with state details on click', async () => {
    await page.goto(`${url}/executions`);
    await page.getByRole('link', { name: 'approve-from-dashboard' }).click();
    const ask = page.locator('[data-state="Ask"]');
    await ask.waitFor();
    expect(await ask.getAttribute('data-outcome')).toBe('succeeded');
    expect(await page.locator('[data-state="Act"]').getAttribute('data-outcome')).toBe('succeeded');
    await ask.click();
    await page.locator('[data-selected-state="Ask"]').getByText('TaskSucceeded').waitFor();
    await page.locator('[data-selected-state="Ask"]').getByText('"decision": "remediate"').waitFor();
    await screenshot(page, 'execution-detail-desktop');
  });

  it('draws the states inside a Parallel and a Map as nested groups, coloured by outcome and clickable', async () => {
    const started = await call(
      'POST',
      '/v1/executions',
      {
        definition: NESTED_RUNBOOK,
        input: { pods: ['cart-1', 'cart-2', 'cart-3'] },
        name: 'nested-states',
      },
      ADMIN,
    );
    expect(started.status).toBe(201);
    const id = started.body['executionId'] as string;
    expect(await outputOf(id)).toMatchObject({ error: { Error: 'Pod.Unreachable' } });
    await page.goto(`${url}/executions/${id}`);
    const group = (name: string) => page.getByRole('group', { name, exact: true });
    const state = (name: string, inGroup?: string) =>
      (inGroup ? group(inGroup) : page).locator(`[data-state="${name}"]`);
    const outcomes = {
      Gather: 'succeeded',
      EachPod: 'caught', // its failed iteration was handled by its Catch
      Report: 'succeeded',
    };
    const nested: [string, string, string][] = [
      ['Gather › branch 1', 'ReadLogs', 'succeeded'],
      ['Gather › branch 2', 'ReadMetrics', 'succeeded'],
      ['Gather › branch 2', 'Healthy?', 'succeeded'],
      ['Gather › branch 2', 'Fine', 'succeeded'],
      ['Gather › branch 2', 'Degraded', 'not-run'],
      ['EachPod › each item', 'Probe', 'succeeded'], // cart-1 and cart-2: one node, not one per iteration
      ['EachPod › each item', 'Broken?', 'succeeded'],
      ['EachPod › each item', 'Healthy', 'succeeded'],
      ['EachPod › each item', 'GiveUp', 'failed'],
    ];
    await state('Report').waitFor();
    for (const [name, outcome] of Object.entries(outcomes))
      expect(await state(name).getAttribute('data-outcome'), name).toBe(outcome);
    for (const [inGroup, name, outcome] of nested) {
      expect(await state(name, inGroup).count(), `${name} in ${inGroup}`).toBe(1);
      expect(await state(name, inGroup).getAttribute('data-outcome'), name).toBe(outcome);
    }
    expect(await page.locator('[data-state]').count()).toBe(3 + nested.length);
    // Drawn inside the frame of their Parallel or Map, and filled with their outcome's colour.
    const box = async (selector: string) => (await page.locator(selector).boundingBox())!;
    const frame = await box('[data-frame="EachPod"]');
    for (const name of ['Probe', 'GiveUp']) {
      const b = await box(`[data-path="EachPod/items/${name}"]`);
      expect(b.x >= frame.x && b.y >= frame.y, name).toBe(true);
      expect(b.x + b.width <= frame.x + frame.width && b.y + b.height <= frame.y + frame.height, name).toBe(
        true,
      );
    }
    const fill = (path: string) =>
      page.evaluate(
        `getComputedStyle(document.querySelector('[data-path="${path}"] rect')).fill`,
      ) as Promise<string>;
    const succeeded = await fill('EachPod/items/Probe');
    expect(
      new Set([succeeded, await fill('EachPod/items/GiveUp'), await fill('Gather/1/Degraded')]).size,
    ).toBe(3);
    expect(await fill('Gather/0/ReadLogs')).toBe(succeeded);

    await state('GiveUp').click();
    const detail = page.locator('[data-selected-state="EachPod/items/GiveUp"]');
    await detail.getByText('Pod.Unreachable: cart-2 does not answer').waitFor();
    await detail.getByText('FailStateEntered').waitFor();
    await page.getByRole('heading', { name: 'State: EachPod › each item › GiveUp' }).waitFor();
    await state('Probe').focus(); // a state is a button of its own: reachable and pressed by keyboard
    expect(await page.evaluate('document.activeElement.dataset.path')).toBe('EachPod/items/Probe');
    await page.keyboard.press('Enter');
    await page
      .locator('[data-selected-state="EachPod/items/Probe"]')
      .getByText(/ran 2 times: 2 succeeded/)
      .waitFor();
    await state('EachPod').click();
    await page.locator('[data-selected-state="EachPod"]').getByText('MapIterationFailed').waitFor();
    await screenshot(page, 'execution-nested-desktop');
  });

  it('stops a running execution and redrives a failed one', async () => {
    const waiting = await call(
      'POST',
      '/v1/executions',
      {
        definition: WAITING_RUNBOOK,
        name: 'waits-an-hour',
      },
      ADMIN,
    );
    await page.goto(`${url}/executions/${waiting.body['executionId'] as string}`);
    await page.locator('[data-state="Hold"][data-outcome="running"]').waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('[data-state="Hold"][data-outcome="aborted"]').waitFor();
    expect(
      (await call('GET', `/v1/executions/${waiting.body['executionId'] as string}`)).body['status'],
    ).toBe('ABORTED');

    const failing = await call(
      'POST',
      '/v1/executions',
      {
        definition: FAILING_RUNBOOK,
        name: 'fails-on-purpose',
      },
      ADMIN,
    );
    const id = failing.body['executionId'] as string;
    await eventually(async () => (await call('GET', `/v1/executions/${id}`)).body['status'] === 'FAILED');
    await page.goto(`${url}/executions/${id}`);
    await page.locator('[data-state="Boom"][data-outcome="failed"]').waitFor();
    await page.locator('[data-state="Check"][data-outcome="succeeded"]').click();
    await page.locator('[data-selected-state="Check"]').getByText('PassStateExited').waitFor();
    await page.getByRole('button', { name: 'Redrive' }).click();
    await page.getByText('redriven 1×').waitFor();
    expect((await call('GET', `/v1/executions/${id}`)).body['redriveCount']).toBe(1);
  });

  it('redrives the DLQ from Operations until it is empty', async () => {
    const put = await call('POST', '/v1/events', {
      Entries: [1, 2, 3].map((n) => ({
        Source: 'test.deploys',
        DetailType: 'Deployed',
        Detail: JSON.stringify({ n }),
      })),
    });
    expect(put.body['FailedEntryCount']).toBe(0);
    await eventually(async () => (await deadLetters()).length === 3);
    await page.goto(`${url}/operations`);
    await page.getByRole('heading', { name: 'Dead-letter queue (3)' }).waitFor();
    await page.getByRole('table', { name: 'Rules and targets' }).getByText('audit-hook/audit').waitFor();
    await page.getByText('Counters since the server started').waitFor();
    await screenshot(page, 'operations-desktop');
    receiver.defaultStatus = 200; // the audit service is fixed
    await page.getByRole('button', { name: 'Redrive all' }).click();
    await page.getByText('Empty: every delivery went through.').waitFor({ timeout: 15_000 });
    await eventually(() => receiver.received.filter((r) => r.method === 'POST').length >= 6);
    expect(await deadLetters()).toEqual([]);
  });

  it('redrives one dead letter from its row, leaving the others, and deletes one after asking', async () => {
    receiver.defaultStatus = 500; // the audit service breaks again
    const put = await call('POST', '/v1/events', {
      Entries: [4, 5].map((n) => ({
        Source: 'test.deploys',
        DetailType: 'Deployed',
        Detail: JSON.stringify({ n }),
      })),
    });
    expect(put.body['FailedEntryCount']).toBe(0);
    await eventually(async () => (await deadLetters()).length === 2);
    const [first, second] = await deadLetters();
    const posts = (eventId: string) =>
      receiver.received.filter((r) => r.headers['x-rebound-event-id'] === eventId).length;
    await page.goto(`${url}/operations`);
    await page.getByRole('heading', { name: 'Dead-letter queue (2)' }).waitFor();
    receiver.defaultStatus = 200;
    await page.locator(`[data-dead-letter="${first!.id}"]`).getByRole('button', { name: 'Redrive' }).click();
    await page.getByRole('heading', { name: 'Dead-letter queue (1)' }).waitFor({ timeout: 15_000 });
    await eventually(() => posts(first!.eventId) === 2); // the failed attempt, then the redriven one
    expect(posts(second!.eventId)).toBe(1);
    expect((await deadLetters()).map((d) => d.id)).toEqual([second!.id]);
    // Deleting asks first: cancelled, nothing happens; confirmed, the dead letter goes undelivered.
    const row = page.locator(`[data-dead-letter="${second!.id}"]`);
    const questions: string[] = [];
    let answer = false;
    const onDialog = (dialog: Dialog) => {
      questions.push(dialog.message());
      void (answer ? dialog.accept() : dialog.dismiss());
    };
    page.on('dialog', onDialog);
    await row.getByRole('button', { name: 'Delete' }).click();
    await eventually(() => questions.length === 1);
    expect(questions[0]).toMatch(/^Delete dead letter \d+ without delivering it to audit-hook\/audit\?/);
    expect((await deadLetters()).map((d) => d.id)).toEqual([second!.id]);
    answer = true;
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Empty: every delivery went through.').waitFor({ timeout: 15_000 });
    page.off('dialog', onDialog);
    expect(await deadLetters()).toEqual([]);
    expect(posts(second!.eventId)).toBe(1);
  });

  it('replays archived events with progress, and pauses and resumes automation', async () => {
    await page.getByRole('button', { name: 'Start replay' }).click();
    await page.locator('[data-replay-state="completed"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-replay-state="completed"]').textContent()).toMatch(
      /scanned [1-9]\d* of/,
    );

    await page.getByLabel('Reason for pausing').fill('change freeze');
    await page.getByRole('button', { name: 'Pause all automation' }).click();
    await page.getByText(/everything — change freeze/).waitFor();
    expect(((await call('GET', '/v1/automation')).body['pauses'] as unknown[]).length).toBe(1);
    // Pausing is an operator's call; resuming automation is an admin's.
    const resume = page.getByRole('button', { name: 'Resume' });
    expect(await resume.isDisabled()).toBe(true);
    expect(await resume.getAttribute('title')).toBe('needs the admin role');
    const { context: admin, page: a } = await signedIn(ADMIN);
    await a.goto(`${url}/operations`);
    await a.getByRole('button', { name: 'Resume' }).click();
    await a.getByText('None: automation runs.').waitFor();
    await admin.close();
    expect(((await call('GET', '/v1/automation')).body['pauses'] as unknown[]).length).toBe(0);
  });

  it('replays archived events for real: progress reaches done and the events are delivered again', async () => {
    await page.goto(`${url}/operations`);
    await page.getByLabel('Only rule (optional)').fill('audit-hook');
    await page.getByLabel('Dry run (count only)').uncheck();
    await page.getByRole('button', { name: 'Start replay' }).click();
    const done = page.locator('[data-replay-state="completed"]');
    await done.waitFor({ timeout: 15_000 });
    // The five deploy events archived by the DLQ tests, and nothing routed by the other rules.
    const text = (await done.textContent()) ?? '';
    expect(text).toMatch(/matched 5, 5 deliveries/);
    expect(await page.locator('#replay-progress').getAttribute('value')).toBe('1');
    const replayId = /Replay (\S+):/.exec(text)![1];
    const replayed = () =>
      receiver.received.filter(
        (r) =>
          r.method === 'POST' && (JSON.parse(r.body) as Record<string, unknown>)['replay-name'] === replayId,
      );
    await eventually(() => replayed().length === 5);
    expect(new Set(replayed().map((r) => r.headers['x-rebound-rule']))).toEqual(new Set(['audit-hook']));
  });

  it('shows analytics with the numbers the API computes', async () => {
    const report = await call('GET', '/v1/analytics');
    expect(report.body['overall']).toMatchObject({ incidents: 2, resolved: 1 });
    await page.goto(`${url}/analytics`);
    await page.locator('[data-stat="incidents"]').getByText('2').waitFor();
    await page.getByRole('list', { name: 'Incidents by service' }).getByText('checkout').waitFor();
    expect(await page.locator('.uplot canvas').count()).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'analytics-desktop');
  });

  it('filters the incidents list by severity and status', async () => {
    await postAlert('DiskSpaceLow', 'storage', { labels: { severity: 'warning' } });
    await page.goto(`${url}/incidents`);
    const row = (alertname: string) => page.getByRole('link', { name: new RegExp(alertname) });
    await row('DiskSpaceLow').waitFor({ timeout: 10_000 });
    await row('PaymentsLatencyHigh').waitFor();
    expect(await row('CheckoutErrorBudgetBurn').count()).toBe(0); // active ones only, by default
    await page.getByLabel('Severity', { exact: true }).selectOption('warning');
    await expect.poll(() => row('PaymentsLatencyHigh').count()).toBe(0);
    expect(await row('DiskSpaceLow').count()).toBe(1);
    await page.getByLabel('Severity', { exact: true }).selectOption('critical');
    await row('PaymentsLatencyHigh').waitFor();
    expect(await row('DiskSpaceLow').count()).toBe(0);
    await page.getByLabel('Status', { exact: true }).selectOption('resolved');
    await row('CheckoutErrorBudgetBurn').waitFor();
    expect(await row('PaymentsLatencyHigh').count()).toBe(0);
    await page.getByLabel('Status', { exact: true }).selectOption({ label: 'any' });
    await row('PaymentsLatencyHigh').waitFor();
    await row('CheckoutErrorBudgetBurn').waitFor();
    expect(await row('DiskSpaceLow').count()).toBe(0); // still critical only
    await page.getByLabel('Severity', { exact: true }).selectOption({ label: 'any' });
    await row('DiskSpaceLow').waitFor();
  });

  it('shows the event archive newest first, filters it by source and opens an envelope', async () => {
    const put = await call('POST', '/v1/events', {
      Entries: ['first', 'second'].map((step) => ({
        Source: 'test.archive',
        DetailType: 'Step Taken',
        Detail: JSON.stringify({ step }),
      })),
    });
    const [first, second] = (put.body['Entries'] as { EventId: string }[]).map((e) => e.EventId);
    await page.goto(`${url}/events`);
    const rows = page.getByRole('table', { name: 'Events' }).locator('tbody tr');
    await page.locator(`[data-event="${second!}"]`).waitFor();
    // Newest first: the second event is listed before the first.
    const order = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-event')));
    expect(order.indexOf(second!)).toBeLessThan(order.indexOf(first!));
    expect(order.indexOf(first!)).toBeGreaterThan(-1);
    await page.getByLabel('Source or detail type').fill('test.archive');
    await expect.poll(() => rows.count()).toBe(2);
    await page.getByLabel('Source or detail type').fill('no.such.source');
    await page.getByText(/None of the \d+ events loaded comes from a source/).waitFor();
    await page.getByLabel('Source or detail type').fill('step taken');
    await expect.poll(() => rows.count()).toBe(2);
    await page.locator(`[data-event="${first!}"] summary`).click();
    await page.locator(`[data-event="${first!}"] pre`).getByText('"step": "first"').waitFor();
  });

  it('shows guard-rail verdicts and shadow-mode requests on the incident timeline', async () => {
    await postAlert('CartPodsCrashLooping', 'cart'); // routed to shadow-restart (guard.shadow.runbooks)
    await postAlert('LedgerDeployStuck', 'ledger', { labels: { namespace: 'payments' } }); // not allowlisted
    const cart = await waitForIncident('CartPodsCrashLooping');
    await page.goto(`${url}/incidents/${cart.id}`);
    const timeline = page.getByRole('list', { name: 'Timeline' });
    const entry = (text: string | RegExp) => timeline.getByRole('listitem').filter({ hasText: text });
    const request = entry(
      'k8s.restart in shadow mode: would have sent PATCH /apis/apps/v1/namespaces/shop/deployments/cart',
    );
    await request.getByText('shadow request', { exact: true }).waitFor({ timeout: 20_000 });
    await request.getByText('runbook:shadow-restart', { exact: true }).waitFor();
    const shadowed = entry(
      /k8s\.restart on Deployment shop\/cart: shadowed by shadow \(runbook shadow-restart/,
    );
    await shadowed.getByText('guard: shadowed', { exact: true }).waitFor();
    await shadowed.getByText('guard', { exact: true }).waitFor(); // the actor
    await entry(/shop\/cart: allowed by allowlist/)
      .getByText('guard: allowed', { exact: true })
      .waitFor();
    await page.getByText('Rebound is: running runbook shadow-restart (shadow mode)').waitFor();
    expect(kube.writes()).toEqual([]); // shadow mode sent nothing
    await screenshot(page, 'incident-shadow-desktop');

    const ledger = await waitForIncident('LedgerDeployStuck');
    await page.goto(`${url}/incidents/${ledger.id}`);
    const refused = entry(/k8s\.restart on Deployment payments\/ledger: refused by allowlist/);
    await refused.getByText('guard: refused', { exact: true }).waitFor({ timeout: 20_000 });
    await timeline.getByText(/runbook restart ended FAILED/).waitFor();
    await screenshot(page, 'incident-refused-desktop');
  });

  it('says what Rebound is doing for each incident: its runbook running, in shadow mode, or waiting for approval', async () => {
    await postAlert('SearchIndexStale', 'search'); // routed to dashboard-test, which asks a human first
    const search = await waitForIncident('SearchIndexStale');
    const cart = (await incidentByTitle('CartPodsCrashLooping'))!;
    const payments = (await incidentByTitle('PaymentsLatencyHigh'))!;
    await page.goto(`${url}/incidents`);
    const doing = (id: string) => page.locator(`[data-incident="${id}"] [data-label="Rebound is"]`);
    await expect
      .poll(() => doing(search.id).textContent(), { timeout: 20_000 })
      .toBe('waiting for approval to run dashboard-test');
    expect(await doing(cart.id).textContent()).toBe('running runbook shadow-restart (shadow mode)');
    expect(await doing(payments.id).textContent()).toBe('no runbook running');
    await screenshot(page, 'incidents-doing-desktop');
    // A decision made elsewhere (here the API) changes the row without a reload.
    const pending = (await call('GET', '/v1/approvals?status=pending')).body['items'] as {
      id: string;
      incidentId: string;
    }[];
    const approval = pending.find((a) => a.incidentId === search.id)!;
    expect(
      (await call('POST', `/v1/approvals/${approval.id}/decision`, { decision: 'remediate' })).status,
    ).toBe(200);
    await expect.poll(() => doing(search.id).textContent(), { timeout: 10_000 }).toBe('no runbook running');
  });

  it('shows a breaker opened by a failed remediation, which only an admin may reset', async () => {
    await postAlert('InventoryDeployStuck', 'inventory'); // routed to restart; shop has no such Deployment
    const breaker = async () =>
      ((await call('GET', '/v1/automation')).body['breakers'] as Record<string, unknown>[]).find(
        (b) => b['scope'] === 'prod/shop',
      );
    await eventually(async () => (await breaker())?.['state'] === 'open', 20_000);
    await page.goto(`${url}/operations`);
    const item = page.locator('[data-breaker="prod/shop"]');
    await item.getByText('open', { exact: true }).waitFor();
    const reset = item.getByRole('button', { name: 'Reset' });
    expect(await reset.isDisabled()).toBe(true);
    expect(await reset.getAttribute('title')).toBe('needs the admin role');
    await screenshot(page, 'operations-breaker-desktop');
    const { context: admin, page: a } = await signedIn(ADMIN);
    await a.goto(`${url}/operations`);
    await a.locator('[data-breaker="prod/shop"]').getByRole('button', { name: 'Reset' }).click();
    await a.locator('[data-breaker="prod/shop"]').getByText('closed', { exact: true }).waitFor();
    expect(await a.locator('[data-breaker="prod/shop"]').getByRole('button').count()).toBe(0);
    await admin.close();
    expect(await breaker()).toMatchObject({ state: 'closed', resetBy: 'user:ada' });
  });

  it('links an alert without a generator URL to its ALERTS series in the configured Prometheus', async () => {
    await postAlert('QueueDepthHigh', 'orders', { generatorURL: '' });
    const incident = await waitForIncident('QueueDepthHigh');
    await page.goto(`${url}/incidents/${incident.id}`);
    const alerts = page.getByRole('table', { name: 'Correlated alerts' });
    const link = alerts.getByRole('link', { name: 'Prometheus' });
    await link.waitFor();
    const expr = 'ALERTS{alertname="QueueDepthHigh",namespace="shop"}';
    expect(await link.getAttribute('href')).toBe(
      `http://127.0.0.1:9091/prom/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=0`,
    );
    // An alert that names its rule keeps Prometheus's own link.
    const payments = (await incidentByTitle('PaymentsLatencyHigh'))!;
    await page.goto(`${url}/incidents/${payments.id}`);
    const own = alerts.getByRole('link', { name: 'Prometheus' });
    await own.waitFor();
    expect(await own.getAttribute('href')).toBe('http://127.0.0.1:9090/graph');
  });

  it('signs out: the session cookie is gone and every page asks for a token again', async () => {
    const { context, page: p } = await signedIn(OPERATOR);
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.waitForURL(/\/signin/);
    await p.getByLabel('API token').waitFor();
    expect((await context.cookies()).find((c) => c.name === 'rebound_session')).toBeUndefined();
    expect(await p.evaluate(async () => (await fetch('/v1/session')).json())).toMatchObject({
      mode: 'token',
      principal: null,
    });
    await p.goto(`${url}/operations`);
    await p.waitForURL(/\/signin\?next=%2Foperations/);
    await context.close();
  });

  it('renders every page at phone width and in dark mode', async () => {
    const pages = await everyPage();
    for (const [scheme, viewport] of [
      ['light', 'phone'],
      ['dark', 'desktop'],
      ['dark', 'phone'],
    ] as const) {
      const context = await viewContext(viewport, scheme);
      const p = await context.newPage();
      for (const { name, path, ready } of pages) {
        await openPage(p, path);
        await ready?.(p);
        // Nothing wider than the viewport at phone width (tables become cards; the graph scrolls inside its box).
        if (viewport === 'phone') {
          const overflow = await p.evaluate(
            // Runs in the page; typed loosely because the test is compiled without the DOM library.
            'document.documentElement.scrollWidth - window.innerWidth',
          );
          expect(overflow, `${name} overflows the phone viewport`).toBeLessThanOrEqual(1);
        }
        await screenshot(p, `${name}-${viewport}${scheme === 'dark' ? '-dark' : ''}`);
      }
      await context.close();
    }
  });

  it(
    'has no serious or critical accessibility violation (axe) on any page, light and dark, desktop and phone',
    { timeout: 300_000 },
    async () => {
      const pages = await everyPage();
      const found: string[] = [];
      for (const scheme of ['light', 'dark'] as const)
        for (const viewport of ['desktop', 'phone'] as const) {
          // axe-core has to be injected as a script, which the server's CSP refuses as it should: only this
          // context bypasses it. The policy itself is checked on every page in the tests above, with it on.
          const context = await viewContext(viewport, scheme, { signedOut: true, bypassCSP: true });
          const p = await context.newPage();
          const check = async (name: string, path: string, ready?: (p: Page) => Promise<void>) => {
            await openPage(p, path);
            await ready?.(p);
            for (const violation of await seriousAxeViolations(p))
              found.push(`${name} (${scheme}, ${viewport}): ${violation}`);
          };
          await check('signin', '/signin');
          await context.addCookies(await operator.cookies());
          for (const { name, path, ready } of pages) await check(name, path, ready);
          await context.close();
        }
      expect(found, `serious or critical axe violations:\n${found.join('\n')}`).toEqual([]);
    },
  );

  it('had no CSP violation or script error on any page', () => {
    expect(violations).toEqual([]);
  });
});

describe.skipIf(skip !== undefined)(
  'dashboard in open mode with the shipped runbooks',
  { timeout: 60_000 },
  () => {
    let t: TestApp;
    let url: string;
    let browser: Browser;
    const violations: string[] = [];

    beforeAll(async () => {
      ensureBundle();
      t = await makeTestApp(); // loopback, no tokens: open mode; default rules start the shipped runbooks
      url = `http://127.0.0.1:${(t.app.http.server.address() as AddressInfo).port}`;
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await t?.close();
    });

    it('needs no sign-in, says so, and shows a shipped runbook running for a new incident', async () => {
      const context = await browser.newContext({ viewport: VIEWPORTS.desktop });
      const page = await context.newPage();
      watchConsole(page, violations);
      await page.goto(`${url}/`);
      await page.waitForURL(/\/incidents$/);
      await page.getByText('Open mode (loopback, no sign-in)').waitFor();
      // Nothing configured: the shipped runbooks run in shadow mode, and every page says so.
      const banner = page.getByRole('status').filter({ hasText: 'Shadow mode:' });
      await banner.waitFor();
      expect(await banner.textContent()).toMatch(
        /^Shadow mode: no cluster\/allowlist configured — actions are recorded, not sent\./,
      );
      const alert = webhook([
        {
          labels: { alertname: 'HighErrorRate', service: 'checkout', namespace: 'shop', severity: 'warning' },
        },
      ]);
      const posted = await fetch(`${url}/v1/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alert),
      });
      expect(posted.status).toBe(200);
      await page.getByRole('link', { name: /HighErrorRate/ }).click();
      await page.getByRole('link', { name: 'high-error-rate' }).click({ timeout: 20_000 });
      await page.locator('[data-state]').first().waitFor();
      expect(await page.locator('[data-state]').count()).toBeGreaterThan(3);
      await expect
        .poll(() => page.locator('[data-state]:not([data-outcome="not-run"])').count())
        .toBeGreaterThan(0);
      await screenshot(page, 'runbook-graph-desktop');
      await page.goBack();
      await page
        .getByRole('list', { name: 'Timeline' })
        .getByText(/runbook high-error-rate started/)
        .waitFor();
      await screenshot(page, 'incident-with-runbook-desktop');
      await context.close();
      expect(violations).toEqual([]);
    });
  },
);
