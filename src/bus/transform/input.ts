import { z } from 'zod';
import { InvalidTargetInputError } from './errors.ts';
import { compileEventPath, type EventPath } from './jsonpath.ts';
import { compileTemplate, MAX_TEMPLATE_LENGTH, RESERVED } from './template.ts';

/** EventBridge allows at most 100 InputPathsMap variables. */
export const MAX_VARIABLES = 100;

const VARIABLE_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * How a target's input is derived from the event, with EventBridge's field names so target settings can be
 * pasted from AWS. At most one of the three; none means the whole event.
 */
export const targetInputSchema = z
  .object({
    Input: z.string().min(1).max(MAX_TEMPLATE_LENGTH).optional(),
    InputPath: z.string().min(1).max(256).optional(),
    InputTransformer: z
      .object({
        InputPathsMap: z.record(z.string(), z.string()).optional(),
        InputTemplate: z.string().min(1).max(MAX_TEMPLATE_LENGTH),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine(
    (spec) => [spec.Input, spec.InputPath, spec.InputTransformer].filter((v) => v !== undefined).length <= 1,
    {
      message: 'set at most one of Input, InputPath and InputTransformer',
    },
  );

export type TargetInputSpec = z.infer<typeof targetInputSchema>;

/** What a delivery knows besides the event, for the reserved template variables. */
export interface TransformContext {
  readonly ruleName: string;
  /** Defaults to `rebound:rule/<ruleName>` (Rebound rules have no AWS ARN). */
  readonly ruleArn?: string;
  /** ISO 8601 time the bus accepted the event; defaults to the event's `time`. */
  readonly ingestionTime?: string;
}

/** The input a target receives: `value` as JSON for programmatic targets, `body` as the exact text to send. */
export interface TargetInput {
  readonly value: unknown;
  readonly body: string;
}

export interface CompiledTargetInput {
  readonly kind: 'event' | 'constant' | 'path' | 'transformer';
  apply(event: unknown, context: TransformContext): TargetInput;
}

/** Validates a target's input setting once, when rules load, and returns its transformation. */
export function compileTargetInput(spec: TargetInputSpec | undefined, where = 'target'): CompiledTargetInput {
  const parsed = targetInputSchema.safeParse(spec ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length === 0 ? where : `${where}.${issue.path.join('.')}`;
    throw new InvalidTargetInputError(at, issue.message);
  }
  const { Input, InputPath, InputTransformer } = parsed.data;
  if (Input !== undefined) return constantInput(Input, `${where}.Input`);
  if (InputPath !== undefined) return pathInput(compileEventPath(InputPath, `${where}.InputPath`));
  if (InputTransformer !== undefined) {
    return transformerInput(InputTransformer.InputPathsMap ?? {}, InputTransformer.InputTemplate, where);
  }
  return { kind: 'event', apply: (event) => ({ value: event, body: JSON.stringify(event) }) };
}

function constantInput(text: string, where: string): CompiledTargetInput {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidTargetInputError(where, `Input must be valid JSON text (${(err as Error).message})`);
  }
  return { kind: 'constant', apply: () => ({ value, body: text }) };
}

// A path that selects nothing yields null rather than failing the delivery: the event is still worth sending.
function pathInput(path: EventPath): CompiledTargetInput {
  return {
    kind: 'path',
    apply(event) {
      const value = path.select(event) ?? null;
      return { value, body: JSON.stringify(value) };
    },
  };
}

function transformerInput(map: Record<string, string>, template: string, where: string): CompiledTargetInput {
  const names = Object.keys(map);
  if (names.length > MAX_VARIABLES) {
    throw new InvalidTargetInputError(
      `${where}.InputTransformer.InputPathsMap`,
      `at most ${MAX_VARIABLES} variables`,
    );
  }
  const paths = new Map<string, EventPath>();
  for (const name of names) {
    const at = `${where}.InputTransformer.InputPathsMap.${name}`;
    if (!VARIABLE_NAME.test(name)) {
      // Dots are excluded, which also keeps every name clear of the reserved aws.events.* variables.
      throw new InvalidTargetInputError(at, 'variable names may use only letters, digits, "-" and "_"');
    }
    paths.set(name, compileEventPath(map[name]!, at));
  }
  const compiled = compileTemplate(template, new Set(names), `${where}.InputTransformer.InputTemplate`);
  return {
    kind: 'transformer',
    apply(event, context) {
      return compiled.render((name) => {
        const path = paths.get(name);
        return path !== undefined ? path.select(event) : reservedValue(name, event, context);
      });
    },
  };
}

function reservedValue(name: string, event: unknown, context: TransformContext): unknown {
  switch (name) {
    case RESERVED.ruleName:
      return context.ruleName;
    case RESERVED.ruleArn:
      return context.ruleArn ?? `rebound:rule/${context.ruleName}`;
    case RESERVED.ingestionTime:
      return context.ingestionTime ?? eventField(event, 'time');
    case RESERVED.eventJson:
      return event;
    case RESERVED.event:
      return withoutDetail(event);
    default:
      return undefined;
  }
}

function eventField(event: unknown, key: string): unknown {
  return typeof event === 'object' && event !== null && !Array.isArray(event)
    ? (event as Record<string, unknown>)[key]
    : undefined;
}

// <aws.events.event> is the envelope without its detail (AWS documents it so); <aws.events.event.json> is whole.
function withoutDetail(event: unknown): unknown {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return event;
  const copy: Record<string, unknown> = { ...(event as Record<string, unknown>) };
  delete copy['detail'];
  return copy;
}
