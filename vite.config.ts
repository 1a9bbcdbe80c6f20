import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const OUT_DIR = resolve(import.meta.dirname, 'dist', 'web');

/** Writes .gz and .br beside each asset (served by @fastify/static's preCompressed) and prints the sizes. */
function precompress(): Plugin {
  let outDir = OUT_DIR;
  return {
    name: 'rebound-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const assets = join(outDir, 'assets');
      let raw = 0;
      let gzip = 0;
      for (const name of readdirSync(assets)) {
        if (!/\.(js|css|svg)$/.test(name)) continue;
        const file = join(assets, name);
        const body = readFileSync(file);
        const gz = gzipSync(body, { level: 9 });
        writeFileSync(file + '.gz', gz);
        writeFileSync(file + '.br', brotliCompressSync(body));
        raw += statSync(file).size;
        gzip += gz.length;
      }
      process.stdout.write(
        `dashboard bundle: ${(raw / 1024).toFixed(1)} KiB, ${(gzip / 1024).toFixed(1)} KiB gzip\n`,
      );
    },
  };
}

// The dashboard: Preact + uPlot + dagre, bundled into dist/web and served by Rebound itself (no CDN).
export default defineConfig({
  root: resolve(import.meta.dirname, 'web'),
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    target: 'es2022',
    // Inlined assets would become data: URLs, which the CSP (img-src 'self') refuses.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  plugins: [precompress()],
});
