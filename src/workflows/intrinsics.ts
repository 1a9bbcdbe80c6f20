import { createHash } from 'node:crypto';
import { intrinsicFailure, runtimeError, StatesError } from './errors.ts';
import { isJsonObject, type Json } from './types.ts';
import { evaluatePath, type PathScope } from './path.ts';
import { uuidFrom } from './random.ts';
import { deepEqual } from './equality.ts';

/**
 * The 18 intrinsic functions of the States Language, usable in `"key.$"` fields of JSONPath states.
 * Every misuse (wrong arity, wrong type, bad value) raises States.IntrinsicFailure naming the function.
 */

/**
 * A literal string's `template` is its text cut at its `{}` placeholders (an escaped `\{}` is text, not a
 * placeholder), for when it is States.Format's template.
 */
type Arg =
  | { kind: 'literal'; value: Json; template?: readonly string[] }
  | { kind: 'path'; path: string }
  | { kind: 'call'; call: Call };
interface Call {
  readonly name: string;
  readonly args: readonly Arg[];
}

export function isIntrinsicCall(value: string): boolean {
  return /^States\.[A-Za-z0-9]+\s*\(/.test(value);
}

const parsed = new Map<string, Call>();

/** Evaluates an intrinsic call expression such as `States.Format('{}', $.name)`. */
export function evaluateIntrinsic(expression: string, scope: PathScope): Json {
  return invoke(parse(expression), scope);
}

/** Why `expression` is not a well-formed intrinsic call, or undefined when it is (checked before a run). */
export function intrinsicSyntaxError(expression: string): string | undefined {
  try {
    parse(expression);
    return undefined;
  } catch (err) {
    return err instanceof StatesError ? err.cause_ : (err as Error).message;
  }
}

function parse(expression: string): Call {
  let call = parsed.get(expression);
  if (call === undefined) {
    const parser = new Parser(expression);
    call = parser.call();
    parser.end();
    parsed.set(expression, call);
  }
  return call;
}

class Parser {
  private i = 0;
  constructor(private readonly src: string) {}

  call(): Call {
    this.ws();
    const m = /^States\.[A-Za-z0-9]+/.exec(this.src.slice(this.i));
    if (!m) throw this.fail('expected an intrinsic function name');
    this.i += m[0].length;
    this.ws();
    this.expect('(');
    const args: Arg[] = [];
    this.ws();
    if (this.src[this.i] === ')') this.i += 1;
    else {
      for (;;) {
        args.push(this.arg());
        this.ws();
        const c = this.src[this.i++];
        if (c === ')') break;
        if (c !== ',') throw this.fail("expected ',' or ')'");
      }
    }
    return { name: m[0], args };
  }

  end(): void {
    this.ws();
    if (this.i !== this.src.length) throw this.fail('unexpected text after the call');
  }

  private arg(): Arg {
    this.ws();
    const rest = this.src.slice(this.i);
    if (rest.startsWith("'")) return { kind: 'literal', ...this.string() };
    if (rest.startsWith('States.')) return { kind: 'call', call: this.call() };
    if (rest.startsWith('$')) return { kind: 'path', path: this.path() };
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|null|true|false)/.exec(rest);
    if (!m) throw this.fail('expected a string, number, boolean, null, path or intrinsic');
    this.i += m[0].length;
    return { kind: 'literal', value: JSON.parse(m[0]) as Json };
  }

  /**
   * A quoted literal: its text, with the escapes `\'`, `\{`, `\}` and `\\` resolved, and that text cut at its
   * unescaped `{}` (see Arg). Any other backslash is an open escape, which Step Functions refuses.
   */
  private string(): { value: string; template: string[] } {
    let part = '';
    const template: string[] = [];
    this.i += 1;
    while (this.i < this.src.length) {
      const c = this.src[this.i]!;
      if (c === "'") {
        this.i += 1;
        template.push(part);
        return { value: template.join('{}'), template };
      }
      if (c === '\\') {
        const n = this.src[this.i + 1] ?? '';
        if (n === '' || !"'{}\\".includes(n))
          throw this.fail(`an open escape '\\${n}' (only \\', \\{, \\} and \\\\ are escapes)`);
        part += n;
        this.i += 2;
      } else if (c === '{' && this.src[this.i + 1] === '}') {
        template.push(part);
        part = '';
        this.i += 2;
      } else {
        part += c;
        this.i += 1;
      }
    }
    throw this.fail('unterminated string literal');
  }

  private path(): string {
    const start = this.i;
    let depth = 0;
    let quote: string | undefined;
    while (this.i < this.src.length) {
      const c = this.src[this.i]!;
      if (quote) {
        if (c === quote) quote = undefined;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === '[' || c === '(') depth += 1;
      else if (c === ']' || c === ')') {
        if (depth === 0) break;
        depth -= 1;
      } else if ((c === ',' || c === ' ') && depth === 0) break;
      this.i += 1;
    }
    return this.src.slice(start, this.i);
  }

  private ws(): void {
    while (this.src[this.i] === ' ') this.i += 1;
  }

  private expect(c: string): void {
    if (this.src[this.i] !== c) throw this.fail(`expected '${c}'`);
    this.i += 1;
  }

  private fail(what: string) {
    return intrinsicFailure(`invalid intrinsic function '${this.src}': ${what} at position ${this.i}`);
  }
}

function invoke(call: Call, scope: PathScope): Json {
  const args = call.args.map((a) => {
    switch (a.kind) {
      case 'literal':
        return a.value;
      case 'path': {
        const v = evaluatePath(a.path, scope);
        // AWS raises States.Runtime (not IntrinsicFailure) when an argument's path matches nothing.
        if (v === undefined)
          throw runtimeError(`${call.name}: the JSONPath '${a.path}' could not be found in the input`);
        return v;
      }
      case 'call':
        return invoke(a.call, scope);
    }
  });
  const impl = FUNCTIONS[call.name];
  if (!impl) throw intrinsicFailure(`'${call.name}' is not an intrinsic function`);
  const first = call.args[0];
  const template = first?.kind === 'literal' ? first.template : undefined;
  return impl(new Args(call.name, args, template), scope);
}

class Args {
  constructor(
    readonly fn: string,
    readonly values: Json[],
    /** The first argument cut at its placeholders, when it was written as a literal (see Arg). */
    readonly template?: readonly string[],
  ) {}
  arity(min: number, max = min): void {
    if (this.values.length < min || this.values.length > max) {
      const want = min === max ? `${min}` : `${min} to ${max}`;
      throw intrinsicFailure(`${this.fn} takes ${want} arguments, got ${this.values.length}`);
    }
  }
  string(i: number): string {
    const v = this.values[i];
    if (typeof v !== 'string') throw this.bad(i, 'a string');
    return v;
  }
  number(i: number): number {
    const v = this.values[i];
    if (typeof v !== 'number') throw this.bad(i, 'a number');
    return v;
  }
  integer(i: number): number {
    const v = this.number(i);
    if (!Number.isInteger(v)) throw this.bad(i, 'an integer');
    return v;
  }
  /**
   * A number rounded to the nearest integer, halves up (Java's Math.round, as is JavaScript's): what Step
   * Functions does with a decimal given to MathAdd or MathRandom, whose documentation asks for integers.
   */
  rounded(i: number): number {
    return Math.round(this.number(i));
  }
  array(i: number): Json[] {
    const v = this.values[i];
    if (!Array.isArray(v)) throw this.bad(i, 'an array');
    return v;
  }
  any(i: number): Json {
    return this.values[i] as Json;
  }
  private bad(i: number, what: string) {
    return intrinsicFailure(
      `${this.fn}: argument ${i + 1} must be ${what}, got ${JSON.stringify(this.values[i])}`,
    );
  }
}

const HASHES: Record<string, string> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

const FUNCTIONS: Record<string, (a: Args, scope: PathScope) => Json> = {
  'States.Format': (a) => format(a),
  'States.StringToJson': (a) => {
    a.arity(1);
    const text = a.string(0);
    if (text.trim() === '') return null; // as Step Functions answers "" and " "
    try {
      return JSON.parse(text) as Json;
    } catch (err) {
      throw intrinsicFailure(`States.StringToJson: ${(err as Error).message}`);
    }
  },
  'States.JsonToString': (a) => {
    a.arity(1);
    return JSON.stringify(a.any(0));
  },
  'States.Array': (a) => [...a.values],
  'States.ArrayPartition': (a) => {
    a.arity(2);
    const [array, size] = [a.array(0), a.integer(1)];
    if (size <= 0) throw intrinsicFailure('States.ArrayPartition: the chunk size must be greater than 0');
    const out: Json[] = [];
    for (let i = 0; i < array.length; i += size) out.push(array.slice(i, i + size));
    return out;
  },
  'States.ArrayContains': (a) => {
    a.arity(2);
    const needle = a.any(1);
    return a.array(0).some((item) => deepEqual(item, needle));
  },
  'States.ArrayRange': (a) => arrayRange(a),
  'States.ArrayGetItem': (a) => {
    a.arity(2);
    const [array, index] = [a.array(0), a.integer(1)];
    if (index < 0 || index >= array.length) {
      throw intrinsicFailure(`States.ArrayGetItem: index ${index} is out of bounds (length ${array.length})`);
    }
    return array[index]!;
  },
  'States.ArrayLength': (a) => {
    a.arity(1);
    return a.array(0).length;
  },
  'States.ArrayUnique': (a) => {
    a.arity(1);
    const out: Json[] = [];
    for (const item of a.array(0)) if (!out.some((o) => deepEqual(o, item))) out.push(item);
    return out;
  },
  'States.Base64Encode': (a) => {
    a.arity(1);
    const s = a.string(0);
    if (s.length > 10_000) throw intrinsicFailure('States.Base64Encode: the input exceeds 10,000 characters');
    return Buffer.from(s, 'utf8').toString('base64');
  },
  'States.Base64Decode': (a) => {
    a.arity(1);
    const s = a.string(0);
    if (s.length > 10_000) throw intrinsicFailure('States.Base64Decode: the input exceeds 10,000 characters');
    if (!isBase64(s)) throw intrinsicFailure('States.Base64Decode: the input is not base64');
    return Buffer.from(s, 'base64').toString('utf8');
  },
  'States.Hash': (a) => {
    a.arity(2);
    const data = a.any(0);
    const algorithm = HASHES[a.string(1)];
    if (!algorithm) {
      throw intrinsicFailure(`States.Hash: algorithm must be one of ${Object.keys(HASHES).join(', ')}`);
    }
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    if (text.length > 10_000) throw intrinsicFailure('States.Hash: the input exceeds 10,000 characters');
    return createHash(algorithm).update(text, 'utf8').digest('hex');
  },
  'States.JsonMerge': (a) => {
    a.arity(3);
    const [left, right, deep] = [a.any(0), a.any(1), a.any(2)];
    if (!isJsonObject(left) || !isJsonObject(right)) {
      throw intrinsicFailure('States.JsonMerge: the first two arguments must be JSON objects');
    }
    if (deep !== false) throw intrinsicFailure('States.JsonMerge: only shallow merge (false) is supported');
    return { ...left, ...right };
  },
  'States.MathRandom': (a, scope) => {
    a.arity(2, 3);
    const [start, end] = [a.rounded(0), a.rounded(1)];
    if (end <= start) throw intrinsicFailure('States.MathRandom: the end must be greater than the start');
    const rand = a.values.length === 3 ? seeded(a.rounded(2)) : scope.random();
    return start + Math.floor(rand * (end - start));
  },
  'States.MathAdd': (a) => {
    a.arity(2);
    return a.rounded(0) + a.rounded(1);
  },
  'States.StringSplit': (a) => {
    a.arity(2);
    const [text, delimiters] = [a.string(0), a.string(1)];
    if (delimiters === '') return [text];
    // Every character of the second argument is a delimiter (AWS's documented example splits on ".+,=").
    const chars = new Set(delimiters);
    const out: string[] = [];
    let current = '';
    for (const c of text) {
      if (chars.has(c)) {
        out.push(current);
        current = '';
      } else current += c;
    }
    out.push(current);
    return out.filter((s) => s !== '');
  },
  'States.UUID': (a, scope) => {
    a.arity(0);
    return uuidFrom(() => scope.random());
  },
};

/**
 * Base64 as Java's decoder (Step Functions') takes it: padding is optional, but where present it must complete
 * the last group of four, and a last group of one character is not base64 (Node would decode it to nothing).
 */
function isBase64(s: string): boolean {
  const m = /^([A-Za-z0-9+/]*)(=*)$/.exec(s);
  if (!m) return false;
  const rest = m[1]!.length % 4;
  const padding = m[2]!.length;
  if (rest === 1) return false;
  return padding === 0 || (rest === 2 && padding === 2) || (rest === 3 && padding === 1);
}

function format(a: Args): Json {
  if (a.values.length < 1) throw intrinsicFailure('States.Format takes a template string and its arguments');
  // Escapes belong to the call as written: a template read from the input is its text, every {} a placeholder.
  const parts = a.template ?? a.string(0).split('{}');
  const values = a.values.slice(1);
  if (parts.length - 1 > values.length)
    throw intrinsicFailure('States.Format: more {} placeholders than arguments');
  if (parts.length - 1 < values.length)
    throw intrinsicFailure('States.Format: more arguments than {} placeholders');
  let out = parts[0]!;
  for (let i = 1; i < parts.length; i += 1) out += formatted(values[i - 1]!) + parts[i]!;
  return out;
}

/**
 * A States.Format argument as Step Functions writes it: strings as they are, and objects and arrays the way
 * Java prints maps and lists (`{Arg1=1, Arg2=[]}`), which is what its executions produce.
 */
function formatted(v: Json): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(formatted).join(', ')}]`;
  if (typeof v === 'object' && v !== null)
    return `{${Object.entries(v)
      .map(([k, item]) => `${k}=${formatted(item)}`)
      .join(', ')}}`;
  return JSON.stringify(v);
}

function arrayRange(a: Args): Json {
  a.arity(3);
  const [start, end, step] = [a.integer(0), a.integer(1), a.integer(2)];
  if (step === 0) throw intrinsicFailure('States.ArrayRange: the step must not be 0');
  const out: number[] = [];
  for (let v = start; step > 0 ? v <= end : v >= end; v += step) {
    out.push(v);
    if (out.length > 1000) throw intrinsicFailure('States.ArrayRange: the result exceeds 1,000 items');
  }
  return out;
}

function seeded(seed: number): number {
  let x = (seed ^ 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return ((x ^ (x >>> 16)) >>> 0) / 4294967296;
}
