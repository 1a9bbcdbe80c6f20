/**
 * Alertmanager label matchers as its v2 API takes them: `filter=name="value"` query parameters and
 * `{name, value, isRegex, isEqual}` objects in silences.
 */

export interface Matcher {
  readonly name: string;
  readonly value: string;
  readonly isRegex: boolean;
  /** False turns `=` into `!=` (and `=~` into `!~`). */
  readonly isEqual: boolean;
}

/** Equality matchers for a label set, in a stable order (alertname first, then by name). */
export function equalityMatchers(labels: Readonly<Record<string, string>>): Matcher[] {
  return Object.keys(labels)
    .sort((a, b) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a < b ? -1 : a > b ? 1 : 0))
    .map((name) => ({ name, value: labels[name] ?? '', isRegex: false, isEqual: true }));
}

/** Renders one matcher in Alertmanager's filter syntax, e.g. `service="checkout"`; values are escaped. */
export function formatMatcher(matcher: Matcher): string {
  const op = matcher.isRegex ? (matcher.isEqual ? '=~' : '!~') : matcher.isEqual ? '=' : '!=';
  const value = matcher.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `${matcher.name}${op}"${value}"`;
}
