import { InvalidTargetInputError } from './errors.ts';

/** EventBridge caps InputTemplate (and Input) at 8192 characters. */
export const MAX_TEMPLATE_LENGTH = 8192;

/** Reserved variables EventBridge fills in itself; InputPathsMap may not define them. */
export const RESERVED = {
  ruleName: 'aws.events.rule-name',
  ruleArn: 'aws.events.rule-arn',
  ingestionTime: 'aws.events.event.ingestion-time',
  event: 'aws.events.event',
  eventJson: 'aws.events.event.json',
} as const;

/** The two reserved variables that hold JSON and so may only stand as a JSON value, never inside text. */
const JSON_ONLY = new Set<string>([RESERVED.event, RESERVED.eventJson]);

/** How a placeholder is filled: as a JSON value, inside a JSON string, or as raw text. */
type Mode = 'json-value' | 'json-string' | 'raw';

type Part = { readonly text: string } | { readonly name: string; readonly mode: Mode };

export interface CompiledTemplate {
  /** `json` templates (an object, array or quoted string) yield parsed JSON; `text` templates yield the text. */
  readonly kind: 'json' | 'text';
  render(lookup: (name: string) => unknown): { value: unknown; body: string };
}

const PLACEHOLDER = /^<([A-Za-z0-9_.-]+)>/;

/**
 * Compiles an InputTemplate. A template starting with `{`, `[` or `"` is JSON: a placeholder outside quotes
 * becomes the variable's JSON value (a missing one becomes null), inside quotes its text (escaped, so the
 * result is always valid JSON). Any other template is text with raw substitution, sent as is.
 */
export function compileTemplate(
  template: string,
  defined: ReadonlySet<string>,
  where: string,
): CompiledTemplate {
  if (typeof template !== 'string' || template.length === 0) {
    throw new InvalidTargetInputError(where, 'InputTemplate must be a non-empty string');
  }
  if (template.length > MAX_TEMPLATE_LENGTH) {
    throw new InvalidTargetInputError(
      where,
      `InputTemplate may have at most ${MAX_TEMPLATE_LENGTH} characters`,
    );
  }
  const first = template.trimStart()[0];
  const kind = first === '{' || first === '[' || first === '"' ? 'json' : 'text';
  const parts = tokenize(template, kind, defined, where);
  if (kind === 'json') {
    const sample = fill(parts, () => undefined);
    try {
      JSON.parse(sample);
    } catch (err) {
      throw new InvalidTargetInputError(
        where,
        `InputTemplate starts like JSON but is not valid JSON once placeholders are filled (${(err as Error).message}); ` +
          'quote text, escape inner quotes as \\", and put placeholders where values go',
      );
    }
  }
  return {
    kind,
    render(lookup) {
      const body = fill(parts, lookup);
      return { value: kind === 'json' ? (JSON.parse(body) as unknown) : body, body };
    },
  };
}

function tokenize(
  template: string,
  kind: 'json' | 'text',
  defined: ReadonlySet<string>,
  where: string,
): Part[] {
  const parts: Part[] = [];
  let text = '';
  let inString = false;
  let stringHasPlaceholder = false;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (kind === 'json' && inString && ch === '\\') {
      text += ch + (template[i + 1] ?? '');
      i++;
      continue;
    }
    if (kind === 'json' && ch === '"') {
      if (inString && stringHasPlaceholder && /^\s*:/.test(template.slice(i + 1))) {
        throw new InvalidTargetInputError(
          where,
          'a placeholder cannot be used in an object key of InputTemplate',
        );
      }
      inString = !inString;
      stringHasPlaceholder = false;
      text += ch;
      continue;
    }
    const placeholder = ch === '<' ? PLACEHOLDER.exec(template.slice(i)) : null;
    if (placeholder === null) {
      text += ch;
      continue;
    }
    const name = placeholder[1]!;
    const mode: Mode = kind === 'text' ? 'raw' : inString ? 'json-string' : 'json-value';
    checkPlaceholder(name, mode, defined, where);
    if (text !== '') parts.push({ text });
    text = '';
    parts.push({ name, mode });
    if (inString) stringHasPlaceholder = true;
    i += placeholder[0].length - 1;
  }
  if (text !== '') parts.push({ text });
  return parts;
}

function checkPlaceholder(name: string, mode: Mode, defined: ReadonlySet<string>, where: string): void {
  const reserved = (Object.values(RESERVED) as string[]).includes(name);
  if (!reserved && !defined.has(name)) {
    throw new InvalidTargetInputError(
      where,
      `placeholder <${name}> is not defined; add "${name}" to InputPathsMap or use a reserved variable (${Object.values(RESERVED).join(', ')})`,
    );
  }
  if (JSON_ONLY.has(name) && mode !== 'json-value') {
    throw new InvalidTargetInputError(
      where,
      `<${name}> can only be used as the value of a JSON field (outside quotes in a JSON template)`,
    );
  }
}

function fill(parts: readonly Part[], lookup: (name: string) => unknown): string {
  let out = '';
  for (const part of parts) {
    if ('text' in part) {
      out += part.text;
      continue;
    }
    const value = lookup(part.name);
    if (part.mode === 'json-value') {
      out += value === undefined ? 'null' : JSON.stringify(value);
    } else {
      const text = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
      if (part.mode === 'raw') out += text;
      // Inside a quoted string an object or an array loses its inner quotes, as EventBridge does
      // ("Detail is <detail>" → "Detail is {key1:value1}"), so the string stays a string.
      else
        out += JSON.stringify(
          typeof value === 'object' && value !== null ? text.replaceAll('"', '') : text,
        ).slice(1, -1);
    }
  }
  return out;
}
