import type { IncidentsConfig } from './config.ts';

/** The labels that decide which incident an alert joins: the first matching rule's, else the defaults. */
export function correlationLabels(
  labels: Readonly<Record<string, string>>,
  config: IncidentsConfig['correlation'],
): readonly string[] {
  for (const rule of config.rules) {
    if (Object.entries(rule.match).every(([name, value]) => labels[name] === value)) return rule.labels;
  }
  return config.labels;
}

/** `name=value` pairs of the correlation labels present on the alert, in configured order. */
export function correlationKey(
  labels: Readonly<Record<string, string>>,
  fingerprint: string,
  config: IncidentsConfig['correlation'],
): { key: string; keyLabels: Record<string, string> } {
  const keyLabels: Record<string, string> = {};
  for (const name of correlationLabels(labels, config)) {
    const value = labels[name];
    if (value !== undefined) keyLabels[name] = value;
  }
  const parts = Object.entries(keyLabels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  // An alert with none of the labels correlates only with itself.
  return { key: parts.length > 0 ? parts.join(',') : `fingerprint=${fingerprint}`, keyLabels };
}
