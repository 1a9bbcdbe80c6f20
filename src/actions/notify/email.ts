import { createTransport, type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { IntegrationError } from '../../integrations/errors.ts';
import { truncate } from '../../integrations/text.ts';
import type { WriteRequest } from '../types.ts';
import {
  severityLabel,
  type ChannelNotifier,
  type Delivery,
  type Notification,
  type SendOptions,
} from './notification.ts';

export interface EmailNotifierOptions {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly requireTLS: boolean;
  readonly user?: string;
  readonly password?: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly timeoutMs: number;
}

/** Plain-text e-mail over SMTP (nodemailer). Messages of one incident share a thread via `References`. */
export class EmailNotifier implements ChannelNotifier {
  readonly channel = 'email' as const;
  readonly #options: EmailNotifierOptions;
  readonly #transport: Transporter<SMTPTransport.SentMessageInfo>;

  constructor(options: EmailNotifierOptions) {
    this.#options = options;
    this.#transport = createTransport({
      host: options.host,
      port: options.port,
      secure: options.secure,
      requireTLS: options.requireTLS,
      ...(options.user ? { auth: { user: options.user, pass: options.password ?? '' } } : {}),
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      logger: false,
    });
  }

  /** The message as nodemailer takes it. */
  message(n: Notification) {
    const threadId = `<incident.${encodeURIComponent(n.incidentId)}@rebound>`;
    return {
      from: this.#options.from,
      to: [...this.#options.to],
      subject: truncate(`[Rebound][${severityLabel(n.severity)}] ${eventWord(n.event)}: ${n.title}`, 200),
      text: renderText(n),
      headers: { 'X-Rebound-Incident': n.incidentId, 'X-Rebound-Event': n.event },
      references: threadId,
      inReplyTo: n.event === 'opened' ? undefined : threadId,
    };
  }

  preview(n: Notification): WriteRequest {
    const m = this.message(n);
    return {
      method: 'SMTP',
      path: `smtp://${this.#options.host}:${this.#options.port}`,
      contentType: 'text/plain',
      body: { to: m.to, subject: m.subject, text: m.text },
    };
  }

  async send(n: Notification, options: SendOptions = {}): Promise<Delivery> {
    options.signal?.throwIfAborted();
    try {
      const info = await this.#transport.sendMail(this.message(n));
      return { channel: 'email', request: this.preview(n), reference: info.messageId };
    } catch (err) {
      throw mapSmtpError(err);
    }
  }

  /** Closes pooled connections (none by default); call on shutdown. */
  close(): void {
    this.#transport.close();
  }
}

const WORDS: Record<Notification['event'], string> = {
  opened: 'Incident opened',
  updated: 'Update',
  remediated: 'Remediated',
  escalated: 'Escalated',
  acknowledged: 'Acknowledged',
  resolved: 'Resolved',
};

function eventWord(event: Notification['event']): string {
  return WORDS[event];
}

/** The plain-text body: the same facts as the Slack message, in reading order. */
export function renderText(n: Notification): string {
  const lines = [`${eventWord(n.event)}: ${n.title}`, ''];
  const facts: [string, string | undefined][] = [
    ['Incident', n.incidentId],
    ['Severity', severityLabel(n.severity)],
    ['Status', n.status],
    ['Service', n.service],
    ['Namespace', n.namespace],
    ['Cluster', n.cluster],
    ['When', n.occurredAt],
  ];
  for (const [name, value] of facts) if (value) lines.push(`${name}: ${value}`);
  if (n.description) lines.push('', n.description);
  if (n.actions.length) {
    lines.push('', 'What Rebound did:');
    for (const a of n.actions) lines.push(`  - ${a.name}: ${a.outcome}${a.detail ? ` (${a.detail})` : ''}`);
  }
  if (n.result) lines.push('', `Result: ${n.result}`);
  const links = Object.entries(n.links).filter(([, url]) => url);
  if (links.length) {
    lines.push('');
    for (const [name, url] of links) lines.push(`${name[0]?.toUpperCase()}${name.slice(1)}: ${url}`);
  }
  return lines.join('\n') + '\n';
}

// SMTP 4xx replies and connection trouble are transient; 5xx replies and bad credentials are not.
function mapSmtpError(err: unknown): IntegrationError {
  const e = err as { code?: unknown; responseCode?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const transientConn =
    code === 'ECONNECTION' || code === 'ETIMEDOUT' || code === 'ESOCKET' || code === 'EDNS';
  const retryable = responseCode !== undefined ? responseCode >= 400 && responseCode < 500 : transientConn;
  const kind =
    code === 'ETIMEDOUT'
      ? 'timeout'
      : responseCode !== undefined
        ? 'api'
        : transientConn
          ? 'network'
          : 'refused';
  const hint =
    code === 'EAUTH'
      ? 'check the SMTP user and password'
      : retryable
        ? 'retried later'
        : 'the server refused the message; check sender and recipients';
  const reply = responseCode !== undefined ? ` ${responseCode}` : '';
  return new IntegrationError(`SMTP${reply}${code ? ` ${code}` : ''}: ${String(e.message ?? err)}; ${hint}`, {
    service: 'smtp',
    kind,
    retryable,
    ...(responseCode !== undefined ? { status: responseCode } : {}),
    ...(code ? { errorType: code } : {}),
    cause: err,
  });
}
