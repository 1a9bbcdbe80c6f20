import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import type { Approval } from '../../src/approvals/model.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { slackSignature } from '../../src/integrations/slack/signature.ts';
import { makeTestApp, tempDir, webhook, type TestApp } from '../support/app.ts';
import { eventually } from '../support/http-receiver.ts';
import type { HttpRecorder } from '../support/receivers/http-recorder.ts';
import { startSlackReceiver } from '../support/receivers/slack.ts';

// Slack's published signing secret (api.slack.com/authentication/verifying-requests-from-slack).
export const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
export const APPROVER = 'U0ANA';
export const OPERATOR_TOKEN = 'operator-token-0123456789abcdef';
export const VIEWER_TOKEN = 'viewer-token-0123456789abcdefgh';

/**
 * A runbook as users write it: ask, then remediate / skip / wait and ask again; a time-out escalates.
 * The Pass states stand in for the remediation: what matters here is which one runs.
 */
export const RUNBOOK = {
  Comment: 'Restart checkout, but only with a human yes',
  StartAt: 'Ask',
  States: {
    Ask: {
      Type: 'Task',
      Resource: 'rebound:approval.request.waitForTaskToken',
      Parameters: {
        'taskToken.$': '$$.Task.Token',
        'incidentId.$': '$.incidentId',
        runbook: 'approve-restart',
        summary: 'rollout restart deployment/checkout in shop',
        timeoutSeconds: 900,
        default: 'escalate',
      },
      ResultPath: '$.approval',
      Catch: [{ ErrorEquals: ['Approval.TimedOut'], ResultPath: '$.error', Next: 'Escalate' }],
      Next: 'Decide',
    },
    Decide: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.approval.decision', StringEquals: 'remediate', Next: 'Remediate' },
        { Variable: '$.approval.decision', StringEquals: 'snooze', Next: 'Snooze' },
      ],
      Default: 'Skipped',
    },
    Remediate: { Type: 'Pass', Result: 'restarted', ResultPath: '$.result', End: true },
    Snooze: { Type: 'Wait', SecondsPath: '$.approval.snoozeSeconds', Next: 'Ask' },
    Skipped: { Type: 'Pass', Result: 'skipped', ResultPath: '$.result', End: true },
    Escalate: { Type: 'Pass', Result: 'escalated', ResultPath: '$.result', End: true },
  },
};

/** A clock the test moves: the approvals' deadlines and Slack's timestamp check read it. */
export class TestClock {
  offsetMs = 0;
  readonly now = () => new Date(Date.now() + this.offsetMs);
  seconds(): string {
    return String(Math.floor(this.now().getTime() / 1000));
  }
}

export interface Harness {
  readonly t: TestApp;
  readonly url: string;
  readonly clock: TestClock;
  readonly config: ConfigInput;
}

/** Per-test state: a fresh Slack receiver, and the harness a test starts (closed after it). */
export interface ApprovalTestEnv {
  slack: HttpRecorder;
  h: Harness | undefined;
}

/** Registers the per-test lifecycle every approvals test file shares; call at module level. */
export function approvalTestEnv(): ApprovalTestEnv {
  const env = { h: undefined } as ApprovalTestEnv;
  beforeEach(async () => {
    env.slack = await startSlackReceiver();
  });
  afterEach(async () => {
    await env.h?.t.close();
    env.h = undefined;
    await env.slack.close();
  });
  return env;
}

/** Config for an app with the runbook, Slack pointed at the local receiver and, optionally, API tokens. */
export function approvalConfig(slack: HttpRecorder, options: { tokens?: boolean } = {}): ConfigInput {
  const dir = tempDir('rebound-approvals-runbooks-').path;
  const runbooks = join(dir, 'runbooks');
  mkdirSync(runbooks);
  writeFileSync(join(runbooks, 'approve-restart.asl.json'), JSON.stringify(RUNBOOK));
  return {
    workflows: { runbooksDir: runbooks, reaperIntervalSeconds: 0.2 },
    // The tests sweep by hand after moving the clock; the interval only runs the sweep at start.
    approvals: { sweepIntervalSeconds: 300 },
    slack: {
      signingSecret: SIGNING_SECRET,
      allowedUsers: [APPROVER],
      approvalWebhookUrl: `${slack.url}/services/APPROVALS`,
      responseUrlPrefixes: [`${slack.url}/actions/`],
      // Generous: a loaded CI machine must not turn a slow local receiver into a failed post.
      timeoutMs: 30_000,
    },
    bus: {
      rules: [
        {
          name: 'alerts-to-incidents',
          pattern: { source: ['rebound.alertmanager'] },
          targets: [{ kind: 'incidents' as const, id: 'incidents' }],
        },
      ],
    },
    ...(options.tokens
      ? {
          server: {
            auth: {
              apiTokens: [
                { name: 'ana', role: 'operator' as const, token: OPERATOR_TOKEN },
                { name: 'val', role: 'viewer' as const, token: VIEWER_TOKEN },
              ],
            },
          },
        }
      : {}),
  };
}

export async function startHarness(
  config: ConfigInput,
  clock = new TestClock(),
  dir?: string,
): Promise<Harness> {
  const t = await makeTestApp(config, clock.now, dir);
  const { port } = t.app.http.server.address() as AddressInfo;
  return { t, url: `http://127.0.0.1:${port}`, clock, config };
}

/** Opens an incident through the Alertmanager webhook and starts the runbook for it. */
export async function startRunbook(h: Harness, headers: Record<string, string> = {}) {
  await h.t.app.http.inject({
    method: 'POST',
    url: '/v1/webhooks/alertmanager',
    payload: webhook([{ labels: { alertname: 'HighErrorRate', namespace: 'shop', service: 'checkout' } }]),
  });
  await h.t.app.settle();
  const incidents = (await h.t.app.http.inject({ url: '/v1/incidents', headers })).json().items as {
    id: string;
  }[];
  expect(incidents).toHaveLength(1);
  const incidentId = incidents[0]!.id;
  const started = await h.t.app.http.inject({
    method: 'POST',
    url: '/v1/executions',
    headers,
    payload: { workflow: 'approve-restart', input: { incidentId } },
  });
  expect(started.statusCode).toBe(201);
  return { incidentId, executionId: started.json().executionId as string };
}

/** Waits until the runbook's approval is pending and returns it. */
export async function pendingApproval(h: Harness, headers: Record<string, string> = {}): Promise<Approval> {
  let items: Approval[] = [];
  await eventually(async () => {
    items = (await h.t.app.http.inject({ url: '/v1/approvals?status=pending', headers })).json().items;
    return items.length === 1;
  });
  return items[0]!;
}

export async function execution(h: Harness, id: string, headers: Record<string, string> = {}) {
  return (await h.t.app.http.inject({ url: `/v1/executions/${encodeURIComponent(id)}`, headers })).json() as {
    status: string;
    output?: { result?: string; approval?: Record<string, unknown>; error?: Record<string, string> };
  };
}

export async function finished(h: Harness, id: string, headers: Record<string, string> = {}) {
  await eventually(async () => (await execution(h, id, headers)).status !== 'RUNNING');
  return execution(h, id, headers);
}

export async function timeline(h: Harness, incidentId: string, headers: Record<string, string> = {}) {
  const detail = (await h.t.app.http.inject({ url: `/v1/incidents/${incidentId}`, headers })).json() as {
    timeline: { actor: string; kind: string; description: string }[];
  };
  return detail.timeline;
}

/** A block_actions payload shaped like the ones Slack sends for a button click, form-encoded and signed. */
export function slackClick(
  h: Harness,
  slack: HttpRecorder,
  input: { actionId: string; approvalId: string; user?: string; responsePath?: string; timestamp?: string },
) {
  const payload = {
    type: 'block_actions',
    user: { id: input.user ?? APPROVER, username: 'ana', team_id: 'T0TEAM' },
    team: { id: 'T0TEAM', domain: 'example' },
    api_app_id: 'A0APP',
    trigger_id: '123.456.abc',
    container: { type: 'message', message_ts: '1714564800.000100', channel_id: 'C0OPS' },
    channel: { id: 'C0OPS', name: 'ops' },
    response_url: `${slack.url}${input.responsePath ?? '/actions/T0TEAM/1/abc'}`,
    message: { type: 'message', ts: '1714564800.000100', text: 'Approval needed', blocks: [] },
    actions: [
      {
        type: 'button',
        action_id: input.actionId,
        block_id: 'rebound.approval',
        value: input.approvalId,
        action_ts: '1714564801.1',
      },
    ],
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const timestamp = input.timestamp ?? h.clock.seconds();
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, body),
    },
  };
}

/** Sends a signed click through the real HTTP server, as Slack does. */
export async function postToSlackRoute(
  h: Harness,
  request: { body: string; headers: Record<string, string> },
) {
  return fetch(`${h.url}/v1/integrations/slack/interactions`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
}
