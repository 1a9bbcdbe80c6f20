import { hostname } from 'node:os';
import { configMapFlagSource, fileFlagSource, parseFlag } from './flag-source.ts';
import type { FlagSource } from './flag-source.ts';
import type { CheckoutServerOptions } from './server.ts';

/**
 * Environment → server options, validated once at start. The environment is passed in (never read here) so
 * the parsing is tested with plain objects. Every problem names the variable and what it accepts.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid checkout configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export interface CheckoutConfig extends CheckoutServerOptions {
  readonly host: string;
  readonly port: number;
}

/** Documented in docs/monitoring.md; keep the two in step. */
export function parseCheckoutEnv(env: Env): CheckoutConfig {
  const problems: string[] = [];
  const num = (name: string, fallback: number, min: number, max: number, integer: boolean): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      problems.push(`${name}=${raw}: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const flag = (name: string): boolean => {
    const raw = env[name];
    if (raw === undefined) return false;
    try {
      return parseFlag(raw, name);
    } catch (err) {
      problems.push((err as Error).message);
      return false;
    }
  };

  const latencyMs = num('LATENCY_MS', 0, 0, 60_000, true);
  const config: CheckoutConfig = {
    host: env['HOST'] || '127.0.0.1',
    port: num('PORT', 8081, 0, 65_535, true),
    chaos: {
      errorRate: num('ERROR_RATE', 0, 0, 1, false),
      latencyMs,
      // Default jitter of ±20 % so injected latency looks like a real slow dependency, not a flat line.
      latencyJitterMs: num('LATENCY_JITTER_MS', Math.round(latencyMs * 0.2), 0, 60_000, true),
      degradedMode: flag('DEGRADED_MODE'),
      readinessFailing: flag('READINESS_FAILING'),
      maxConcurrency: num('MAX_CONCURRENCY', 0, 0, 10_000, true),
    },
    pollIntervalMs: num('CONFIG_POLL_INTERVAL_MS', 1000, 50, 3_600_000, true),
    adminToken: env['ADMIN_TOKEN'] || undefined,
    version: env['SERVICE_VERSION'] || 'dev',
    podName: env['POD_NAME'] || hostname(),
    logger: loggerOption(env['LOG_LEVEL'], problems),
    flagSource: flagSource(env, problems),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

function loggerOption(raw: string | undefined, problems: string[]): CheckoutConfig['logger'] {
  const level = raw || 'info';
  if (level === 'silent') return false;
  if (!LEVELS.includes(level)) {
    problems.push(`LOG_LEVEL=${level}: expected silent or one of ${LEVELS.join(', ')}`);
    return false;
  }
  return { level };
}

function flagSource(env: Env, problems: string[]): FlagSource | undefined {
  const file = env['DEGRADED_MODE_FILE'] || undefined;
  const configMap = env['CONFIGMAP_NAME'] || undefined;
  const apiUrl = env['KUBERNETES_API_URL'] || undefined;
  if (file && configMap) {
    problems.push('set DEGRADED_MODE_FILE (mounted ConfigMap) or CONFIGMAP_NAME (Kubernetes API), not both');
    return undefined;
  }
  if (file) return fileFlagSource(file);
  if (!configMap) return undefined;
  if (!apiUrl || !/^https?:\/\//.test(apiUrl)) {
    problems.push(
      'CONFIGMAP_NAME needs KUBERNETES_API_URL=http(s)://<api server> to read the ConfigMap from',
    );
    return undefined;
  }
  return configMapFlagSource({
    apiUrl,
    namespace: env['CONFIGMAP_NAMESPACE'] || env['POD_NAMESPACE'] || 'default',
    name: configMap,
    key: env['CONFIGMAP_KEY'] || 'degraded_mode',
    tokenFile: env['KUBERNETES_TOKEN_FILE'] || undefined,
    token: env['KUBERNETES_TOKEN'] || undefined,
  });
}
