import { escapeMrkdwn } from '../../integrations/slack/mrkdwn.ts';
import type { SlackMessage } from '../../integrations/slack/post.ts';
import { truncate } from '../../integrations/text.ts';
import { severityLabel, type Notification } from './notification.ts';

/**
 * Block Kit rendering of a notification. Incoming webhooks cannot edit a message they posted, so every move
 * of the incident is a new message: `opened` and `escalated` carry the full story (description included),
 * later moves are compact updates headed by what changed. Limits respected: header 150 characters,
 * section text 3000, field 2000, at most 10 fields.
 */

const HEADERS: Record<Notification['event'], string> = {
  opened: 'Incident opened',
  updated: 'Update',
  remediated: 'Remediated',
  escalated: 'Escalated to on-call',
  acknowledged: 'Acknowledged',
  resolved: 'Resolved',
};

const EMOJI: Record<Notification['event'], string> = {
  opened: ':rotating_light:',
  updated: ':arrows_counterclockwise:',
  remediated: ':hammer_and_wrench:',
  escalated: ':sos:',
  acknowledged: ':eyes:',
  resolved: ':white_check_mark:',
};

const OUTCOME: Record<Notification['actions'][number]['outcome'], string> = {
  succeeded: ':white_check_mark:',
  failed: ':x:',
  skipped: ':fast_forward:',
  shadow: ':ghost: (shadow, not sent)',
  pending: ':hourglass_flowing_sand:',
};

/** Renders a notification as an incoming-webhook message: fallback `text` plus Block Kit `blocks`. */
export function renderSlackMessage(n: Notification): SlackMessage {
  const header = `${HEADERS[n.event]}: [${severityLabel(n.severity)}] ${n.title}`;
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(header, 150), emoji: true } },
    { type: 'section', fields: fields(n) },
  ];
  if (n.description && (n.event === 'opened' || n.event === 'escalated')) {
    blocks.push(section(truncate(escapeMrkdwn(n.description), 3000)));
  }
  if (n.actions.length > 0) blocks.push(section(truncate(actionLines(n), 3000)));
  if (n.result) blocks.push(section(truncate(`*Result:* ${escapeMrkdwn(n.result)}`, 3000)));
  const links = linkLine(n);
  if (links) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: links }] });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: footer(n) }] });
  // The fallback text is mrkdwn too (notifications, clients without blocks): escaped like the blocks.
  const text = escapeMrkdwn(`${EMOJI[n.event]} ${header}${n.status ? ` — ${n.status}` : ''}`);
  return { text: truncate(text, 3000), blocks };
}

function fields(n: Notification): { type: 'mrkdwn'; text: string }[] {
  const entries: [string, string | undefined][] = [
    ['Severity', severityLabel(n.severity)],
    ['Status', n.status],
    ['Service', n.service],
    ['Namespace', n.namespace],
    ['Cluster', n.cluster],
    ['Incident', n.links.incident ? `<${slackUrl(n.links.incident)}|${n.incidentId}>` : n.incidentId],
  ];
  return entries
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
    .map(([name, value]) => ({
      type: 'mrkdwn' as const,
      text: truncate(
        `*${name}*\n${name === 'Incident' && n.links.incident ? value : escapeMrkdwn(value)}`,
        2000,
      ),
    }));
}

function actionLines(n: Notification): string {
  const lines = n.actions.map(
    (a) =>
      `${OUTCOME[a.outcome]} \`${escapeMrkdwn(a.name)}\`${a.detail ? ` — ${escapeMrkdwn(a.detail)}` : ''}`,
  );
  return `*What Rebound did*\n${lines.join('\n')}`;
}

function linkLine(n: Notification): string | undefined {
  const links: [string, string | undefined][] = [
    ['Dashboard', n.links.dashboard],
    ['Prometheus', n.links.prometheus],
    ['Runbook', n.links.runbook],
  ];
  const present = links
    .filter((l): l is [string, string] => l[1] !== undefined)
    .map(([label, url]) => `<${slackUrl(url)}|${label}>`);
  return present.length > 0 ? present.join('  ·  ') : undefined;
}

/** A URL inside Slack's `<url|label>`: `|`, `<` and `>` would end it early, so they are percent-encoded. */
function slackUrl(url: string): string {
  return url.replace(/[|<>]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function footer(n: Notification): string {
  const when = n.occurredAt ? Math.floor(Date.parse(n.occurredAt) / 1000) : undefined;
  const time = when === undefined ? '' : ` · <!date^${when}^{date_short_pretty} {time_secs}|${n.occurredAt}>`;
  return `Rebound · ${escapeMrkdwn(n.incidentId)}${time}`;
}

function section(text: string) {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}
