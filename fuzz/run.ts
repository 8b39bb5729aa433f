/**
 * One worker's fuzzing run against an in-process target: sequences until the time or
 * sequence limit, each finding shrunk, written as a reproducer scenario and checked (it
 * passes on the reference VMM and fails on the target), findings deduplicated by the kind
 * of divergence and the operation it shows at.
 *
 * Determinism: sequence i of worker w is generated from derive(seed, w, i) and the model's
 * answers, and the generator's steering depends only on the sequences before it in the same
 * worker; so a run of N sequences is the same run every time. A time limit stops after the
 * sequence in progress: the sequences run are a prefix of that same stream, of a length that
 * depends on the machine's speed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProgramDomain } from '../conformance/program.js';
import type { Scenario } from '../conformance/scenario.js';
import type { Target } from '../conformance/target.js';
import { runScenarios, type Outcome } from '../conformance/runner.js';
import { referenceTarget, type VmmFactory } from '../conformance/targets/reference.js';
import { gaddr } from '../reference-vmm/addr.js';
import type { VmmOptions } from '../reference-vmm/vmm.js';
import type { Spec } from '../spec/model.js';
import { type Finding, LocalFuzzer, type Stats } from './engine.js';
import { SpecPlans } from './plan.js';
import { endWindow, reproducer, reproducerYaml, type Provenance } from './reproducer.js';
import { sameFailure, shrink } from './shrink.js';
import type { FStep, Place } from './step.js';

/** What every fuzzing run takes, whatever its target. */
export interface RunOptions {
  spec: Spec;
  domains: readonly ProgramDomain[];
  /** VMM options for both sides (a planted bug may need preemption). */
  vmm?: VmmOptions;
  seed: number;
  worker?: number;
  /** Stop after this many seconds (checked between sequences). */
  seconds?: number;
  /** Stop after this many sequences. */
  sequences?: number;
  /** Stop at the first finding. */
  stopAtFirst?: boolean;
  /** Where reproducers are written (none: kept in the report only). */
  corpus?: string;
  minSteps?: number;
  maxSteps?: number;
  shrinkBudget?: number;
  /** Told about four times a second. */
  progress?: (p: ProgressTick) => void;
  plans?: SpecPlans;
}

export interface LocalRunOptions extends RunOptions {
  /** The target VMM (default: the correct reference VMM). */
  factory?: VmmFactory;
  /** Names in reports: the target and, for a planted bug, its id. */
  targetName?: string;
  mutant?: string;
}

export interface ProgressTick {
  worker: number;
  /** The ABIs of the machine's domains (what coverage is counted against). */
  abis: string[];
  elapsedMs: number;
  stats: Stats;
  findings: number;
  coverage: { calls: [string, number][]; errors: [string, string[]][] };
}

export interface FindingReport {
  signature: string;
  kind: Finding['kind'];
  op: string;
  message: string;
  worker: number;
  sequence: number;
  /** Time from the start of the run to the finding (ms). */
  foundAfterMs: number;
  stepsBefore: number;
  stepsAfter: number;
  /** Calls in the reproducer. */
  calls: number;
  scenarioId: string;
  yaml: string;
  file?: string;
  /** The reproducer run through the conformance runner: on the reference VMM, and on the target. */
  verified: { reference: Outcome['status']; target: Outcome['status']; reason?: string };
}

export interface RunReport {
  worker: number;
  elapsedMs: number;
  stats: Stats;
  coverage: { calls: [string, number][]; errors: [string, string[]][] };
  findings: FindingReport[];
  /** External targets: what was left out or not compared, by why (fuzz/external.ts EXCLUDED_WHY and the target's exceptions). */
  excluded?: Record<string, number>;
}

/** A file name for a scenario id. */
export function fileNameOf(id: string): string {
  return `${id.replace('/', '--').replace(/\$/g, '_')}.yaml`;
}

export async function runLocal(o: LocalRunOptions): Promise<RunReport> {
  const plans = o.plans ?? new SpecPlans(o.spec, [...new Set(o.domains.map((d) => d.abi))]);
  const worker = o.worker ?? 0;
  const abis = [...new Set(o.domains.map((d) => d.abi))];
  const fz = new LocalFuzzer({ spec: o.spec, plans, domains: o.domains, ...(o.factory ? { factory: o.factory } : {}), ...(o.vmm ? { vmm: o.vmm } : {}), seed: o.seed, worker, ...(o.minSteps ? { minSteps: o.minSteps } : {}), ...(o.maxSteps ? { maxSteps: o.maxSteps } : {}) });
  const t0 = performance.now();
  const deadline = o.seconds !== undefined ? t0 + o.seconds * 1000 : Infinity;
  const limit = o.sequences ?? Infinity;
  const seen = new Set<string>();
  const findings: FindingReport[] = [];
  let lastTick = t0;
  for (let i = 0; i < limit && performance.now() < deadline; i++) {
    const f = fz.runSequence(i);
    const now = performance.now();
    if (f) {
      const sig = `${f.kind}:${f.op}`;
      if (!seen.has(sig)) {
        seen.add(sig);
        findings.push(await report(fz, f, o, now - t0));
        if (o.stopAtFirst) break;
      }
    }
    if (o.progress && now - lastTick >= 250) {
      lastTick = now;
      o.progress({ worker, abis, elapsedMs: now - t0, stats: { ...fz.stats }, findings: findings.length, coverage: fz.coverage.toJSON() });
    }
  }
  const elapsedMs = performance.now() - t0;
  o.progress?.({ worker, abis, elapsedMs, stats: { ...fz.stats }, findings: findings.length, coverage: fz.coverage.toJSON() });
  return { worker, elapsedMs, stats: { ...fz.stats }, coverage: fz.coverage.toJSON(), findings };
}

/** Shrinks a finding, writes its reproducer, and runs the reproducer on both VMMs. */
async function report(fz: LocalFuzzer, f: Finding, o: LocalRunOptions, foundAfterMs: number): Promise<FindingReport> {
  const fails = (c: FStep[]): boolean => {
    const r = fz.replay(c);
    return r.divergence !== undefined && sameFailure(r.divergence, f);
  };
  // The failure shows at its step: what follows never matters.
  const head = f.steps.slice(0, f.step + 1);
  const { steps } = await shrink(head, fails, o.shrinkBudget ?? 3000);
  const replay = fz.replay(steps);
  const dv = replay.divergence && sameFailure(replay.divergence, f) ? { ...replay.divergence, message: f.message } : { ...f, step: steps.length - 1 };
  let endBytes: { dom: number; at: Place; bytes: Uint8Array } | undefined;
  if (dv.kind === 'end-state' && dv.where) {
    const d = fz.model.vmm.machine.domain(dv.where.dom);
    endBytes = endWindow((dom, addr, out) => fz.model.vmm.machine.domain(dom)?.memory.read(gaddr(addr), out) ?? false, dv.where, d?.sharedInfoGfn ?? -1);
  }
  const pv: Provenance = { target: o.targetName ?? 'reference', ...(o.mutant ? { mutant: o.mutant } : {}), seed: o.seed, worker: fz.worker, sequence: f.sequence, originalSteps: f.steps.length };
  const scenario = reproducer({
    spec: o.spec,
    domains: o.domains,
    ...(o.vmm?.preemptEvery !== undefined ? { preemptEvery: o.vmm.preemptEvery } : {}),
    steps,
    keepVolatile: true,
    results: replay.results,
    lowered: replay.lowered,
    divergence: dv,
    provenance: pv,
    ...(endBytes ? { endBytes } : {}),
  });
  const replayCmd = `hyperabi replay <file>${o.mutant ? ` --mutant ${o.mutant}` : ''}`;
  const yaml = reproducerYaml(scenario, [
    `hyperabi fuzz finding: ${dv.kind} at ${dv.op}`,
    `target: ${pv.target}${o.mutant ? ` (planted bug ${o.mutant})` : ''}; seed ${o.seed}, worker ${fz.worker}, sequence ${f.sequence}`,
    `reproduce: ${replayCmd}`,
  ]);
  const target = referenceTarget({ ...(o.factory ? { factory: o.factory } : {}), ...(o.vmm ? { vmm: o.vmm } : {}), name: o.targetName ?? 'target' });
  return recordFinding({ spec: o.spec, ...(o.vmm ? { vmm: o.vmm } : {}), ...(o.corpus ? { corpus: o.corpus } : {}), target, scenario, yaml, finding: f, steps, worker: fz.worker, foundAfterMs });
}

/**
 * The end of every finding, whatever the target: its reproducer run through the conformance
 * runner on the reference VMM (it must pass) and on the target (it must not), written to the
 * corpus when there is one, and the report.
 */
export async function recordFinding(x: {
  spec: Spec;
  vmm?: VmmOptions;
  corpus?: string;
  /** The target to run the reproducer on; 'model-only': the reference VMM's own outcome stands for it. */
  target: Target | 'model-only';
  /** Where the reproducer must pass (default: the reference VMM; an external target's twin when it has one). */
  reference?: Target;
  scenario: Scenario;
  yaml: string;
  finding: Finding;
  steps: readonly FStep[];
  worker: number;
  foundAfterMs: number;
}): Promise<FindingReport> {
  const { scenario, finding: f, steps } = x;
  const [ref] = await runScenarios([scenario], x.reference ?? referenceTarget(x.vmm ? { vmm: x.vmm } : {}), { spec: x.spec });
  const [tgt] = x.target === 'model-only' ? [ref] : await runScenarios([scenario], x.target, { spec: x.spec });
  let file: string | undefined;
  if (x.corpus) {
    mkdirSync(x.corpus, { recursive: true });
    file = join(x.corpus, fileNameOf(scenario.id));
    writeFileSync(file, x.yaml);
  }
  return {
    signature: `${f.kind}:${f.op}`,
    kind: f.kind,
    op: f.op,
    message: f.message,
    worker: x.worker,
    sequence: f.sequence,
    foundAfterMs: x.foundAfterMs,
    stepsBefore: f.steps.length,
    stepsAfter: steps.length,
    calls: steps.filter((s) => s.kind === 'call').length,
    scenarioId: scenario.id,
    yaml: x.yaml,
    ...(file ? { file } : {}),
    verified: { reference: ref?.status ?? 'error', target: tgt?.status ?? 'error', ...(tgt?.reason ? { reason: tgt.reason } : {}) },
  };
}
