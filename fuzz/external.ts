/**
 * Fuzzing targets outside this process: a testee over the protocol (cmd:"...", an
 * interactive target) or real Xen (live-xen, a batch target). Sequences are generated on the
 * model (the reference VMM in this process decides what each sequence learns and checks its
 * own invariants), then run on the target, one machine per sequence (interactive) or many
 * sequences per boot (batch), and compared offline: each call's result, the memory it may
 * touch (frame numbers excepted: they belong to the target), and at the end each domain's
 * event-channel bitmaps. A divergence is shrunk with the same delta debugging, every
 * candidate run again on the target (batch targets: one batch per round of candidates).
 */
import type { Instr, InstrResult, Program, ProgramDomain } from '../conformance/program.js';
import type { BatchTarget, ExecResult, InteractiveTarget, MachineKnobs, Target } from '../conformance/target.js';
import { gaddr } from '../reference-vmm/addr.js';
import type { Spec } from '../spec/model.js';
import { LayoutEngine } from '../spec/layout.js';
import { findArch, findAbi } from '../spec/query.js';
import { type Divergence, domFacts, type Finding, LocalFuzzer, sameResult, showInstrResult } from './engine.js';
import { SpecPlans } from './plan.js';
import { reproducer, reproducerYaml, type Provenance } from './reproducer.js';
import type { FindingReport, RunOptions, RunReport } from './run.js';
import { recordFinding } from './run.js';
import { sameFailure, shrink } from './shrink.js';
import { LowerError, lowerStep, type FStep, type Lowered, type Place } from './step.js';

export interface ExternalRunOptions extends RunOptions {
  target: Target;
  targetName: string;
  /** Sequences per boot of a batch target (default 64). */
  batch?: number;
}

/** A generated sequence with the model's results. */
interface ModelRun {
  steps: FStep[];
  results: (readonly InstrResult[])[];
  lowered: Lowered[];
  /** The event bitmaps of each domain at the end, on the model. */
  end: { dom: number; at: Place; bytes: Uint8Array }[];
}

/** Where a domain's event-channel bitmaps are in its shared_info page. */
function eventRegions(spec: Spec, domains: readonly ProgramDomain[]): { dom: number; at: Place; length: number }[] {
  const out: { dom: number; at: Place; length: number }[] = [];
  for (const d of domains) {
    const abi = findAbi(spec, d.abi);
    const arch = abi ? findArch(spec, abi.arch) : undefined;
    if (!arch) continue;
    const lay = new LayoutEngine(spec, arch).named('struct shared_info');
    for (const f of ['evtchn_pending', 'evtchn_mask']) {
      const fl = lay.fields[f];
      if (fl) out.push({ dom: d.id, at: { base: 'shared', off: fl.offset }, length: fl.size });
    }
  }
  return out;
}

class ExternalFuzzer {
  readonly gen: LocalFuzzer;
  readonly regions: { dom: number; at: Place; length: number }[];
  readonly knobs: MachineKnobs;

  constructor(readonly o: ExternalRunOptions, plans: SpecPlans) {
    this.gen = new LocalFuzzer({ spec: o.spec, plans, domains: o.domains, seed: o.seed, worker: o.worker ?? 0, modelOnly: true, ...(o.vmm ? { vmm: o.vmm } : {}), ...(o.minSteps ? { minSteps: o.minSteps } : {}), ...(o.maxSteps ? { maxSteps: o.maxSteps } : {}) });
    this.regions = eventRegions(o.spec, o.domains);
    this.knobs = o.vmm?.preemptEvery !== undefined ? { preemptEvery: o.vmm.preemptEvery } : {};
  }

  private endState(): ModelRun['end'] {
    const vmm = this.gen.model.vmm;
    return this.regions.map((r) => {
      const d = vmm.machine.domain(r.dom);
      const bytes = new Uint8Array(r.length);
      if (d) d.memory.read(gaddr(d.sharedInfoGfn * 4096 + r.at.off), bytes);
      return { dom: r.dom, at: r.at, bytes };
    });
  }

  /** Runs steps on the model alone (a shrinking candidate). */
  replayModel(steps: readonly FStep[]): ModelRun | undefined {
    const m = this.gen.model;
    m.reset();
    const run: ModelRun = { steps: [...steps], results: [], lowered: [], end: [] };
    for (let k = 0; k < steps.length; k++) {
      const low = lowerStep(steps[k] as FStep, m.facts, k);
      const r = m.session.execSync(low.instrs);
      if (r.error !== undefined || r.results.length < low.instrs.length) return undefined;
      run.results.push(r.results);
      run.lowered.push(low);
    }
    run.end = this.endState();
    return run;
  }

  /** The program of a sequence for the target's layouts, with where each step's instructions start. */
  program(run: ModelRun, layouts: Parameters<typeof domFacts>[2], id: string): { program: Program; lows: Lowered[]; base: number[]; endReads: number } | undefined {
    const facts = domFacts(this.o.spec, this.o.domains, layouts);
    const instrs: Instr[] = [];
    const lows: Lowered[] = [];
    const base: number[] = [];
    try {
      run.steps.forEach((s, k) => {
        const low = lowerStep(s, facts, k);
        base.push(instrs.length);
        lows.push(low);
        instrs.push(...low.instrs);
      });
      const endReads = instrs.length;
      for (const r of this.regions) {
        const f = facts.get(r.dom);
        const si = f?.layout.sharedInfo;
        if (si === undefined) continue;
        instrs.push({ op: 'read', step: run.steps.length, dom: r.dom, addr: si + BigInt(r.at.off), length: r.length });
      }
      return { program: { id, domains: [...this.o.domains], instrs }, lows, base, endReads };
    } catch (e) {
      if (e instanceof LowerError) return undefined;
      throw e;
    }
  }

  /** The first place where the target's results differ from the model's. */
  compare(run: ModelRun, p: NonNullable<ReturnType<ExternalFuzzer['program']>>, exec: ExecResult): Divergence | undefined {
    const res = exec.results;
    for (let k = 0; k < run.steps.length; k++) {
      const s = run.steps[k] as FStep;
      const op = s.kind === 'call' ? s.id : s.kind;
      const lowT = p.lows[k] as Lowered;
      const lowM = run.lowered[k] as Lowered;
      const b = p.base[k] as number;
      const mres = run.results[k] as readonly InstrResult[];
      if (res.length < b + lowT.instrs.length) {
        return { kind: 'target-error', step: k, op, message: exec.error ?? 'the target returned fewer results than instructions' };
      }
      if (s.kind !== 'call') continue;
      const bits = this.gen.model.facts.get(s.dom)?.bits ?? 64;
      if (!sameResult(mres[lowM.call], res[b + lowT.call])) return { kind: 'result', step: k, op, message: `${s.id} from domain ${s.dom}: result expected ${showInstrResult(mres[lowM.call], bits)}, got ${showInstrResult(res[b + lowT.call], bits)}` };
      for (let j = 0; j < lowT.reads.length; j++) {
        const r = s.reads[j]!;
        const a = mres[lowM.reads[j] as number];
        const t = res[b + (lowT.reads[j] as number)];
        if (!sameResult(a, t, r.volatile ?? [])) return { kind: 'memory', step: k, op, message: `${s.id} from domain ${s.dom}: memory at ${r.at.base}+0x${r.at.off.toString(16)} expected ${showInstrResult(a)}, got ${showInstrResult(t)}` };
      }
    }
    const lastCall = [...run.steps].reverse().find((s) => s.kind === 'call');
    const op = lastCall && lastCall.kind === 'call' ? lastCall.id : 'end';
    for (let i = 0; i < run.end.length; i++) {
      const e = run.end[i]!;
      const t = res[p.endReads + i];
      if (t === undefined) return { kind: 'target-error', step: run.steps.length - 1, op, message: exec.error ?? 'the target returned fewer results than instructions' };
      if (!sameResult({ op: 'read', bytes: e.bytes }, t)) return { kind: 'end-state', step: run.steps.length - 1, op, message: `domain ${e.dom}: event bits at shared_info+0x${e.at.off.toString(16)} differ: expected ${showInstrResult({ op: 'read', bytes: e.bytes })}, got ${showInstrResult(t)}` };
    }
    if (exec.error !== undefined) return { kind: 'target-error', step: run.steps.length - 1, op, message: exec.error };
    return undefined;
  }

  /** Runs sequences on the target: one session each (interactive) or one batch (batch). */
  async runOnTarget(runs: readonly ModelRun[]): Promise<(Divergence | undefined)[]> {
    const t = this.o.target;
    if (t.kind === 'batch') return this.runBatch(t, runs);
    const out: (Divergence | undefined)[] = [];
    for (const run of runs) out.push(await this.runInteractive(t, run));
    return out;
  }

  private async runInteractive(t: InteractiveTarget, run: ModelRun): Promise<Divergence | undefined> {
    const session = await t.open(this.o.domains, this.knobs);
    try {
      const p = this.program(run, session.layouts, 'fuzz');
      if (!p) return undefined;
      const exec = await session.exec(p.program.instrs);
      return this.compare(run, p, exec);
    } finally {
      await session.close().catch(() => undefined);
    }
  }

  private async runBatch(t: BatchTarget, runs: readonly ModelRun[]): Promise<(Divergence | undefined)[]> {
    const layouts = t.layouts(this.o.domains);
    const ps = runs.map((r, i) => this.program(r, layouts, `fuzz-${i}`));
    const programs = ps.filter((p): p is NonNullable<typeof p> => p !== undefined);
    const execs = await t.runAll(programs.map((p) => p.program));
    let j = 0;
    return runs.map((r, i) => {
      const p = ps[i];
      if (!p) return undefined;
      const exec = execs[j++] ?? { results: [], error: 'the target returned no result for this program' };
      return this.compare(r, p, exec);
    });
  }
}

/** One worker's run against an external target. */
export async function runExternal(o: ExternalRunOptions): Promise<RunReport> {
  const plans = o.plans ?? new SpecPlans(o.spec, [...new Set(o.domains.map((d) => d.abi))]);
  const fz = new ExternalFuzzer(o, plans);
  const worker = o.worker ?? 0;
  const t0 = performance.now();
  const deadline = o.seconds !== undefined ? t0 + o.seconds * 1000 : Infinity;
  const limit = o.sequences ?? Infinity;
  const batch = o.target.kind === 'batch' ? (o.batch ?? 64) : 1;
  const seen = new Set<string>();
  const findings: FindingReport[] = [];
  let calls = 0;
  let lastTick = t0;
  const abis = [...new Set(o.domains.map((d) => d.abi))];
  const tick = (now: number) => o.progress?.({ worker, abis, elapsedMs: now - t0, stats: { ...fz.gen.stats, calls }, findings: findings.length, coverage: fz.gen.coverage.toJSON() });
  outer: for (let i = 0; i < limit && performance.now() < deadline; ) {
    const runs: { run: ModelRun; index: number }[] = [];
    for (let k = 0; k < batch && i < limit; k++, i++) {
      const mf = fz.gen.runSequence(i);
      const last = fz.gen.last;
      if (mf && mf.kind === 'model-error') {
        // The reference VMM itself broke: a finding against it, whatever the target does.
        if (!seen.has(`${mf.kind}:${mf.op}`)) {
          seen.add(`${mf.kind}:${mf.op}`);
          findings.push(await report(fz, { ...mf }, o, performance.now() - t0, true));
          if (o.stopAtFirst) break outer;
        }
        continue;
      }
      const model = fz.replayModel(last.steps);
      if (model) runs.push({ run: model, index: i });
    }
    const divs = await fz.runOnTarget(runs.map((r) => r.run));
    for (let k = 0; k < runs.length; k++) {
      const r = runs[k]!;
      calls += r.run.steps.filter((s) => s.kind === 'call').length;
      const d = divs[k];
      if (!d) continue;
      const sig = `${d.kind}:${d.op}`;
      if (seen.has(sig)) continue;
      seen.add(sig);
      const f: Finding = { ...d, steps: r.run.steps, seed: o.seed, worker, sequence: r.index };
      findings.push(await report(fz, f, o, performance.now() - t0, false));
      if (o.stopAtFirst) break outer;
    }
    const now = performance.now();
    if (now - lastTick >= 250) {
      lastTick = now;
      tick(now);
    }
  }
  const elapsedMs = performance.now() - t0;
  tick(performance.now());
  return { worker, elapsedMs, stats: { ...fz.gen.stats, calls }, coverage: fz.gen.coverage.toJSON(), findings };
}

async function report(fz: ExternalFuzzer, f: Finding, o: ExternalRunOptions, foundAfterMs: number, modelOnly: boolean): Promise<FindingReport> {
  const fails = async (c: FStep[]): Promise<boolean> => {
    const run = fz.replayModel(c);
    if (modelOnly) return run === undefined;
    if (!run) return false;
    const [d] = await fz.runOnTarget([run]);
    return d !== undefined && sameFailure(d, f);
  };
  const head = f.steps.slice(0, f.step + 1);
  const batchTarget = o.target.kind === 'batch';
  const { steps } = await shrink(head, fails, modelOnly ? 2000 : (o.shrinkBudget ?? (batchTarget ? 40 : 400)));
  const run = fz.replayModel(steps) ?? { steps, results: [], lowered: [], end: [] };
  let endBytes: { dom: number; at: Place; bytes: Uint8Array } | undefined;
  if (f.kind === 'end-state') {
    const [d] = modelOnly ? [undefined] : await fz.runOnTarget([run]);
    const m = d?.message.match(/^domain (\d+): event bits at shared_info\+0x([0-9a-f]+)/);
    const e = m ? run.end.find((x) => x.dom === Number(m[1]) && x.at.off === parseInt(m[2] as string, 16)) : undefined;
    if (e) endBytes = e;
  }
  const pv: Provenance = { target: o.targetName, seed: o.seed, worker: o.worker ?? 0, sequence: f.sequence, originalSteps: f.steps.length };
  const scenario = reproducer({
    spec: o.spec,
    domains: o.domains,
    ...(o.vmm?.preemptEvery !== undefined ? { preemptEvery: o.vmm.preemptEvery } : {}),
    steps,
    results: run.results,
    lowered: run.lowered,
    divergence: { ...f, step: Math.min(f.step, steps.length - 1) },
    provenance: pv,
    ...(endBytes ? { endBytes } : {}),
  });
  const yaml = reproducerYaml(scenario, [`hyperabi fuzz finding: ${f.kind} at ${f.op}`, `target: ${o.targetName}; seed ${o.seed}, worker ${o.worker ?? 0}, sequence ${f.sequence}`, `reproduce: hyperabi replay <file> --target ${o.targetName}`]);
  return recordFinding({ spec: o.spec, ...(o.vmm ? { vmm: o.vmm } : {}), ...(o.corpus ? { corpus: o.corpus } : {}), target: modelOnly ? 'model-only' : o.target, scenario, yaml, finding: f, steps, worker: o.worker ?? 0, foundAfterMs });
}
