// Builds the dashboard bundle (dist/web) with vite when it is missing or older than its sources, so that
// `npm ci && npm start` works on a fresh clone and a restart after `git pull` serves the new dashboard.
// `--force` always builds. Without vite (a production install with --omit=dev) an existing bundle is kept.
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const index = join(repo, 'dist', 'web', 'index.html');
const sources = [join(repo, 'web'), join(repo, 'vite.config.ts'), join(repo, 'package-lock.json')];

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const force = process.argv.includes('--force');
const stale =
  force || !existsSync(index) || sources.some((s) => existsSync(s) && newest(s) > statSync(index).mtimeMs);
if (stale) {
  let vite;
  try {
    vite = await import('vite');
  } catch {
    if (existsSync(index)) process.exit(0);
    console.error(
      '[build-web] vite is not installed (npm ci without --omit=dev) and there is no dist/web bundle',
    );
    process.exit(1);
  }
  // Build beside the live bundle and swap it in, so a server starting meanwhile never sees half a bundle.
  const out = join(repo, 'dist', 'web');
  const next = join(repo, 'dist', `web.next-${process.pid}`);
  await vite.build({ configFile: join(repo, 'vite.config.ts'), build: { outDir: next, emptyOutDir: true } });
  rmSync(out, { recursive: true, force: true });
  renameSync(next, out);
}
