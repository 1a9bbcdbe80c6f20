import { describe, expect, it } from 'vitest';
import { ReboundError } from '../../src/errors.ts';
import { errorBudget, parseSloFile } from '../../src/slo/definition.ts';
import { BURN_WINDOWS, burnRateFactor, recordedWindows } from '../../src/slo/burn-rate.ts';
import { describeMinutes, formatMinutes, parseDurationMinutes } from '../../src/slo/duration.ts';

const VALID = `
slos:
  - name: api-availability
    objective: 99.9
    sli:
      error: sum(rate(http_requests_total{status=~"5.."}[{{window}}]))
      total: sum(rate(http_requests_total[{{window}}]))
`;

function invalid(text: string): ReboundError {
  try {
    parseSloFile(text, 'slo.yaml');
  } catch (err) {
    if (err instanceof ReboundError) return err;
    throw err;
  }
  throw new Error('expected the SLO file to be rejected');
}

const withSlo = (fields: string) => `slos:\n  - ${fields.trim().split('\n').join('\n    ')}\n`;
const base = `name: a
objective: 99.9
sli:
  error: x[{{window}}]
  total: y[{{window}}]`;

describe('parseSloFile', () => {
  it('fills defaults: a 30d window, ErrorBudgetBurn, critical pages and warning tickets', () => {
    const [slo] = parseSloFile(VALID);
    expect(slo).toMatchObject({
      name: 'api-availability',
      objective: 99.9,
      window: '30d',
      windowMinutes: 30 * 24 * 60,
      labels: {},
      alerting: {
        name: 'ErrorBudgetBurn',
        pageLabels: { severity: 'critical' },
        ticketLabels: { severity: 'warning' },
        annotations: {},
      },
    });
  });

  it.each([
    ['not: [valid', /slo.yaml is not valid YAML/],
    ['slos: []', /slos: list at least one SLO/],
    ['42', /slo.yaml: \(top level\): /],
    ['other: 1', /slo.yaml: slos: Invalid input: expected array/],
    [withSlo(base.replace('99.9', '100')), /slos\[0\]\.objective: /],
    [withSlo(base.replace('99.9', '"99.9"')), /slos\[0\]\.objective: /],
    [withSlo(base.replace('name: a', 'name: Bad Name')), /slos\[0\]\.name: must be lower-case/],
    [withSlo(base.replace('x[{{window}}]', 'x[5m]')), /slos\[0\]\.sli\.error: must contain \{\{window\}\}/],
    [
      withSlo(base + '\n  good: z[{{window}}]'),
      /slos\[0\]\.sli: give exactly one of sli\.error or sli\.good/,
    ],
    [withSlo(base.replace('  error: x[{{window}}]\n', '')), /exactly one of sli\.error or sli\.good/],
    [withSlo(base + '\nwindow: 30 days'), /slos\[0\]\.window: "30 days" is not a duration like 28d or 4w/],
    [withSlo(base + '\nwindow: 1d'), /slos\[0\]\.window: must be at least 3d/],
    [withSlo(base + '\nlabels: {slo: x}'), /slos\[0\]\.labels: label slo is set by the generator/],
    [withSlo(base + '\nlabels: {"bad-label": x}'), /slos\[0\]\.labels\.bad-label: /],
    [withSlo(base + '\nunknown: 1'), /slos\[0\]: Unrecognized key: "unknown"/],
    [
      withSlo(base.replace('99.9', '90')),
      /objective: 90% leaves a 10% error budget; burning it 14\.4× .* above 93\.06%/,
    ],
  ])('rejects %j with a message that names the path', (text, message) => {
    const err = invalid(text);
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toMatch(message);
  });

  it('rejects two SLOs with the same name', () => {
    const text = `slos:\n  - ${base.split('\n').join('\n    ')}\n  - ${base.split('\n').join('\n    ')}\n`;
    expect(invalid(text).message).toMatch(/slos\[1\]\.name: SLO a is defined twice/);
    expect(invalid(text).path).toBe('slos[1].name');
  });
});

describe('burn-rate arithmetic', () => {
  it('gives the workbook factors for a 30-day window', () => {
    expect(BURN_WINDOWS.map((w) => burnRateFactor(w, 30 * 24 * 60))).toEqual([14.4, 6, 3, 1]);
  });

  it('scales the factors with the SLO window', () => {
    expect(BURN_WINDOWS.map((w) => burnRateFactor(w, 28 * 24 * 60))).toEqual([13.44, 5.6, 2.8, 0.9333]);
  });

  it('records every window once, shortest first', () => {
    expect(recordedWindows(30 * 24 * 60).map(formatMinutes)).toEqual([
      '5m',
      '30m',
      '1h',
      '2h',
      '6h',
      '1d',
      '3d',
      '30d',
    ]);
    expect(recordedWindows(3 * 24 * 60).map(formatMinutes)).toEqual([
      '5m',
      '30m',
      '1h',
      '2h',
      '6h',
      '1d',
      '3d',
    ]);
  });

  it('computes the error budget without binary noise', () => {
    expect(errorBudget(99.9)).toBe(0.001);
    expect(errorBudget(99.95)).toBe(0.0005);
    expect(errorBudget(99)).toBe(0.01);
  });
});

describe('durations', () => {
  it('parses and formats the units SLO windows use', () => {
    expect(parseDurationMinutes('5m')).toBe(5);
    expect(parseDurationMinutes('6h')).toBe(360);
    expect(parseDurationMinutes('4w')).toBe(4 * 7 * 24 * 60);
    expect(parseDurationMinutes('0d')).toBeUndefined();
    expect(parseDurationMinutes('1.5h')).toBeUndefined();
    expect(formatMinutes(60 * 24 * 7)).toBe('1w');
    expect(formatMinutes(90)).toBe('90m');
    expect(describeMinutes(50 * 60)).toBe('2d 2h');
    expect(describeMinutes(45)).toBe('45m');
    expect(describeMinutes(0)).toBe('0m');
  });
});
