/**
 * `hyperabi fuzz`: spec-driven, stateful, differential fuzzing of a hypervisor against the
 * reference VMM (docs/fuzz.md); `hyperabi replay FILE`: runs reproducer scenarios (or any
 * scenario file) on a target and shows what each check saw.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { runScenarios, type Outcome } from '../conformance/runner.js';
import { referenceTarget } from '../conformance/targets/reference.js';
import { loadScenarioFiles } from '../conformance/suite.js';
import { ScenarioError } from '../conformance/scenario.js';
import type { Target } from '../conformance/target.js';
import { fuzz, FuzzUsageError, type FuzzProgress, type FuzzReport } from '../fuzz/index.js';
import { pct } from '../fuzz/coverage.js';
import { allPlanted, plantedById } from '../fuzz/planted.js';
import { fuzzSpec, openExternal } from '../fuzz/session.js';
import { stableJson } from '../spec/index.js';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

interface FuzzFlags {
  target: string;
  spec: string;
  seconds?: string;
  sequences?: string;
  seed: string;
  workers: string;
  corpus?: string;
  mutant?: string;
  json?: boolean;
  listMutants?: boolean;
  stopAtFirst?: boolean;
}

function int(v: string | undefined, what: string, fail: (m: string) => never): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) fail(`${what} must be a non-negative integer, got '${v}'`);
  return Number(v);
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function progressLine(io: Io, tty: boolean): { tick: (p: FuzzProgress) => void; end: () => void } {
  let last = 0;
  let shown = false;
  return {
    tick(p) {
      const now = Date.now();
      // On a terminal the line is redrawn; elsewhere one line every 10 s.
      if (!tty && now - last < 10_000) return;
      last = now;
      const line = `fuzz ${(p.elapsedMs / 1000).toFixed(1)}s · ${fmt(p.callsPerSecond)} calls/s · ${fmt(p.calls)} calls · ${fmt(p.sequences)} sequences · ${p.findings} findings · ops ${p.ops.reached}/${p.ops.total} · errors ${p.errors.triggered}/${p.errors.total}`;
      if (tty) {
        io.err(`\r\x1b[K${line}`);
        shown = true;
      } else io.err(`${line}\n`);
    },
    end() {
      if (shown) io.err('\r\x1b[K');
    },
  };
}

function printReport(io: Io, r: FuzzReport): void {
  const c = r.coverage;
  io.out(`hyperabi fuzz: target ${r.target}${r.mutant ? ` (planted bug ${r.mutant})` : ''}, spec ${r.spec}, seed ${r.seed}, ${r.workers} worker${r.workers > 1 ? 's' : ''}\n`);
  io.out(`machine: ${r.machine.map((d) => `dom${d.id} ${d.abi}${d.privileged ? ' (privileged)' : ''}`).join(', ')}\n`);
  io.out(`${fmt(r.stats.calls)} hypercalls in ${fmt(r.stats.sequences)} sequences, ${(r.elapsedMs / 1000).toFixed(1)} s: ${fmt(r.callsPerSecond)} calls/s; ${fmt(r.stats.skipped)} steps not run and ${fmt(r.stats.discarded)} sequences dropped by the guest's discipline (docs/fuzz.md)`);
  io.out(r.workers > 1 ? ` (${r.perWorker.map((w) => `worker ${w.worker}: ${fmt((w.calls * 1000) / Math.max(1, w.elapsedMs))}/s`).join(', ')})\n` : '\n');
  io.out(`coverage: operations ${c.ops.reached}/${c.ops.total} (${pct(c.ops.reached, c.ops.total)}) of those the reference VMM implements for these ABIs; declared errors triggered ${c.errors.triggered}/${c.errors.total} (${pct(c.errors.triggered, c.errors.total)}); spec operations called ${c.specOps.called}/${c.specOps.total}\n`);
  if (c.ops.missing.length > 0) io.out(`operations not reached: ${c.ops.missing.join(', ')}\n`);
  for (const [why, n] of Object.entries(r.excluded ?? {})) if (n > 0) io.out(`left out on this target: ${fmt(n)} ${why}\n`);
  if (r.stats.genErrors > 0) io.out(`warning: the generator failed ${r.stats.genErrors} times (a bug of the fuzzer; those steps were dropped)\n`);
  if (r.findings.length === 0) {
    io.out('no findings\n');
    return;
  }
  io.out(`${r.findings.length} finding${r.findings.length > 1 ? 's' : ''}:\n`);
  for (const f of r.findings) {
    io.out(`- ${f.kind} at ${f.op} after ${(f.foundAfterMs / 1000).toFixed(1)} s (worker ${f.worker}, sequence ${f.sequence}): ${f.message}\n`);
    io.out(`  reproducer ${f.scenarioId}: ${f.calls} calls (${f.stepsBefore} → ${f.stepsAfter} steps); on the reference VMM: ${f.verified.reference}, on the target: ${f.verified.target}${f.file ? `\n  written to ${f.file}` : ''}\n`);
  }
}

/** Opens the target a scenario file is replayed on. */
async function replayTarget(form: string, mutant: string | undefined): Promise<Target> {
  if (form === 'reference') {
    if (!mutant) return referenceTarget();
    const m = plantedById(mutant);
    return referenceTarget({ factory: m.factory, name: `reference+${m.id}`, ...(m.options ? { vmm: m.options } : {}) });
  }
  if (mutant) throw new FuzzUsageError('--mutant plants a bug in the reference VMM: use it with --target reference');
  return openExternal(form, fuzzSpec('xen'));
}

function printOutcomes(io: Io, outcomes: readonly Outcome[]): void {
  for (const o of outcomes) {
    io.out(`${o.status.toUpperCase().padEnd(5)} ${o.id}${o.reason ? `: ${o.reason}` : ''}\n`);
    if (o.status === 'fail') for (const c of o.checks.filter((x) => !x.ok)) io.out(`      step ${c.step + 1} ${c.what}: expected ${c.expected}, got ${c.actual}\n`);
  }
}

export function register(program: Command, io: Io, exit: (code: number) => void, fail: (message: string) => never): void {
  program
    .command('fuzz')
    .description(
      'Fuzz a hypervisor: generate stateful call sequences from the spec, run them on the target and on the reference VMM, ' +
        'and report every divergence (result, guest memory) or broken invariant as a shrunk reproducer scenario. ' +
        'Exit 0 without findings, 1 with findings, 2 on bad usage.',
    )
    .option('--target <target>', 'what to fuzz: reference | cmd:"<command>" | live-xen', 'reference')
    .option('--spec <name>', 'the spec: xen (vmi has no executable model)', 'xen')
    .option('--seconds <n>', 'how long to fuzz (stops after the sequence in progress)')
    .option('--sequences <n>', 'how many sequences each worker runs (an exactly reproducible run)')
    .option('--seed <n>', 'the seed: the same seed and sequence count give the same run', '1')
    .option('--workers <k>', 'worker threads, each with its own derived seeds', '1')
    .option('--corpus <dir>', 'write each finding’s reproducer scenario (YAML) here')
    .option('--mutant <id>', 'fuzz a planted bug of the reference VMM (see --list-mutants)')
    .option('--stop-at-first', 'stop at the first finding')
    .option('--list-mutants', 'list the planted bugs')
    .option('--json', 'print the report as JSON')
    .exitOverride()
    .action(async (opts: FuzzFlags) => {
      if (opts.listMutants) {
        for (const m of allPlanted()) io.out(`${m.id.padEnd(40)} ${m.description}\n`);
        return;
      }
      const seconds = int(opts.seconds, '--seconds', fail);
      const sequences = int(opts.sequences, '--sequences', fail);
      const seed = int(opts.seed, '--seed', fail) ?? 1;
      const workers = int(opts.workers, '--workers', fail) ?? 1;
      if (seconds === undefined && sequences === undefined) fail('fuzz needs --seconds N or --sequences N (e.g. hyperabi fuzz --seconds 60)');
      if (opts.mutant) {
        try {
          plantedById(opts.mutant);
        } catch (e) {
          fail((e as Error).message);
        }
      }
      const tty = process.stderr.isTTY === true && !opts.json;
      const bar = opts.json ? undefined : progressLine(io, tty);
      let report: FuzzReport;
      try {
        report = await fuzz({
          spec: opts.spec,
          target: opts.target,
          seed,
          workers,
          ...(seconds !== undefined ? { seconds } : {}),
          ...(sequences !== undefined ? { sequences } : {}),
          ...(opts.corpus ? { corpus: resolve(opts.corpus) } : {}),
          ...(opts.mutant ? { mutant: opts.mutant } : {}),
          ...(opts.stopAtFirst ? { stopAtFirst: true } : {}),
          ...(bar ? { progress: bar.tick } : {}),
        });
      } catch (e) {
        if (e instanceof FuzzUsageError) fail(e.message);
        throw e;
      } finally {
        bar?.end();
      }
      if (opts.json) io.out(stableJson({ ...report, findings: report.findings.map((f) => ({ ...f, yaml: undefined })) }));
      else printReport(io, report);
      exit(report.findings.length > 0 ? 1 : 0);
    });

  program
    .command('replay <files...>')
    .description('Run the scenarios of reproducer files (or any scenario files or directories) on a target; exit 0 when all pass, 1 otherwise, 2 on bad usage.')
    .option('--target <target>', 'where to run it: reference | cmd:"<command>" | live-xen', 'reference')
    .option('--mutant <id>', 'run on a planted bug of the reference VMM (as the finding was made)')
    .option('--json', 'print the outcomes as JSON')
    .exitOverride()
    .action(async (files: string[], opts: { target: string; mutant?: string; json?: boolean }) => {
      for (const f of files) if (!existsSync(f)) fail(`${f}: no such file or directory`);
      let scenarios;
      try {
        scenarios = files.flatMap((f) => loadScenarioFiles(f));
      } catch (e) {
        if (e instanceof ScenarioError) fail(e.message);
        throw e;
      }
      let target: Target;
      try {
        target = await replayTarget(opts.target, opts.mutant);
      } catch (e) {
        fail((e as Error).message);
      }
      const outcomes = await runScenarios(scenarios, target);
      await target.dispose();
      if (opts.json) io.out(stableJson(outcomes));
      else printOutcomes(io, outcomes);
      exit(outcomes.every((o) => o.status === 'pass' || o.status === 'skip') ? 0 : 1);
    });
}
