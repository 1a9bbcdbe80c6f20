import { ReboundError } from '../errors.ts';
import type { RuleConfig, TargetConfig } from './config.ts';
import { compilePattern, RuleIndex, type CompiledPattern } from './pattern/index.ts';
import { compileTargetInput, type CompiledTargetInput } from './transform/index.ts';

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

/** The rules in force: compiled once, indexed for matching, replaced whole on reload. */
export class RuleSet {
  private readonly index = new RuleIndex();
  readonly rules: ReadonlyMap<string, CompiledRule>;

  constructor(configs: readonly RuleConfig[]) {
    const rules = new Map<string, CompiledRule>();
    for (const [i, config] of configs.entries()) {
      if (rules.has(config.name)) {
        throw new ReboundError(
          'INVALID_CONFIG',
          `bus.rules[${i}].name: rule "${config.name}" is defined twice`,
        );
      }
      const ids = new Set<string>();
      const targets = config.targets.map((t, j) => {
        if (ids.has(t.id)) {
          throw new ReboundError(
            'INVALID_CONFIG',
            `bus.rules[${i}].targets[${j}].id: "${t.id}" is used twice in rule ${config.name}`,
          );
        }
        ids.add(t.id);
        return {
          name: `${config.name}/${t.id}`,
          config: t,
          input: compileTargetInput(t.input, `rule ${config.name} target ${t.id}`),
        };
      });
      let pattern: CompiledPattern;
      try {
        pattern = compilePattern(config.pattern);
      } catch (err) {
        throw new ReboundError(
          'INVALID_CONFIG',
          `bus.rules[${i}] (${config.name}).pattern: ${(err as Error).message}`,
          { cause: err },
        );
      }
      const rule = { name: config.name, enabled: config.enabled, pattern, targets, config };
      rules.set(config.name, rule);
      if (config.enabled) this.index.add(config.name, pattern);
    }
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
