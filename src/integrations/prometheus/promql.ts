/** Builds PromQL text from data, escaping label values so alert labels can never change the query's shape. */

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Quotes a label value as a PromQL double-quoted string. */
export function quotePromqlString(value: string): string {
  return '"' + value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

/** `metric{a="1",b="2"}` with equality matchers, in the given order; label names are validated. */
export function vectorSelector(metric: string, labels: Readonly<Record<string, string>>): string {
  const matchers = Object.entries(labels).map(([name, value]) => {
    if (!LABEL_NAME.test(name)) throw new TypeError(`invalid Prometheus label name: ${JSON.stringify(name)}`);
    return `${name}=${quotePromqlString(value)}`;
  });
  return `${metric}{${matchers.join(',')}}`;
}
