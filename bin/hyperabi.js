#!/usr/bin/env node
// Entry point of the `hyperabi` command: runs the compiled CLI from dist/ (built by
// `npm install` through the prepare script, or `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  process.stderr.write('hyperabi: the CLI is not built yet; run `npm run build` (or `npm install`) in the hyperabi folder.\n');
  process.exit(2);
}
const { main } = await import(compiled.href);
process.exitCode = await main(process.argv.slice(2));
