import type { QueryLanguage } from './types.ts';

/**
 * The fields each state type takes, in each query language, as the States Language and Step Functions define
 * them. Step Functions refuses a definition with any other field ("The field 'X' is not supported"), so a
 * typo such as `TimeoutSecond` or `Nxt` is an error here too, named, instead of a setting silently ignored.
 * asl-validator refuses the same fields, but says only that the state "must match exactly one schema in
 * oneOf"; and it lets any field by in a retrier or a catcher. test/workflows/validate.test.ts compares these
 * lists with asl-validator's schemas.
 */
interface StateFields {
  /** Fields the state takes in both query languages. */
  readonly both: readonly string[];
  readonly JSONPath: readonly string[];
  readonly JSONata: readonly string[];
}

const BASE = ['Type', 'Comment', 'QueryLanguage'];
const FLOW = ['Next', 'End'];
const PATHS = ['InputPath', 'OutputPath'];
const ERRORS = ['Retry', 'Catch'];

export const STATE_FIELDS: Readonly<Record<string, StateFields>> = {
  Pass: {
    both: [...BASE, ...FLOW, 'Assign', 'Result'],
    JSONPath: [...PATHS, 'Parameters', 'ResultPath'],
    JSONata: ['Output'],
  },
  Task: {
    both: [
      ...BASE,
      ...FLOW,
      ...ERRORS,
      'Assign',
      'Resource',
      'TimeoutSeconds',
      'HeartbeatSeconds',
      'Credentials',
    ],
    JSONPath: [
      ...PATHS,
      'Parameters',
      'ResultSelector',
      'ResultPath',
      'TimeoutSecondsPath',
      'HeartbeatSecondsPath',
    ],
    JSONata: ['Arguments', 'Output'],
  },
  // A Choice state is never an End state (asl-validator's schema lets `End` by; Step Functions does not).
  Choice: { both: [...BASE, 'Assign', 'Choices', 'Default'], JSONPath: PATHS, JSONata: ['Output'] },
  Wait: {
    both: [...BASE, ...FLOW, 'Assign', 'Seconds', 'Timestamp'],
    JSONPath: [...PATHS, 'SecondsPath', 'TimestampPath'],
    JSONata: ['Output'],
  },
  Succeed: { both: BASE, JSONPath: PATHS, JSONata: ['Output'] },
  Fail: { both: [...BASE, 'Error', 'Cause'], JSONPath: ['ErrorPath', 'CausePath'], JSONata: [] },
  Parallel: {
    both: [...BASE, ...FLOW, ...ERRORS, 'Assign', 'Branches'],
    JSONPath: [...PATHS, 'Parameters', 'ResultSelector', 'ResultPath'],
    JSONata: ['Arguments', 'Output'],
  },
  Map: {
    both: [
      ...BASE,
      ...FLOW,
      ...ERRORS,
      'Assign',
      'ItemProcessor',
      'Iterator',
      'ItemSelector',
      'Label',
      'MaxConcurrency',
      'ToleratedFailureCount',
      'ToleratedFailurePercentage',
      'ItemReader',
      'ItemBatcher',
      'ResultWriter',
    ],
    JSONPath: [
      ...PATHS,
      'ItemsPath',
      'Parameters',
      'ResultSelector',
      'ResultPath',
      'MaxConcurrencyPath',
      'ToleratedFailureCountPath',
      'ToleratedFailurePercentagePath',
    ],
    JSONata: ['Items', 'Output'],
  },
};

/**
 * The fields of a whole state machine. Those of a Parallel's branch and a Map's item processor are left to
 * asl-validator, which takes any there.
 */
export const TOP_LEVEL_FIELDS = [
  'Comment',
  'StartAt',
  'States',
  'Version',
  'TimeoutSeconds',
  'QueryLanguage',
];

export const RETRIER_FIELDS = [
  'ErrorEquals',
  'IntervalSeconds',
  'MaxAttempts',
  'BackoffRate',
  'MaxDelaySeconds',
  'JitterStrategy',
  'Comment',
];

export const CATCHER_FIELDS: Readonly<Record<QueryLanguage, readonly string[]>> = {
  JSONPath: ['ErrorEquals', 'Next', 'ResultPath', 'Assign', 'Comment'],
  JSONata: ['ErrorEquals', 'Next', 'Output', 'Assign', 'Comment'],
};

/** What each query language uses in place of the other's fields (those the place takes are suggested). */
const COUNTERPART: Readonly<Record<string, readonly string[]>> = {
  InputPath: ['Arguments'],
  Parameters: ['Arguments'],
  ResultSelector: ['Output'],
  ResultPath: ['Output', 'Assign'],
  OutputPath: ['Output'],
  ItemsPath: ['Items'],
  Arguments: ['Parameters'],
  Output: ['ResultSelector', 'ResultPath', 'OutputPath'],
  Items: ['ItemsPath'],
};

/**
 * The fields of `holder` (a state, a retrier…) that do not belong in `where`, each with why; see
 * fieldProblem for `allowed` and `otherLanguage`.
 */
export function unknownFields(
  holder: object,
  where: string,
  language: QueryLanguage,
  allowed: readonly string[],
  otherLanguage: readonly string[] = [],
): { readonly field: string; readonly message: string }[] {
  return Object.keys(holder).flatMap((field) => {
    const message = fieldProblem(field, where, language, allowed, otherLanguage);
    return message === undefined ? [] : [{ field, message }];
  });
}

/**
 * Why `field` does not belong in `where` (a Task state, a retrier…), or undefined if it does. `allowed` are
 * the fields of that place in the state's query language, `otherLanguage` those the other language adds.
 */
function fieldProblem(
  field: string,
  where: string,
  language: QueryLanguage,
  allowed: readonly string[],
  otherLanguage: readonly string[] = [],
): string | undefined {
  if (allowed.includes(field)) return undefined;
  if (otherLanguage.includes(field)) {
    const other = language === 'JSONata' ? 'JSONPath' : 'JSONata';
    const base = field.slice(0, -'Path'.length);
    const counterparts = (COUNTERPART[field] ?? []).filter((f) => allowed.includes(f));
    const instead =
      counterparts.length > 0
        ? counterparts.join(' or ')
        : field.endsWith('Path') && allowed.includes(base)
          ? `${base} with a {% … %} expression`
          : undefined;
    return (
      `'${field}' is a ${other} field, but this state's query language is ${language}` +
      ` (${instead ? `in ${language}, use ${instead}; or ` : ''}set "QueryLanguage": "${other}" on the state)`
    );
  }
  const near = nearest(field, allowed);
  return `the field '${field}' is not supported in ${where}${near ? ` (did you mean '${near}'?)` : ''}`;
}

/** The candidate within two edits of `word` (any case), if exactly one is closest. */
function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  let tie = false;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance, tie] = [c, d, false];
    else if (d === bestDistance) tie = true;
  }
  return tie ? undefined : best;
}

/** Levenshtein distance, one row at a time. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}
