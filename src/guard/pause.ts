import type { TargetRef } from '../actions/types.ts';
import type { PauseItem } from './port.ts';

/** What a pause's matchers are compared with: the target's fields, the runbook, and the incident labels. */
export interface PauseSubject {
  readonly target: TargetRef;
  readonly runbook?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

const TARGET_FIELDS = ['cluster', 'namespace', 'kind', 'name'] as const;

/** The value a matcher key selects: a target field, the runbook, or else a label. */
function subjectValue(subject: PauseSubject, key: string): string | undefined {
  if ((TARGET_FIELDS as readonly string[]).includes(key)) {
    return subject.target[key as (typeof TARGET_FIELDS)[number]];
  }
  if (key === 'runbook') return subject.runbook;
  return subject.labels?.[key];
}

/** True when every matcher of the pause equals the subject's value (an empty match pauses everything). */
export function pauseMatches(pause: Pick<PauseItem, 'match'>, subject: PauseSubject): boolean {
  return Object.entries(pause.match).every(([key, value]) => subjectValue(subject, key) === value);
}

/** Describes a pause for refusals and the CLI: `cluster=prod,namespace=shop until 2026-… (deploy freeze)`. */
export function describePause(pause: PauseItem): string {
  const match = Object.entries(pause.match)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const until = pause.until === undefined ? 'until resumed' : `until ${new Date(pause.until).toISOString()}`;
  return `pause ${pause.id} [${match || 'everything'}] ${until}${pause.reason ? ` (${pause.reason})` : ''}`;
}
