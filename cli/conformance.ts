/**
 * `hyperabi conformance`: the scenario format and the suite at hand (docs/scenarios.md).
 *
 *   conformance schema            the JSON Schema of a scenario (from the TypeBox schema)
 *   conformance list [--json]     every scenario of the suite: id, kind, family
 *   conformance run FILE|DIR      runs scenario files on the reference VMM and prints each outcome
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { runScenarios, type Outcome } from '../conformance/runner.js';
import { Scenario, ScenarioError, type Scenario as ScenarioT } from '../conformance/scenario.js';
import { loadScenarioFiles, loadSuite } from '../conformance/suite.js';
import { referenceTarget } from '../conformance/targets/reference.js';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** The JSON Schema of one scenario (a scenario file holds one, or a list of them). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://hyperabi.dev/schema/conformance-scenario.json',
    title: 'hyperabi conformance scenario',
    description: 'A machine and a sequence of steps with expectations (docs/scenarios.md). A scenario file holds one scenario or a list of them.',
    ...(JSON.parse(JSON.stringify(Scenario)) as Record<string, unknown>),
  };
}

function load(path: string | undefined, fail: (m: string) => never): ScenarioT[] {
  try {
    if (path === undefined) return loadSuite();
    if (!existsSync(path)) fail(`no such file or directory: ${path}`);
    return loadScenarioFiles(resolve(path));
  } catch (e) {
    if (e instanceof ScenarioError) fail(`bad scenario: ${e.message}`);
    throw e;
  }
}

/** One outcome as a line (and the failing checks below it). */
export function formatOutcome(o: Outcome, verbose: boolean): string {
  const head = `${o.status.toUpperCase().padEnd(5)} ${o.id}${o.reason && o.status !== 'pass' ? `\n      ${o.reason}` : ''}`;
  if (!verbose) return head;
  const lines = o.checks.map((c) => `      ${c.ok ? 'ok  ' : 'FAIL'} step ${c.step + 1} ${c.what}: expected ${c.expected}, got ${c.actual}`);
  return [head, ...lines].join('\n');
}

export function register(program: Command, io: Io, exit: (code: number) => void, fail: (message: string) => never): void {
  const cmd = program.command('conformance').description('The conformance scenario format and suite: export the JSON Schema, list scenarios, run scenario files on the reference VMM (docs/scenarios.md).');

  cmd
    .command('schema')
    .description('Print the JSON Schema of a scenario (docs/scenarios.md).')
    .action(() => {
      io.out(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
    });

  cmd
    .command('list [path]')
    .description('List the scenarios of the suite (or of a file or directory): id, kind, family.')
    .option('--json', 'print a JSON array of { id, kind, family, level, doc, ref }')
    .action((path: string | undefined, opts: { json?: boolean }) => {
      const all = load(path, fail);
      if (opts.json) {
        io.out(`${JSON.stringify(all.map((s) => ({ id: s.id, kind: s.kind, family: s.family, level: s.level ?? 'required', doc: s.doc, ref: s.ref })), null, 2)}\n`);
        return;
      }
      for (const s of all) io.out(`${s.kind.padEnd(8)} ${s.family.padEnd(14)} ${s.id}\n`);
      const kinds = new Map<string, number>();
      for (const s of all) kinds.set(s.kind, (kinds.get(s.kind) ?? 0) + 1);
      io.out(`${all.length} scenarios (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')})\n`);
    });

  cmd
    .command('run <path>')
    .description('Run the scenarios of a file or directory on the reference VMM and print each outcome. Exit 0 when all pass, 1 otherwise.')
    .option('--verbose', 'print every check of every scenario')
    .option('--only <substring>', 'run only scenarios whose id contains this')
    .option('--json', 'print the outcomes as JSON')
    .action(async (path: string, opts: { verbose?: boolean; only?: string; json?: boolean }) => {
      const all = load(path, fail).filter((s) => opts.only === undefined || s.id.includes(opts.only));
      if (all.length === 0) fail(`no scenarios in ${path}${opts.only ? ` matching '${opts.only}'` : ''}`);
      const outcomes = await runScenarios(all, referenceTarget());
      if (opts.json) io.out(`${JSON.stringify(outcomes, null, 2)}\n`);
      else {
        for (const o of outcomes) if (opts.verbose || o.status !== 'pass') io.out(`${formatOutcome(o, opts.verbose === true)}\n`);
        const count = (st: Outcome['status']) => outcomes.filter((o) => o.status === st).length;
        io.out(`${outcomes.length} scenarios: ${count('pass')} pass, ${count('fail')} fail, ${count('error')} error, ${count('skip')} skip\n`);
      }
      exit(outcomes.every((o) => o.status === 'pass') ? 0 : 1);
    });
}
