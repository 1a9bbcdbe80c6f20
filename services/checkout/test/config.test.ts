import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseCheckoutEnv } from '../src/config.ts';

function problems(env: Record<string, string>): readonly string[] {
  try {
    parseCheckoutEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseCheckoutEnv', () => {
  it('has safe defaults: loopback, port 8081, no chaos, no flag source', () => {
    const config = parseCheckoutEnv({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8081,
      chaos: {
        errorRate: 0,
        latencyMs: 0,
        latencyJitterMs: 0,
        degradedMode: false,
        readinessFailing: false,
        maxConcurrency: 0,
      },
      pollIntervalMs: 1000,
      adminToken: undefined,
      version: 'dev',
      podName: hostname(),
      logger: { level: 'info' },
      flagSource: undefined,
    });
  });

  it('reads the chaos knobs, with ±20 % jitter by default', () => {
    const config = parseCheckoutEnv({
      HOST: '0.0.0.0',
      PORT: '0',
      ERROR_RATE: '0.3',
      LATENCY_MS: '500',
      DEGRADED_MODE: 'yes',
      READINESS_FAILING: 'false',
      ADMIN_TOKEN: 't',
      SERVICE_VERSION: '2.0.0',
      POD_NAME: 'checkout-1',
      LOG_LEVEL: 'silent',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 0,
      chaos: { errorRate: 0.3, latencyMs: 500, latencyJitterMs: 100, degradedMode: true },
      adminToken: 't',
      version: '2.0.0',
      podName: 'checkout-1',
      logger: false,
    });
    expect(parseCheckoutEnv({ LATENCY_MS: '500', LATENCY_JITTER_MS: '0' }).chaos?.latencyJitterMs).toBe(0);
  });

  it('lists every bad variable with what it accepts', () => {
    const found = problems({
      ERROR_RATE: '30%',
      LATENCY_MS: '1.5',
      PORT: '70000',
      DEGRADED_MODE: 'maybe',
      LOG_LEVEL: 'loud',
      CONFIG_POLL_INTERVAL_MS: '1',
    });
    expect(found).toHaveLength(6);
    expect(found[0]).toBe('LATENCY_MS=1.5: expected an integer from 0 to 60000');
    expect(found.join('\n')).toMatch(/ERROR_RATE=30%: expected a number from 0 to 1/);
    expect(found.join('\n')).toMatch(/DEGRADED_MODE holds "maybe"/);
    expect(found.join('\n')).toMatch(/LOG_LEVEL=loud/);
    expect(() => parseCheckoutEnv({ PORT: 'x' })).toThrow(/invalid checkout configuration:\n {2}- PORT=x/);
  });

  it('builds a file flag source from DEGRADED_MODE_FILE', () => {
    expect(parseCheckoutEnv({ DEGRADED_MODE_FILE: '/etc/checkout/degraded_mode' }).flagSource?.name).toBe(
      'file:/etc/checkout/degraded_mode',
    );
  });

  it('builds a ConfigMap flag source from the Kubernetes API settings', () => {
    const config = parseCheckoutEnv({
      KUBERNETES_API_URL: 'http://127.0.0.1:6443',
      CONFIGMAP_NAME: 'checkout-flags',
      POD_NAMESPACE: 'shop',
    });
    expect(config.flagSource?.name).toBe('configmap:shop/checkout-flags#degraded_mode');
    const explicit = parseCheckoutEnv({
      KUBERNETES_API_URL: 'https://kubernetes.default.svc',
      CONFIGMAP_NAME: 'f',
      CONFIGMAP_NAMESPACE: 'n',
      CONFIGMAP_KEY: 'k',
    });
    expect(explicit.flagSource?.name).toBe('configmap:n/f#k');
    expect(parseCheckoutEnv({ KUBERNETES_API_URL: 'http://x', CONFIGMAP_NAME: 'f' }).flagSource?.name).toBe(
      'configmap:default/f#degraded_mode',
    );
  });

  it('refuses ambiguous or incomplete flag sources', () => {
    expect(
      problems({ DEGRADED_MODE_FILE: '/f', CONFIGMAP_NAME: 'c', KUBERNETES_API_URL: 'http://x' })[0],
    ).toMatch(/not both/);
    expect(problems({ CONFIGMAP_NAME: 'c' })[0]).toMatch(/needs KUBERNETES_API_URL/);
    expect(problems({ CONFIGMAP_NAME: 'c', KUBERNETES_API_URL: 'kubernetes:443' })[0]).toMatch(
      /needs KUBERNETES_API_URL/,
    );
  });
});
