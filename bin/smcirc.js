#!/usr/bin/env node
// Entry point of the `smcirc` command: runs the compiled CLI (build with `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('smcirc: the CLI is not built yet. Run `npm install` (or `npm run build`) in the smcirc folder first.');
  process.exit(2);
}
await import(main.href);
