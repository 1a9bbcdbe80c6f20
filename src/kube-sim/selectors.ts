import { badRequest } from './status.ts';

/**
 * Label and field selectors as the apiserver parses them
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors and
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/).
 */

type Labels = Readonly<Record<string, string>>;
type Requirement = (labels: Labels) => boolean;

/** Parses a label selector: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-separated (AND). */
export function parseLabelSelector(text: string): (labels: Labels) => boolean {
  const requirements = splitTopLevel(text).map(parseRequirement);
  return (labels) => requirements.every((r) => r(labels));
}

function parseRequirement(raw: string): Requirement {
  const part = raw.trim();
  const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
  if (set) {
    const [, key, op, list] = set as unknown as [string, string, string, string];
    const values = new Set(list.split(',').map((v) => v.trim()));
    return op === 'in'
      ? (l) => l[key] !== undefined && values.has(l[key])
      : (l) => l[key] === undefined || !values.has(l[key]);
  }
  const cmp = /^([^\s!=]+)\s*(==|=|!=)\s*([^\s]*)$/.exec(part);
  if (cmp) {
    const [, key, op, value] = cmp as unknown as [string, string, string, string];
    return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  const exists = /^(!?)([A-Za-z0-9./_-]+)$/.exec(part);
  if (exists) {
    const [, not, key] = exists as unknown as [string, string, string];
    return not ? (l) => l[key] === undefined : (l) => l[key] !== undefined;
  }
  throw badRequest(`unable to parse requirement: ${JSON.stringify(part)}`);
}

/** Splits on commas that are not inside `( … )` set lists. */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') out.push(current);
  return out.filter((p) => p.trim() !== '');
}

/** Field accessors each resource supports; anything else is rejected like the apiserver does. */
export const SUPPORTED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  pods: ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase', 'spec.restartPolicy'],
  default: ['metadata.name', 'metadata.namespace'],
};

/** Parses a field selector (`spec.nodeName=n1,status.phase!=Succeeded`) against a resource's known fields. */
export function parseFieldSelector(text: string, resource: string): (obj: unknown) => boolean {
  const allowed = SUPPORTED_FIELDS[resource] ?? SUPPORTED_FIELDS['default']!;
  const tests = splitTopLevel(text).map((raw) => {
    const m = /^([^!=]+)(==|=|!=)(.*)$/.exec(raw.trim());
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${raw}'`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    if (!allowed.includes(field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    return (obj: unknown) => {
      const actual = readPath(obj, field) ?? '';
      return op === '!=' ? actual !== value : actual === value;
    };
  });
  return (obj) => tests.every((t) => t(obj));
}

function readPath(obj: unknown, dotted: string): string | undefined {
  let cur: unknown = obj;
  for (const key of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return typeof cur === 'string' ? cur : cur === undefined ? undefined : String(cur);
}

/** Matches a `LabelSelector` object (matchLabels + matchExpressions) as controllers and PDBs use it. */
export function matchesLabelSelector(selector: unknown, labels: Labels): boolean {
  if (selector === null || typeof selector !== 'object') return false;
  const s = selector as {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  const hasAny =
    (s.matchLabels && Object.keys(s.matchLabels).length > 0) || (s.matchExpressions?.length ?? 0) > 0;
  // An empty (non-null) selector matches everything, per the LabelSelector documentation.
  if (!hasAny) return true;
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of s.matchExpressions ?? []) {
    const v = labels[e.key];
    const values = e.values ?? [];
    if (e.operator === 'In' && (v === undefined || !values.includes(v))) return false;
    if (e.operator === 'NotIn' && v !== undefined && values.includes(v)) return false;
    if (e.operator === 'Exists' && v === undefined) return false;
    if (e.operator === 'DoesNotExist' && v !== undefined) return false;
  }
  return true;
}

/** Renders matchLabels as the `status.selector` string of a Scale object (`app=web,tier=front`). */
export function selectorString(selector: unknown): string {
  const s = (selector ?? {}) as { matchLabels?: Record<string, string> };
  return Object.entries(s.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
