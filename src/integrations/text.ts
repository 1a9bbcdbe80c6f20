/**
 * Cuts text to `max` UTF-16 units (what the limits of Slack's Block Kit and PagerDuty count), marking the cut
 * with an ellipsis, and never inside a surrogate pair (a character outside the BMP, such as most emoji): half
 * of one is not Unicode, and a receiver may refuse the whole message for it. A sequence of several
 * characters (a flag, a family emoji) may still be cut between its characters.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let end = max - 1;
  if (end > 0 && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  return text.slice(0, end) + '…';
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}
