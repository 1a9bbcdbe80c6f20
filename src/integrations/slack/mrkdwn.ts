/**
 * Escapes the three characters Slack's mrkdwn reserves, so text from alerts, runbooks or people shows as
 * written: `<!channel>` or `<https://…|label>` inside it neither mentions anyone nor becomes a disguised link.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
