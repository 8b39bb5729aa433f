/**
 * `hyperabi vmm`: the reference VMM from the command line. `vmm run <script>` runs a scripted
 * guest (docs/vmm-script.md); `vmm coverage` prints, writes or checks the coverage table.
 */
import type { Command } from 'commander';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { scenarioClaims } from '../conformance/coverage.js';
import { COVERAGE_FILE, coverageMarkdown } from '../reference-vmm/coverage.js';
import { runScript, ScriptError } from '../reference-vmm/script.js';
import { xenSpec } from '../spec/index.js';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** The repository root (this file is cli/vmm.ts). */
/** The package root (the folder with hyperabi's package.json), from source or from dist/. */
const ROOT = ((): string => {
  let d = import.meta.dirname;
  for (;;) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'reference-vmm'))) return d;
    const up = dirname(d);
    if (up === d) return resolve(import.meta.dirname, '..');
    d = up;
  }
})();

/** Adds the `vmm` command; `fail` raises a usage error (exit 2), `exit` sets the exit code. */
export function addVmmCommand(program: Command, io: Io, exit: (code: number) => void, fail: (message: string) => never): void {
  const vmm = program.command('vmm').description('Run the reference VMM: scripted guests, the coverage table.').exitOverride();
  vmm
    .command('run <script>')
    .description('Run a scripted guest (a JSON file, docs/vmm-script.md): prints each step, consoles, invariant violations; exit 1 when an expectation or invariant fails.')
    .action((file: string) => {
      let text: string;
      try {
        text = readFileSync(resolve(file), 'utf8');
      } catch (e) {
        fail(`cannot read ${file}: ${(e as Error).message}`);
      }
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (e) {
        fail(`${file} is not JSON: ${(e as Error).message}`);
      }
      try {
        const run = runScript(doc);
        for (const l of run.lines) io.out(`${l}\n`);
        for (const f of run.failures) io.out(`FAIL ${f}\n`);
        exit(run.failures.length > 0 ? 1 : 0);
      } catch (e) {
        if (e instanceof ScriptError) fail(`${file}: ${e.message}`);
        throw e;
      }
    });
  vmm
    .command('coverage')
    .description(`Print the reference VMM's coverage table (declared errors exercised by its unit tests and by passing conformance scenarios); --write updates ${COVERAGE_FILE}, --check exits 1 when it is stale.`)
    .option('--write', `write ${COVERAGE_FILE}`)
    .option('--check', `exit 1 when ${COVERAGE_FILE} is stale`)
    .action(async (opts: { write?: boolean; check?: boolean }) => {
      const md = coverageMarkdown(xenSpec, join(ROOT, 'reference-vmm'), await scenarioClaims(xenSpec));
      const file = join(ROOT, COVERAGE_FILE);
      if (opts.write) {
        writeFileSync(file, md);
        io.out(`wrote ${file}\n`);
      } else if (opts.check) {
        let old = '';
        try {
          old = readFileSync(file, 'utf8');
        } catch {
          // missing: stale
        }
        if (old !== md) {
          io.out(`stale ${COVERAGE_FILE}: run hyperabi vmm coverage --write\n`);
          exit(1);
        } else io.out(`${COVERAGE_FILE} up to date\n`);
      } else io.out(md);
    });
}
