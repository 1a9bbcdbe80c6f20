/**
 * Extracts the metric names a PromQL expression reads, so dashboards and rules can be checked against the
 * metrics that really exist. A small lexer, not a parser: it drops strings, label matchers, ranges and
 * grouping clauses, then keeps identifiers that are neither functions nor keywords.
 */

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
  'group',
  'inf',
  'nan',
]);

export function metricNames(expr: string): Set<string> {
  const cleaned = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // string literals
    .replace(/\{[^{}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range and subquery windows
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // grouping label lists
    .replace(/\$\w+/g, ' '); // Grafana variables outside ranges
  const names = new Set<string>();
  const token = /[a-zA-Z_:][a-zA-Z0-9_:]*/g;
  for (let match = token.exec(cleaned); match; match = token.exec(cleaned)) {
    const word = match[0];
    const after = cleaned.slice(match.index + word.length).trimStart();
    const before = cleaned[match.index - 1];
    if (after.startsWith('(')) continue; // a function or aggregation call
    if (KEYWORDS.has(word.toLowerCase())) continue;
    if (before !== undefined && /[0-9.]/.test(before)) continue; // part of a number like 1e3 or a duration
    names.add(word);
  }
  return names;
}

/** A histogram's series names map to the histogram itself. */
export function baseMetricName(series: string): string {
  return series.replace(/_(bucket|sum|count)$/, '');
}
