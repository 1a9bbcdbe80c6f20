// `npm run bench -- mttr [scenario...] [--runs N]`: the demo loop with real Prometheus and Alertmanager, timed.
// For each scenario, the median over N runs (default 5) of: fault → firing webhook, webhook → first
// remediation call (the first write the Kubernetes stand-in receives), fault → first remediation, and
// fault → incident resolved (verified). Targets: fault → remediation ≤ 3 s, fault → verified resolved ≤ 15 s.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/demo/checkout-runtime.ts';
import { runLoop } from '../src/demo/loop.ts';
import { readSearchPath } from '../src/config/cli-env.ts';
import { findBinaries, INSTALL_HINT } from '../src/demo/monitoring.ts';
import { restoreShop, SCENARIO_DEFINITIONS, SCENARIOS, type ScenarioName } from '../src/demo/scenarios.ts';
import { DemoStack } from '../src/demo/stack.ts';
import { DEFAULT_RUNBOOK_ROUTES } from '../src/incidents/runbook-routing.ts';
import { fmt, line, median } from './_stats.ts';

export async function run(args: string[]): Promise<void> {
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
  const named = args.filter((a, i) => !a.startsWith('--') && (runsAt < 0 || i !== runsAt + 1));
  const scenarios = (named.length > 0 ? named : [...SCENARIOS]) as ScenarioName[];
  for (const s of scenarios)
    if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; one of ${SCENARIOS.join(', ')}`);
  const binaries = findBinaries({ path: readSearchPath() });
  if (!binaries) {
    process.stderr.write(`Prometheus and Alertmanager are needed: ${INSTALL_HINT}\n`);
    process.exitCode = 1;
    return;
  }

  const dir = mkdtempSync(join(tmpdir(), 'rebound-bench-mttr-'));
  const stack = new DemoStack({
    dir,
    binaries,
    runbooksDir: join(REPO_ROOT, 'runbooks'),
    // The high-latency runbook scales back after a quiet period; shorten it so each loop ends cleanly.
    configOverrides: {
      incidents: {
        runbooks: {
          routes: DEFAULT_RUNBOOK_ROUTES.map((r) => ({
            ...r,
            parameters: { ...r.parameters, quietPeriodSeconds: 1 },
          })),
        },
      },
    },
  });
  process.stdout.write(`starting the demo stack in ${dir} ...\n`);
  try {
    await stack.start();
    process.stdout.write(
      `\nmttr: ${runs} runs per scenario, medians (node: the approval is given through the API at once)\n\n`,
    );
    const summary: { scenario: string; remediation: number; resolved: number }[] = [];
    for (const name of scenarios) {
      const scenario = SCENARIO_DEFINITIONS[name];
      const firing: number[] = [];
      const toRemediation: number[] = [];
      const webhookToRemediation: number[] = [];
      const resolved: number[] = [];
      for (let i = 0; i < runs; i++) {
        await restoreShop(stack);
        await stack.waitHealthy();
        const result = await runLoop(stack, scenario, { autoApprove: true, timeoutMs: 120_000 });
        const { firingAfterMs: f, firstRemediationAfterMs: r, resolvedAfterMs: v } = result;
        process.stdout.write(
          `  ${name} run ${i + 1}: ${result.outcome}; firing ${f ?? '-'} ms, first remediation ${r ?? '-'} ms, resolved ${v ?? '-'} ms\n`,
        );
        if (f !== undefined) firing.push(f);
        if (r !== undefined) toRemediation.push(r);
        if (f !== undefined && r !== undefined) webhookToRemediation.push(r - f);
        if (v !== undefined) resolved.push(v);
      }
      const s = (values: number[]) => (values.length ? `${fmt(median(values) / 1000, 2)} s` : 'n/a');
      line(`${name}: fault → firing webhook`, s(firing), `(${firing.length}/${runs} fired)`);
      line(`${name}: webhook → first remediation call`, s(webhookToRemediation));
      line(`${name}: fault → first remediation call`, s(toRemediation), 'target ≤ 3 s');
      line(
        `${name}: fault → incident resolved (verified)`,
        s(resolved),
        `target ≤ 15 s (${resolved.length}/${runs} resolved)`,
      );
      process.stdout.write('\n');
      summary.push({
        scenario: name,
        remediation: toRemediation.length ? median(toRemediation) : NaN,
        resolved: resolved.length === runs ? median(resolved) : NaN,
      });
    }
    for (const { scenario, remediation, resolved } of summary) {
      const ok = remediation <= 3000 && resolved <= 15_000;
      line(
        `${scenario}: targets`,
        ok ? 'met' : 'MISSED',
        `remediation ${fmt(remediation / 1000, 2)} s, resolved ${fmt(resolved / 1000, 2)} s`,
      );
    }
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
