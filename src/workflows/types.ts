/** The Amazon States Language as the interpreter reads it (validation has already checked the shape). */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type QueryLanguage = 'JSONPath' | 'JSONata';

export type StateType = 'Pass' | 'Task' | 'Choice' | 'Wait' | 'Succeed' | 'Fail' | 'Parallel' | 'Map';

export interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: 'FULL' | 'NONE';
}

export interface Catcher {
  readonly ErrorEquals: readonly string[];
  readonly Next: string;
  readonly ResultPath?: string | null;
  readonly Output?: Json;
  readonly Assign?: Json;
}

export interface ChoiceRule {
  readonly Next?: string;
  readonly Condition?: string | boolean;
  readonly Variable?: string;
  readonly And?: readonly ChoiceRule[];
  readonly Or?: readonly ChoiceRule[];
  readonly Not?: ChoiceRule;
  readonly Assign?: Json;
  readonly Output?: Json;
  readonly [operator: string]: unknown;
}

/** Every field any state type may carry; each state reads the ones its type defines. */
export interface StateDefinition {
  readonly Type: StateType;
  readonly Comment?: string;
  readonly QueryLanguage?: QueryLanguage;
  readonly Next?: string;
  readonly End?: boolean;
  readonly InputPath?: string | null;
  readonly OutputPath?: string | null;
  readonly ResultPath?: string | null;
  readonly Parameters?: Json;
  readonly ResultSelector?: Json;
  readonly Arguments?: Json;
  readonly Output?: Json;
  readonly Assign?: Json;
  readonly Result?: Json;
  readonly Resource?: string;
  readonly TimeoutSeconds?: number | string;
  readonly TimeoutSecondsPath?: string;
  readonly HeartbeatSeconds?: number | string;
  readonly HeartbeatSecondsPath?: string;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
  readonly Choices?: readonly ChoiceRule[];
  readonly Default?: string;
  readonly Seconds?: number | string;
  readonly SecondsPath?: string;
  readonly Timestamp?: string;
  readonly TimestampPath?: string;
  readonly Error?: string;
  readonly ErrorPath?: string;
  readonly Cause?: string;
  readonly CausePath?: string;
  readonly Branches?: readonly MachineDefinition[];
  readonly ItemsPath?: string;
  readonly Items?: Json;
  readonly ItemSelector?: Json;
  readonly ItemProcessor?: MachineDefinition;
  readonly Iterator?: MachineDefinition;
  readonly MaxConcurrency?: number | string;
  readonly MaxConcurrencyPath?: string;
  readonly ToleratedFailureCount?: number | string;
  readonly ToleratedFailureCountPath?: string;
  readonly ToleratedFailurePercentage?: number | string;
  readonly ToleratedFailurePercentagePath?: string;
  readonly ItemReader?: Json;
  readonly ResultWriter?: Json;
  readonly ItemBatcher?: Json;
}

export interface MachineDefinition {
  readonly Comment?: string;
  readonly StartAt: string;
  readonly States: Readonly<Record<string, StateDefinition>>;
  readonly TimeoutSeconds?: number;
  readonly Version?: string;
  readonly QueryLanguage?: QueryLanguage;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The language a state evaluates in: its own, else the machine's (inherited into branches), else JSONPath. */
export function languageOf(state: StateDefinition, inherited: QueryLanguage): QueryLanguage {
  return state.QueryLanguage ?? inherited;
}
