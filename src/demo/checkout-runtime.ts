import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { ContainerCommand, ContainerSpec } from '../kube-sim/index.ts';

/**
 * How the stand-in's kubelet runs the checkout image: the service from services/checkout/, bundled once
 * into one JavaScript file (esbuild, which tsx ships) so each pod starts in a fraction of the time a
 * TypeScript loader needs; without esbuild the pods run the sources through tsx.
 */

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHECKOUT_MAIN = join(REPO_ROOT, 'services', 'checkout', 'src', 'main.ts');

/** Images the demo Deployment uses; any tag of this repository runs the checkout service. */
export const CHECKOUT_IMAGE = 'rebound.local/checkout';

interface Esbuild {
  build(options: Record<string, unknown>): Promise<unknown>;
}

/** Bundles the checkout service into `dir`; returns the node arguments that start one replica. */
export async function prepareCheckout(dir: string): Promise<readonly string[]> {
  const outfile = join(dir, 'checkout.mjs');
  try {
    const esbuild = (await import('esbuild' as string)) as Esbuild;
    await esbuild.build({
      entryPoints: [CHECKOUT_MAIN],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'error',
      // Bundled CommonJS dependencies call require(); give the ES module one.
      banner: {
        js: "import { createRequire as __rq } from 'node:module'; const require = __rq(import.meta.url);",
      },
    });
    return [outfile];
  } catch {
    return ['--import', import.meta.resolve('tsx'), CHECKOUT_MAIN];
  }
}

/** The kubelet runtime: checkout containers run as `node <bundle>` with their env; other images do not run. */
export function checkoutRuntime(
  nodeArgs: readonly string[],
  nodePath: string,
): (container: ContainerSpec) => ContainerCommand | undefined {
  return (container) => {
    if (!container.image.startsWith(`${CHECKOUT_IMAGE}:`)) return undefined;
    return {
      command: nodePath,
      args: nodeArgs,
      env: { LOG_LEVEL: 'warn', ...container.env },
      cwd: REPO_ROOT,
    };
  };
}
