import { describe, expect, it } from 'vitest';
import { baseMetricName, metricNames } from './promql-metrics.ts';

describe('metricNames', () => {
  it.each([
    ['up{job="rebound"} == 0', ['up']],
    [
      'histogram_quantile(0.95, sum by (namespace, le) (rate(http_request_duration_seconds_bucket{route="/x"}[5m]))) > 0.5',
      ['http_request_duration_seconds_bucket'],
    ],
    ['sum(rate(a_total[$__rate_interval])) / on (job) group_left(instance) b', ['a_total', 'b']],
    ['label_replace(x, "deployment", "$1", "pod", "(.+)-[a-z]+")', ['x']],
    [
      'slo:sli_error:ratio_rate1h{slo="a"} > (14.4 * 0.001) and slo:sli_error:ratio_rate5m > 1e3',
      ['slo:sli_error:ratio_rate1h', 'slo:sli_error:ratio_rate5m'],
    ],
    ['absent(up{job="checkout"} == 1)', ['up']],
    ['vector(0.999)', []],
    ['max by (scope) (rebound_guard_breaker_open) offset 5m', ['rebound_guard_breaker_open']],
  ])('%s', (expr, names) => {
    expect([...metricNames(expr)].sort()).toEqual([...names].sort());
  });

  it('maps histogram series to their histogram', () => {
    expect(baseMetricName('x_seconds_bucket')).toBe('x_seconds');
    expect(baseMetricName('x_seconds_count')).toBe('x_seconds');
    expect(baseMetricName('x_total')).toBe('x_total');
  });
});
