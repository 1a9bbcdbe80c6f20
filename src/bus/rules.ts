import { ReboundError } from '../errors.ts';
import type { RuleConfig, TargetConfig } from './config.ts';
import {
  compilePattern,
  InvalidEventPatternError,
  RuleIndex,
  type CompiledPattern,
} from './pattern/index.ts';
import { compileTargetInput, InvalidTargetInputError, type CompiledTargetInput } from './transform/index.ts';

export interface CompiledTarget {
  /** `<rule>/<target id>`. */
  readonly name: string;
  readonly config: TargetConfig;
  readonly input: CompiledTargetInput;
}

export interface CompiledRule {
  readonly name: string;
  readonly enabled: boolean;
  readonly pattern: CompiledPattern;
  readonly targets: readonly CompiledTarget[];
  readonly config: RuleConfig;
}

/**
 * Why a rule cannot load, at a key path relative to what was checked: the rule for `ruleProblems`
 * (`['targets', 1, 'input', 'InputPath']`), the list for `duplicateNames` (`[2, 'name']`).
 */
export interface RuleProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** The rules in force: compiled once, indexed for matching, replaced whole on reload. */
export class RuleSet {
  private readonly index = new RuleIndex();
  readonly rules: ReadonlyMap<string, CompiledRule>;

  /** Throws INVALID_CONFIG listing every problem (`bus.rules[i]...: reason`), like the configuration check. */
  constructor(configs: readonly RuleConfig[]) {
    const problems = duplicateNames(configs);
    const rules = new Map<string, CompiledRule>();
    for (const [i, config] of configs.entries()) {
      const compiled = compileRule(config);
      problems.push(...compiled.problems.map((p) => ({ path: [i, ...p.path], message: p.message })));
      if (compiled.rule && !rules.has(config.name)) rules.set(config.name, compiled.rule);
    }
    if (problems.length > 0) {
      const lines = problems.map((p) => `  - ${rulePath(p.path)}: ${p.message}`);
      throw new ReboundError('INVALID_CONFIG', `bus.rules are invalid:\n${lines.join('\n')}`, {
        details: problems.map((p) => ({ path: rulePath(p.path), message: p.message })),
      });
    }
    for (const rule of rules.values()) if (rule.enabled) this.index.add(rule.name, rule.pattern);
    this.rules = rules;
  }

  /** The enabled rules whose pattern matches the event, in configured order. */
  match(envelope: unknown): CompiledRule[] {
    return this.index.match(envelope).map((name) => this.rules.get(name)!);
  }

  targets(): CompiledTarget[] {
    return [...this.rules.values()].flatMap((r) => r.targets);
  }
}

/** Everything `RuleSet` refuses in one rule (pattern, target ids, target inputs), every problem at once. */
export function ruleProblems(config: RuleConfig): RuleProblem[] {
  return compileRule(config).problems;
}

/** Rule names used twice, at the later use (relative to the list). */
export function duplicateNames(configs: readonly RuleConfig[]): RuleProblem[] {
  const first = new Map<string, number>();
  const problems: RuleProblem[] = [];
  for (const [i, { name }] of configs.entries()) {
    const at = first.get(name);
    if (at === undefined) first.set(name, i);
    else
      problems.push({
        path: [i, 'name'],
        message: `rule "${name}" is already defined at bus.rules[${at}]; give each rule its own name`,
      });
  }
  return problems;
}

function compileRule(config: RuleConfig): { rule?: CompiledRule; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  const ids = new Map<string, number>();
  const targets: CompiledTarget[] = [];
  for (const [j, target] of config.targets.entries()) {
    const at = ids.get(target.id);
    if (at === undefined) ids.set(target.id, j);
    else
      problems.push({
        path: ['targets', j, 'id'],
        message: `"${target.id}" is already the id of targets[${at}]; ids must be unique within a rule`,
      });
    try {
      const input = compileTargetInput(target.input, 'input');
      targets.push({ name: `${config.name}/${target.id}`, config: target, input });
    } catch (err) {
      if (!(err instanceof InvalidTargetInputError)) throw err;
      problems.push({ path: ['targets', j, ...subPath(err.path)], message: err.reason });
    }
  }
  let pattern: CompiledPattern | undefined;
  try {
    pattern = compilePattern(config.pattern);
  } catch (err) {
    if (!(err instanceof InvalidEventPatternError)) throw err;
    problems.push({ path: ['pattern', ...subPath(err.path)], message: err.reason });
  }
  if (problems.length > 0 || pattern === undefined) return { problems };
  return { rule: { name: config.name, enabled: config.enabled, pattern, targets, config }, problems };
}

// Pattern and input errors name their place as dotted text (`detail.state[0]`); it is kept as written.
function subPath(path: string | undefined): string[] {
  return path ? path.split('.') : [];
}

function rulePath(path: readonly (string | number)[]): string {
  return ['bus', 'rules', ...path]
    .map((p) => (typeof p === 'number' ? `[${p}]` : p))
    .join('.')
    .replace(/\.\[/g, '[');
}
