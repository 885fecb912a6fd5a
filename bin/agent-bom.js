#!/usr/bin/env node
// Entry point of the `agent-bom` CLI. The compiled program lives in dist/ (npm run build).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('agent-bom is not built yet: run `npm run build` (or `npm start`) first\n');
  process.exit(2);
}
// Before anything else loads: the compile cache covers only what is loaded after it is on.
const { enableCompileCache } = await import(new URL('../dist/cli/compile-cache.js', import.meta.url).href);
enableCompileCache();
const { main, KEEP_RUNNING } = await import(entry.href);
const code = await main(process.argv);
if (code !== KEEP_RUNNING) process.exit(code);
