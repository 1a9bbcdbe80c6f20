import type { FetchLike } from '../../integrations/http.ts';
import { postSlackMessage } from '../../integrations/slack/post.ts';
import type { WriteRequest } from '../types.ts';
import type { ChannelNotifier, Delivery, Notification, SendOptions } from './notification.ts';
import { renderSlackMessage } from './slack-blocks.ts';

export interface SlackNotifierOptions {
  readonly webhookUrl: string;
  readonly timeoutMs: number;
  readonly fetch?: FetchLike;
}

/** Posts Block Kit messages to one Slack incoming webhook; each incident move is a new message. */
export class SlackNotifier implements ChannelNotifier {
  readonly channel = 'slack' as const;
  readonly #options: SlackNotifierOptions;

  constructor(options: SlackNotifierOptions) {
    this.#options = options;
  }

  preview(notification: Notification): WriteRequest {
    // The webhook URL is the credential: the recorded request names the endpoint kind, not the URL.
    return {
      method: 'POST',
      path: 'slack:incoming-webhook',
      contentType: 'application/json',
      body: renderSlackMessage(notification),
    };
  }

  async send(notification: Notification, options: SendOptions = {}): Promise<Delivery> {
    const request = this.preview(notification);
    await postSlackMessage(this.#options.webhookUrl, renderSlackMessage(notification), {
      timeoutMs: this.#options.timeoutMs,
      signal: options.signal,
      fetch: this.#options.fetch,
      label: 'Slack incoming webhook',
    });
    return { channel: 'slack', request };
  }
}
