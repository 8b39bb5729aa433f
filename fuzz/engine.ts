/**
 * The fuzzing loop against targets in this process (the reference VMM and its broken
 * variants): generate a sequence step by step on the model (the reference VMM: the oracle
 * decides what the sequence learns), run each step on the target at once, and compare:
 *
 * - differential oracle: the call's result, and the guest memory the step may touch (every
 *   argument struct and buffer, read back after the call); at the end of the sequence every
 *   page of every domain (data area and shared_info);
 * - invariant oracle: the target's `machine.invariants()` after every call and its
 *   `internalErrors` (an exception in a handler), and the model's own at the end.
 *
 * Machines are reset between sequences by restoring a snapshot taken once. A divergence is
 * shrunk by delta debugging over the steps (fuzz/shrink.ts) and becomes a scenario
 * (fuzz/reproducer.ts). External targets reuse this module's model side (fuzz/external.ts).
 */
import type { DomainLayout, InstrResult, Operand, ProgramDomain } from '../conformance/program.js';
import { machineConfig, referenceLayouts, ReferenceSession, type VmmFactory } from '../conformance/targets/reference.js';
import { gaddr, gfn, type Mfn } from '../reference-vmm/addr.js';
import type { MachineSnapshot } from '../reference-vmm/machine.js';
import { PageType } from '../reference-vmm/memory/frames.js';
import { ReferenceVmm, type VmmOptions } from '../reference-vmm/vmm.js';
import type { Spec } from '../spec/model.js';
import { xenSpec } from '../spec/index.js';
import { findAbi } from '../spec/query.js';
import { FOCUS_STEPS, genDomains, Generator, handleKey, payloadPages, SeqState, type GenDomain, type Steering } from './gen.js';
import type { SpecPlans } from './plan.js';
import { derive, Rng } from './rng.js';
import { lowerStep, type CallStep, type DomFacts, type FStep, type Lowered } from './step.js';

/** GTF_reading | GTF_writing, from the spec. */
const GTF_IN_USE = Number((xenSpec.constants.flatMap((g) => g.members).find((c) => c.name === 'GTF_reading')?.value ?? 8)) | Number(xenSpec.constants.flatMap((g) => g.members).find((c) => c.name === 'GTF_writing')?.value ?? 16);

/** A physmap of more entries than this ends the sequence (and keeps it out of the corpus): everything after is slow. */
const HEAVY_P2M = 2048;

/** A success seen at most this often is rare: the next steps focus on what it named. */
const RARE_SUCCESS = 64;
/** Continuations a new corpus entry gets at once. */
const FRESH_CONTINUATIONS = 12;
/** Steps a sequence goes on at least after a step that reached something new. */
const AFTER_NEWS = 8;
/** Corpus entries kept (the weakest is replaced when full). */
const CORPUS_MAX = 512;

/** What went wrong at a step. */
export interface Divergence {
  kind: 'result' | 'memory' | 'target-error' | 'model-error' | 'end-state';
  /** Index of the step in the sequence. */
  step: number;
  /** The operation id of that step (the last call's, for end-state). */
  op: string;
  message: string;
  /** End state: where the first difference is. */
  where?: { dom: number; page: number; off: number };
}

export interface Finding extends Divergence {
  /** The sequence up to and including the diverging step. */
  steps: FStep[];
  seed: number;
  worker: number;
  sequence: number;
}

/** Counters of a run. */
export interface Stats {
  sequences: number;
  steps: number;
  /** Hypercalls made on the target. */
  calls: number;
  /** Steps the model refused (an argument's memory unmapped): not run on the target. */
  skipped: number;
  /** Generator exceptions (bugs of the fuzzer): the step is dropped. */
  genErrors: number;
  /** Sequences dropped because a step broke the guest's discipline (see LocalFuzzer.targetError). */
  discarded: number;
}

/** Spec coverage seen through the model's results. */
export class Coverage implements Steering {
  readonly calls = new Map<string, number>();
  readonly errorsSeen = new Map<string, Set<string>>();

  /** Changes when what steering looks at changes (a first call, the 1000th, a new error). */
  version = 0;

  markCall(id: string): void {
    const n = (this.calls.get(id) ?? 0) + 1;
    this.calls.set(id, n);
    if (n === 1 || n === 1000) this.version++;
  }

  markError(id: string, code: string): void {
    let s = this.errorsSeen.get(id);
    if (!s) this.errorsSeen.set(id, (s = new Set()));
    if (s.has(code)) return;
    s.add(code);
    this.version++;
  }

  merge(o: { calls: [string, number][]; errors: [string, string[]][] }): void {
    for (const [k, n] of o.calls) this.calls.set(k, (this.calls.get(k) ?? 0) + n);
    this.version++;
    for (const [k, codes] of o.errors) for (const c of codes) this.markError(k, c);
  }

  toJSON(): { calls: [string, number][]; errors: [string, string[]][] } {
    return { calls: [...this.calls], errors: [...this.errorsSeen].map(([k, s]) => [k, [...s]]) };
  }
}

/**
 * Counts a call in `cov` from the results it got: the operation, and the declared error its
 * return value or a status it wrote is (what `observe` counts, without the steering).
 */
export function recordCoverage(cov: Coverage, step: CallStep, low: Lowered, results: readonly InstrResult[]): void {
  cov.markCall(step.id);
  const plan = step.plan;
  const r = results[low.call];
  if (!plan || r?.op !== 'call') return;
  const signed = Number(BigInt.asIntN(plan.bits, r.result));
  if (signed < 0 && signed >= -4095) for (const e of plan.errors) if (e.via === 'return' && e.value === signed) cov.markError(plan.id, e.code);
  for (const o of step.outputs) {
    if (o.kind !== 'status') continue;
    const rr = results[low.reads[o.read] as number];
    if (rr?.op !== 'read' || !('bytes' in rr)) continue;
    let v = 0n;
    for (let i = o.size - 1; i >= 0; i--) v = (v << 8n) | BigInt(rr.bytes[o.off + i] ?? 0);
    const st = Number(BigInt.asIntN(o.size * 8, v));
    if (st !== 0) for (const e of plan.errors) if (e.via === 'status' && e.value === st) cov.markError(plan.id, e.code);
  }
}

/** One side of the comparison, in this process. */
export class LocalSide {
  readonly session: ReferenceSession;
  readonly snap: MachineSnapshot;
  readonly facts: Map<number, DomFacts>;

  constructor(
    readonly spec: Spec,
    readonly vmm: ReferenceVmm,
    domains: readonly ProgramDomain[],
    checkInvariants: boolean,
  ) {
    this.session = new ReferenceSession(vmm, domains, checkInvariants);
    this.snap = vmm.machine.snapshot();
    this.facts = domFacts(spec, domains, this.session.layouts);
  }

  reset(): void {
    this.vmm.machine.restore(this.snap);
    this.vmm.internalErrors.length = 0;
  }
}

export function domFacts(spec: Spec, domains: readonly ProgramDomain[], layouts: readonly DomainLayout[]): Map<number, DomFacts> {
  const out = new Map<number, DomFacts>();
  for (const d of domains) {
    const abi = findAbi(spec, d.abi);
    const layout = layouts.find((l) => l.id === d.id);
    if (!abi || !layout) throw new Error(`fuzz: no ABI or layout for domain ${d.id}`);
    const arch = spec.arches.find((a) => a.name === abi.arch);
    out.set(d.id, { id: d.id, bits: (arch?.wordSize ?? 8) * 8, numberReg: abi.convention.number, argRegs: abi.convention.args, layout });
  }
  return out;
}

export interface EngineOptions {
  spec: Spec;
  plans: SpecPlans;
  domains: readonly ProgramDomain[];
  /** The target VMM (default: the correct reference VMM). */
  factory?: VmmFactory;
  /** Options of both VMMs (a planted bug may need preemption). */
  vmm?: VmmOptions;
  seed: number;
  worker?: number;
  /** Steps per sequence (inclusive range). */
  minSteps?: number;
  maxSteps?: number;
  /** Generate on the model only (an external target runs the sequences later): the model checks its invariants itself. */
  modelOnly?: boolean;
}

/**
 * Whether a PV guest could touch this memory: a PV guest maps its page tables (and
 * descriptor pages) read-only, so neither it nor Xen on its behalf writes them; the reference
 * VMM keeps guest memory mapped 1:1 without those mappings, so the fuzzer's guest keeps the
 * discipline itself.
 */
function typedFrames(vmm: ReferenceVmm, dom: number, addr: bigint, len: number): boolean {
  const d = vmm.machine.domain(dom);
  if (!d || !d.abi.name.endsWith('-pv') || len <= 0) return false;
  const a = Number(addr);
  if (!Number.isSafeInteger(a) || a < 0) return false;
  const fr = vmm.machine.frames;
  for (let p = Math.floor(a / 4096); p <= Math.floor((a + len - 1) / 4096); p++) {
    const m = d.memory.lookup(gfn(p));
    if (m !== undefined && (fr.typeCount[m] as number) > 0 && fr.type[m] !== PageType.Writable) return true;
  }
  return false;
}

/**
 * Whether a grant entry the guest is about to rewrite is in use (Xen set GTF_reading or
 * GTF_writing): the grant protocol forbids the granter to change it then (Xen's behaviour is
 * undefined, and the reference VMM's invariants do not hold), so the fuzzer's guest does not.
 */
function entryInUse(vmm: ReferenceVmm, low: Lowered): boolean {
  const ins = low.instrs[0];
  if (!ins || ins.op !== 'write') return false;
  const d = vmm.machine.domain(ins.dom);
  const b = new Uint8Array(2);
  if (!d || !d.memory.read(gaddr(Number(ins.addr)), b)) return false;
  return ((b[0] as number) & GTF_IN_USE) !== 0;
}

/** Whether a step touches (writes, or has Xen write back) memory its guest maps read-only. */
function touchesTypedFrames(vmm: ReferenceVmm, low: Lowered, step: FStep): boolean {
  if (step.kind === 'call') for (const p of step.rawPtrs ?? []) if (typedFrames(vmm, step.dom, p, 8192)) return true;
  for (const ins of low.instrs) {
    if (ins.op === 'write' && typedFrames(vmm, ins.dom, ins.addr, ins.bytes.length)) return true;
    if (ins.op === 'store' && typedFrames(vmm, ins.dom, ins.addr, ins.size)) return true;
    if (ins.op === 'read' && typedFrames(vmm, ins.dom, ins.addr, ins.length)) return true;
  }
  return false;
}

/**
 * Whether a call hands Xen a pointer into the caller's own grant table (a foreign pointer):
 * what Xen writes there lands on the guest's grant entries, which a guest that keeps its
 * grants does not let happen to entries in use.
 */
function pointsAtGrantTable(step: FStep): boolean {
  if (step.kind !== 'call') return false;
  for (const a of step.args) if (typeof a === 'object' && 'place' in a && a.place.base === 'grant') return true;
  for (const w of step.writes) for (const p of w.patches) if (typeof p.val === 'object' && 'place' in p.val && p.val.place.base === 'grant') return true;
  return false;
}

/**
 * Invariants on what the guest may change itself, which Xen lets it: its grant entries'
 * GTF_reading and GTF_writing bits (a call that writes over them for the guest, such as
 * MMUEXT_CLEAR_PAGE of its grant-table frame, breaks them on every implementation, as the
 * guest's own write would), and the gfn where a translated guest mapped a grant (its own
 * XENMEM_remove_from_physmap takes it out of the p2m; Xen's unmap then fails).
 */
const GUEST_WRITTEN = /^grant: domain \d+: (entry \d+ (is pinned without GTF_reading|is write-pinned without GTF_writing|has GTF_writing without a write pin)|grant mapping at gfn \d+ is not in the p2m)$/;
function guestWroteItsEntries(broken: readonly string[]): boolean {
  return broken.length > 0 && broken.every((b) => GUEST_WRITTEN.test(b));
}

/** Whether the step's argument memory is all mapped in the model (else the step is not run). */
function writesMapped(vmm: ReferenceVmm, low: Lowered, step: FStep): boolean {
  if (touchesTypedFrames(vmm, low, step)) return false;
  if (step.kind === 'write' && step.offer && entryInUse(vmm, low)) return false;
  const frameOk = (o: Operand): boolean => typeof o === 'bigint' || !('frame' in o) || vmm.machine.domain(o.frame.dom)?.memory.lookup(gfn(o.frame.page)) !== undefined;
  for (const ins of low.instrs) {
    if (ins.op === 'call') {
      for (const r in ins.regs) if (!frameOk(ins.regs[r] as Operand)) return false;
      continue;
    }
    if (ins.op === 'store' && !frameOk(ins.value)) return false;
    if (ins.op !== 'write' && ins.op !== 'store') continue;
    const d = vmm.machine.domain(ins.dom);
    if (!d) return false;
    const len = ins.op === 'write' ? ins.bytes.length : ins.size;
    if (len === 0) continue;
    const a = Number(ins.addr);
    if (!Number.isSafeInteger(a) || a < 0) return false;
    const first = Math.floor(a / 4096);
    const last = Math.floor((a + len - 1) / 4096);
    for (let p = first; p <= last; p++) if (d.memory.lookup(gfn(p)) === undefined) return false;
  }
  return true;
}

export function sameResult(a: InstrResult | undefined, b: InstrResult | undefined, volatile?: [number, number][]): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.op !== b.op) return false;
  if (a.op === 'call' && b.op === 'call') return a.result === b.result;
  if (a.op === 'read' && b.op === 'read') {
    const fa = 'fault' in a;
    const fb = 'fault' in b;
    if (fa || fb) return fa === fb;
    const x = (a as { bytes: Uint8Array }).bytes;
    const y = (b as { bytes: Uint8Array }).bytes;
    if (x.length !== y.length) return false;
    if (!volatile) return Buffer.compare(x, y) === 0;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i] && !volatile.some(([f, t]) => i >= f && i < t)) return false;
    return true;
  }
  return true;
}

export function showInstrResult(r: InstrResult | undefined, bits = 64): string {
  if (r === undefined) return 'nothing';
  if (r.op === 'call') return `${BigInt.asIntN(bits, r.result)}`;
  if (r.op === 'read') return 'fault' in r ? 'a fault' : Buffer.from(r.bytes).toString('hex');
  return 'done';
}

/** The fuzzer against an in-process target. */
export class LocalFuzzer {
  readonly model: LocalSide;
  /** The target side; the model itself when generating for an external target. */
  readonly target: LocalSide;
  /** The last sequence run: its steps and the model's results per step. */
  last: { steps: FStep[]; results: (readonly InstrResult[])[]; lowered: Lowered[] } = { steps: [], results: [], lowered: [] };
  private readonly modelOnly: boolean;
  readonly gen: Generator;
  readonly coverage = new Coverage();
  readonly stats: Stats = { sequences: 0, steps: 0, calls: 0, skipped: 0, genErrors: 0, discarded: 0 };
  readonly doms: GenDomain[];
  readonly worker: number;

  constructor(readonly opts: EngineOptions) {
    this.worker = opts.worker ?? 0;
    const config = machineConfig(opts.domains);
    const vmmOpts = opts.vmm ?? {};
    this.modelOnly = opts.modelOnly === true;
    this.model = new LocalSide(opts.spec, new ReferenceVmm(config, vmmOpts, opts.spec), opts.domains, this.modelOnly);
    if (this.modelOnly) this.target = this.model;
    else {
      const target = opts.factory ? opts.factory(config, vmmOpts) : new ReferenceVmm(config, vmmOpts, opts.spec);
      this.target = new LocalSide(opts.spec, target, opts.domains, true);
    }
    this.doms = genDomains(opts.plans, opts.domains);
    this.gen = new Generator(opts.plans, this.doms, this.coverage);
  }

  /** Runs sequence `index` of this worker; returns a finding or undefined. */
  runSequence(index: number): Finding | undefined {
    const seed = derive(this.opts.seed, this.worker, index);
    const rng = new Rng(seed);
    this.model.reset();
    if (!this.modelOnly) this.target.reset();
    this.last = { steps: [], results: [], lowered: [] };
    const st = new SeqState();
    let len = rng.int(this.opts.minSteps ?? 8, this.opts.maxSteps ?? 40);
    const steps: FStep[] = [];
    this.stats.sequences++;
    this.novel = false;
    this.novelAt = -1;
    this.novelKeys = [];
    this.slow = false;
    // Half the sequences continue a prefix of one that reached something new (coverage-guided):
    // most often all of it, so that what comes next works on the state it reached.
    if (this.corpus.length > 0 && rng.chance(0.5)) {
      const base = this.pickEntry(rng).steps;
      const cut = rng.chance(0.6) ? base.length : rng.int(1, base.length);
      for (let k = 0; k < cut; k++) {
        const step = base[k] as FStep;
        st.replayed(step);
        const r = this.take(step, steps, st, index);
        if (r === 'discard') return undefined;
        if (r !== undefined && r !== 'skip') return r;
      }
      st.focus = FOCUS_STEPS;
    }
    for (let k = steps.length; k < len; k++) {
      let step: FStep;
      try {
        step = this.gen.step(rng, st);
      } catch (e) {
        this.stats.genErrors++;
        if (this.stats.genErrors <= 3) process.emitWarning(`fuzz: the generator failed (a bug of the fuzzer): ${(e as Error).stack ?? String(e)}`);
        continue;
      }
      const r = this.take(step, steps, st, index);
      if (r === 'skip') continue;
      if (r === 'discard') return undefined;
      if (r) return r;
      // Something new happened: the sequence goes on for a while from there.
      if (this.novelAt === steps.length - 1) len = Math.min(Math.max(len, steps.length + AFTER_NEWS), (this.opts.maxSteps ?? 40) + AFTER_NEWS);
      if (this.broke()) {
        this.stats.discarded++;
        return undefined;
      }
      if (this.anyShutDown()) break;
      if (this.heavy()) {
        // A step grew a physmap far beyond the machine (a huge gmfn range): every later check pays for it, so the sequence ends here and stays out of the corpus.
        this.slow = true;
        break;
      }
    }
    const end = this.endState(steps);
    if (end) return { ...end, steps, seed: this.opts.seed, worker: this.worker, sequence: index };
    if (this.novel && !this.slow && this.novelAt >= 0) {
      // The prefix up to the last step that reached something new: continuing it starts from that state.
      const entry = { steps: steps.slice(0, this.novelAt + 1), keys: this.novelKeys };
      const at = this.corpus.length < CORPUS_MAX ? this.corpus.length : this.weakestEntry();
      this.corpus[at] = entry;
      // Only the new entry's weight changes now; the others follow at the next periodic recomputation.
      if (this.entryWeights && at < this.entryWeights.length) this.entryWeights[at] = this.entryWeight(entry);
      else this.entryWeights = undefined;
      // A new entry is continued several times at once (what its new state leads to is most likely news).
      this.freshEntries.push({ entry, left: FRESH_CONTINUATIONS });
      if (this.freshEntries.length > 16) this.freshEntries.shift();
    }
    return undefined;
  }

  /** Runs a step and keeps it in `steps`: 'skip' (not run), 'discard' (the sequence is thrown away), a finding, or undefined. */
  private take(step: FStep, steps: FStep[], st: SeqState, index: number): Finding | 'skip' | 'discard' | undefined {
    const d = this.runStep(step, steps.length, st, true);
    if (d === 'skip' || d === 'discard') return d;
    steps.push(step);
    if (d) return { ...d, steps, seed: this.opts.seed, worker: this.worker, sequence: index };
    if (step.kind === 'write' && step.touch) this.touched(st, step.touch);
    return undefined;
  }

  /** Prefixes of sequences that reached an outcome no earlier one had, with the outcomes they reached first. */
  readonly corpus: { steps: FStep[]; keys: string[] }[] = [];
  /** Outcomes seen, and how often: operation id, result class (ok, an errno, a status), and what happened to its handles before. */
  private readonly outcomes = new Map<string, number>();
  private novel = false;
  /** Index of the last step of this sequence that reached a new outcome, and those outcomes. */
  private novelAt = -1;
  private novelKeys: string[] = [];
  private slow = false;
  /** Corpus weights (the rarer the outcomes an entry reached first, the more often it is continued), recomputed now and then. */
  private entryWeights: Float64Array | undefined;
  /** New entries and how many more continuations each gets before the weighted choice resumes. */
  private readonly freshEntries: { entry: { steps: FStep[]; keys: string[] }; left: number }[] = [];
  private picks = 0;

  /** Counts an outcome; returns how often it has been seen now (1: new). */
  private outcome(key: string): number {
    const n = this.outcomes.get(key);
    if (n !== undefined) {
      this.outcomes.set(key, n + 1);
      return n + 1;
    }
    this.outcomes.set(key, 1);
    this.novel = true;
    this.novelAt = this.last.steps.length - 1;
    this.novelKeys.push(key);
    return 1;
  }

  /** An entry's weight: how rare the rarest outcome it reached first still is (continuing it makes it less so). */
  private entryWeight(e: { keys: string[] }): number {
    let min = Infinity;
    for (const k of e.keys) min = Math.min(min, this.outcomes.get(k) ?? 1);
    return 0.02 + 1 / Math.sqrt(min);
  }

  private pickEntry(rng: Rng): { steps: FStep[]; keys: string[] } {
    // The newest first: what the last new state led to is explored before older news (depth first).
    const fresh = this.freshEntries[this.freshEntries.length - 1];
    if (fresh) {
      if (--fresh.left <= 0) this.freshEntries.pop();
      return fresh.entry;
    }
    if (!this.entryWeights || this.entryWeights.length !== this.corpus.length || ++this.picks % 16 === 0) this.entryWeights = Float64Array.from(this.corpus, (e) => this.entryWeight(e));
    const i = rng.weighted(this.entryWeights);
    return this.corpus[i < 0 ? 0 : i] as { steps: FStep[]; keys: string[] };
  }

  /** The entry a new one replaces: the lowest weight (as last computed). */
  private weakestEntry(): number {
    const ws = this.entryWeights;
    if (!ws || ws.length !== this.corpus.length) this.entryWeights = Float64Array.from(this.corpus, (e) => this.entryWeight(e));
    const w = this.entryWeights as Float64Array;
    let at = 0;
    for (let i = 1; i < w.length; i++) if ((w[i] as number) < (w[at] as number)) at = i;
    return at;
  }

  /** The guest's own write changed a handle's state (masked a port): later calls on it are news. */
  private touched(st: SeqState, t: { res: string; dom: number; v: bigint; what: string }): void {
    const k = handleKey(t.res, t.dom, t.v);
    if (!k) return;
    this.outcome(`${t.dom}:${t.what}<${st.lastOn.get(k) ?? '-'}`);
    st.lastOn.set(k, t.what);
  }

  /**
   * Whether the sequence broke the guest's discipline: a PV guest never makes a page table of
   * its page 0 (where NULL and small pointers land) or of its argument pages, which it maps
   * writable and Xen writes (results, runstate and vCPU areas registered there). The reference
   * VMM keeps no such mappings, so the fuzzer's guest keeps the rule itself; a sequence that
   * broke it (a frame number from an edge value) is dropped.
   */
  private broke(): boolean {
    const vmm = this.model.vmm;
    const fr = vmm.machine.frames;
    for (const d of this.doms) {
      if (d.translated) continue;
      const dm = vmm.machine.domain(d.id);
      if (!dm) continue;
      for (let p = 0; p < d.memoryPages; p++) {
        if (p > 0 && p < payloadPages(d)) continue;
        const m = dm.memory.lookup(gfn(p));
        if (m !== undefined && (fr.typeCount[m] as number) > 0 && fr.type[m] !== PageType.Writable) return true;
      }
    }
    return false;
  }

  /** Whether some domain's physmap grew beyond HEAVY_P2M entries (deterministic, unlike a clock). */
  private heavy(): boolean {
    for (const d of this.model.vmm.machine.domains.values()) if (d.memory.p2m.length > HEAVY_P2M || d.memory.sparse.size > HEAVY_P2M) return true;
    return false;
  }

  private anyShutDown(): boolean {
    for (const d of this.model.vmm.machine.domains.values()) if (d.shutDown) return true;
    return false;
  }

  /**
   * Runs one step on both sides and compares; `observe` feeds coverage and the sequence
   * state from the model's results. 'skip': the model cannot run it (unmapped argument memory).
   */
  runStep(step: FStep, index: number, st: SeqState | undefined, observe: boolean): Divergence | 'skip' | 'discard' | undefined {
    const low = lowerStep(step, this.model.facts, index);
    if (!writesMapped(this.model.vmm, low, step)) {
      this.stats.skipped++;
      return 'skip';
    }
    const rm = this.model.session.execSync(low.instrs);
    const rt = this.modelOnly ? rm : this.target.session.execSync(low.instrs);
    if (observe) {
      this.last.steps.push(step);
      this.last.results.push(rm.results);
      this.last.lowered.push(low);
    }
    this.stats.steps++;
    const op = step.kind === 'call' ? step.id : step.kind;
    if (step.kind === 'call') this.stats.calls++;
    if (rm.error !== undefined) {
      if (this.modelOnly && /invariants broken/.test(rm.error) && (touchesTypedFrames(this.model.vmm, low, step) || pointsAtGrantTable(step) || guestWroteItsEntries(this.model.vmm.machine.invariants()) || (step.kind === 'call' && step.overrun))) {
        this.stats.discarded++;
        return 'discard';
      }
      return { kind: 'model-error', step: index, op, message: `the reference VMM (model) broke: ${rm.error}` };
    }
    if (rt.error !== undefined) return this.targetError(step, low, index, op, rt.error);
    if (step.kind === 'call') {
      const bits = this.model.facts.get(step.dom)?.bits ?? 64;
      const a = rm.results[low.call];
      const b = rt.results[low.call];
      if (!sameResult(a, b)) return { kind: 'result', step: index, op, message: `${step.id} from domain ${step.dom}: result expected ${showInstrResult(a, bits)}, got ${showInstrResult(b, bits)}` };
      for (let j = 0; j < low.reads.length; j++) {
        const ri = low.reads[j] as number;
        if (!sameResult(rm.results[ri], rt.results[ri])) {
          const r = step.reads[j]!;
          return { kind: 'memory', step: index, op, message: `${step.id} from domain ${step.dom}: memory at ${r.at.base}+0x${r.at.off.toString(16)} (${r.length} bytes) expected ${showInstrResult(rm.results[ri])}, got ${showInstrResult(rt.results[ri])}` };
        }
      }
      if (observe) this.observe(step, low, rm.results, st);
    }
    return undefined;
  }

  /**
   * The target broke (an invariant, an exception). When the model broke the same way, it is
   * the reference VMM's own bug (model-error), unless the step made a frame holding its own
   * arguments a page table: a PV guest cannot do that (it maps its argument pages writable),
   * so the sequence is discarded.
   */
  private targetError(step: FStep, low: Lowered, index: number, op: string, error: string): Divergence | 'discard' {
    if (!/invariants broken/.test(error)) return { kind: 'target-error', step: index, op, message: error };
    const mi = this.model.vmm.machine.invariants();
    if (mi.length === 0) return { kind: 'target-error', step: index, op, message: error };
    // Both VMMs broke: the step made Xen write where a guest keeps what Xen must not be told to
    // change (its page tables; its grant entries in use; past a lying count, the shared_info and
    // grant frames after its RAM).
    if (touchesTypedFrames(this.model.vmm, low, step) || pointsAtGrantTable(step) || guestWroteItsEntries(mi) || (step.kind === 'call' && step.overrun)) {
      this.stats.discarded++;
      return 'discard';
    }
    return { kind: 'model-error', step: index, op, message: `the reference VMM breaks its invariants: ${mi.slice(0, 3).join('; ')}` };
  }

  /** Coverage and what the sequence learns, from the model's results. */
  observe(step: CallStep, low: Lowered, results: readonly InstrResult[], st: SeqState | undefined): void {
    const cov = this.coverage;
    if (st && step.plan?.family === 'grant_table') {
      // The guest can write grant entries where the target says its table is, once it is there.
      for (const d of this.doms) {
        const f = this.model.facts.get(d.id);
        const at = f?.layout.grantTable;
        if (at !== undefined && !st.grantReady.has(d.id) && this.model.vmm.machine.domain(d.id)?.memory.lookup(gfn(Number(at / 4096n))) !== undefined) st.grantReady.add(d.id);
      }
    }
    cov.markCall(step.id);
    const plan = step.plan;
    if (!plan) return;
    const r = results[low.call];
    if (r?.op !== 'call') return;
    const signed = Number(BigInt.asIntN(plan.bits, r.result));
    const failed = signed < 0 && signed >= -4095;
    // The outcome, with the small handles the call named (vCPU 1 coming up is news even when vCPU 0 did)
    // and a small result (a vCPU that is up answers 1).
    const newBefore = this.novelKeys.length;
    // (The first one only: which frames a batch lists, in which order, is no news.)
    let small = '';
    for (const u of step.used ?? []) {
      if (typeof u.v !== 'bigint' || u.v >= 8n || u.res === 'domid') continue;
      small = `,${u.res}=${u.v}`;
      break;
    }
    const cls = failed ? String(signed) : signed > 0 && signed < 64 ? `ok${signed}` : 'ok';
    const seen = this.outcome(`${step.dom}:${plan.id}:${cls}${small}`);
    if (failed) for (const e of plan.errors) if (e.via === 'return' && e.value === signed) cov.markError(plan.id, e.code);
    const statusAt = new Map<string, number>();
    for (const o of step.outputs) {
      const rr = results[low.reads[o.read] as number];
      if (rr?.op !== 'read' || !('bytes' in rr)) continue;
      let v = 0n;
      for (let i = o.size - 1; i >= 0; i--) v = (v << 8n) | BigInt(rr.bytes[o.off + i] ?? 0);
      if (o.kind === 'status') {
        const s = Number(BigInt.asIntN(o.size * 8, v));
        statusAt.set(`${o.read}:${Math.floor(o.off / 4096)}`, s);
        if (s !== 0) {
          // A declared status, or any other (what a failed element leaves there is not news).
          let declared = false;
          for (const e of plan.errors) {
            if (e.via !== 'status' || e.value !== s) continue;
            cov.markError(plan.id, e.code);
            declared = true;
          }
          this.outcome(`${step.dom}:${plan.id}:s${declared ? s : '?'}`);
        }
      } else if (!failed && st && o.resource) {
        st.add(o.resource, step.dom, v);
        if (o.owner !== undefined && o.owner !== step.dom) st.add(o.resource, o.owner, v);
      }
    }
    if (!st) return;
    let status = 0;
    for (const s of statusAt.values()) if (s !== 0) status = s;
    const ok = !failed && status === 0;
    // What happened to each handle before (the operation that last named it and succeeded, the
    // guest's write): a call on a handle in a state not seen before is news too (vCPU 1 down
    // after up, a send on a masked port, the VIRQ bound again after the reset).
    const kind = ok ? cls : failed ? cls : `s${status}`;
    const touched: string[] = [];
    for (const u of step.used ?? []) {
      const k = handleKey(u.res, u.dom, u.v);
      if (!k) continue;
      const prev = st.lastOn.get(k);
      if (ok || prev !== undefined) this.outcome(`${step.dom}:${plan.id}:${kind}:${u.res}${typeof u.v === 'bigint' && u.v < 2n ? `=${u.v}` : ''}<${prev ?? '-'}`);
      if (ok) touched.push(k);
    }
    if (ok) {
      const recent: SeqState['recent'] = [];
      for (const u of step.used ?? []) {
        st.add(u.res, u.dom, u.v);
        recent.push({ res: u.res, dom: u.dom, caller: step.dom, v: u.v });
      }
      for (const o of step.outputs) {
        if (o.kind !== 'produce' || !o.resource) continue;
        const rr = results[low.reads[o.read] as number];
        if (rr?.op !== 'read' || !('bytes' in rr)) continue;
        let v = 0n;
        for (let i = o.size - 1; i >= 0; i--) v = (v << 8n) | BigInt(rr.bytes[o.off + i] ?? 0);
        recent.push({ res: o.resource, dom: o.owner ?? step.dom, caller: step.dom, v, produced: true });
        const k = handleKey(o.resource, o.owner ?? step.dom, v);
        if (k) {
          this.outcome(`${step.dom}:${plan.id}:produced:${o.resource}<${st.lastOn.get(k) ?? '-'}`);
          touched.push(k);
        }
      }
      for (const k of touched) st.lastOn.set(k, plan.id);
      if (step.fields && step.fields.size > 0) st.lastFields = step.fields;
      if (recent.length > 0) st.recent = recent;
      if (st.history.length < 64 && !st.history.includes(step)) st.history.push(step);
      // Something new succeeded: the next steps work on what it named (vCPU 1 came up: take it down).
      if (this.novelKeys.length > newBefore || seen <= RARE_SUCCESS) st.focus = FOCUS_STEPS;
    }
  }

  /** Every page of every domain, on both sides. */
  endState(steps: readonly FStep[]): Divergence | undefined {
    const last = [...steps].reverse().find((s) => s.kind === 'call') as CallStep | undefined;
    const op = last?.id ?? 'end';
    const mi = this.model.vmm.machine.invariants();
    if (mi.length > 0) return { kind: 'model-error', step: steps.length - 1, op, message: `the reference VMM (model) broke its invariants: ${mi.slice(0, 3).join('; ')}` };
    if (this.modelOnly) return undefined;
    for (const dm of this.model.vmm.machine.domains.values()) {
      const dt = this.target.vmm.machine.domain(dm.id);
      if (!dt) return { kind: 'end-state', step: steps.length - 1, op, message: `domain ${dm.id} is gone on the target` };
      const fa = this.model.vmm.machine.frames;
      const fb = this.target.vmm.machine.frames;
      for (let p = 0; p <= dm.memory.maxFrames && p <= dm.sharedInfoGfn; p++) {
        // The frames' bytes in place (no copy): a page is one frame.
        const ma = dm.memory.lookup(gfn(p));
        const mb = dt.memory.lookup(gfn(p));
        const okA = ma !== undefined && fa.valid(ma);
        const okB = mb !== undefined && fb.valid(mb);
        if (okA !== okB) return { kind: 'end-state', step: steps.length - 1, op, message: `domain ${dm.id} page ${p}: ${okA ? 'mapped' : 'unmapped'} on the model, ${okB ? 'mapped' : 'unmapped'} on the target`, where: { dom: dm.id, page: p, off: 0 } };
        if (!okA) continue;
        const pa = fa.read(ma);
        const pb = fb.read(mb as Mfn);
        if (Buffer.compare(pa, pb) !== 0) {
          let off = 0;
          while (pa[off] === pb[off]) off++;
          return { kind: 'end-state', step: steps.length - 1, op, message: `domain ${dm.id} page ${p} (${p === dm.sharedInfoGfn ? 'shared_info' : 'data'}) differs at offset 0x${off.toString(16)}: expected ${hexAround(pa, off)}, got ${hexAround(pb, off)}`, where: { dom: dm.id, page: p, off } };
        }
      }
    }
    return undefined;
  }

  /**
   * Replays a list of steps on reset machines; returns the first divergence (with its step
   * index) and the model's results per step.
   */
  replay(steps: readonly FStep[]): { divergence?: Divergence; results: (readonly InstrResult[] | undefined)[]; lowered: (Lowered | undefined)[] } {
    this.model.reset();
    this.target.reset();
    const results: (readonly InstrResult[] | undefined)[] = [];
    const lowered: (Lowered | undefined)[] = [];
    for (let k = 0; k < steps.length; k++) {
      const step = steps[k] as FStep;
      const low = lowerStep(step, this.model.facts, k);
      if (!writesMapped(this.model.vmm, low, step)) {
        return { divergence: { kind: 'model-error', step: k, op: 'write', message: 'the step writes memory the model does not map' }, results, lowered };
      }
      const rm = this.model.session.execSync(low.instrs);
      const rt = this.target.session.execSync(low.instrs);
      results.push(rm.results);
      lowered.push(low);
      const d = this.compare(step, k, low, rm, rt);
      if (d) return { divergence: d, results, lowered };
    }
    const end = this.endState(steps);
    return { ...(end ? { divergence: end } : {}), results, lowered };
  }

  private compare(step: FStep, k: number, low: Lowered, rm: { results: InstrResult[]; error?: string }, rt: { results: InstrResult[]; error?: string }): Divergence | undefined {
    const op = step.kind === 'call' ? step.id : step.kind;
    if (rm.error !== undefined) return { kind: 'model-error', step: k, op, message: `the reference VMM (model) broke: ${rm.error}` };
    if (rt.error !== undefined) {
      const d = this.targetError(step, low, k, op, rt.error);
      return d === 'discard' ? { kind: 'model-error', step: k, op, message: 'discarded: the step types a frame holding its own arguments' } : d;
    }
    if (step.kind !== 'call') return undefined;
    if (!sameResult(rm.results[low.call], rt.results[low.call])) return { kind: 'result', step: k, op, message: `${step.id}: result differs` };
    for (const ri of low.reads) if (!sameResult(rm.results[ri], rt.results[ri])) return { kind: 'memory', step: k, op, message: `${step.id}: memory differs` };
    return undefined;
  }
}

function hexAround(b: Uint8Array, off: number): string {
  const from = off & ~7;
  return Buffer.from(b.subarray(from, from + 16)).toString('hex');
}

/** The layouts of the reference VMM for a machine (what the model reports). */
export function modelLayouts(domains: readonly ProgramDomain[]): DomainLayout[] {
  return referenceLayouts(domains);
}
