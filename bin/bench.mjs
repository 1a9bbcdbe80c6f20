#!/usr/bin/env node
// `npm run bench -- <name> [args]`: runs bench/<name>.ts, which exports `run(args)`.
import './v8-flags.mjs';
import { register } from 'tsx/esm/api';
import { existsSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

register();
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench');
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));
const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || !existsSync(join(dir, `${name}.ts`))) {
  process.stderr.write(`usage: npm run bench -- <${available.join('|')}> [args]\n`);
  process.exit(name && name !== '--help' ? 2 : 0);
}
const bench = await import(join(dir, `${name}.ts`));
await bench.run(args);
