#!/usr/bin/env node
// Entry point for `rebound` / `npm start`: loads the TypeScript sources through tsx (no build step).
import './v8-flags.mjs';
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
