/**
 * Fuzzing targets outside this process: a testee over the protocol (cmd:"...", an
 * interactive target) or real Xen (live-xen, a batch target). Sequences are generated on the
 * model (the reference VMM in this process decides what each sequence learns and checks its
 * own invariants), then run on the target, one machine per sequence (interactive) or many
 * sequences per boot (batch), and compared offline: each call's result, the memory it may
 * touch, and at the end each domain's event-channel bitmaps. A divergence is shrunk with the
 * same delta debugging, every candidate run again on the target.
 *
 * What the two sides cannot agree on is not compared (docs/fuzz.md, "External targets"):
 *
 * - The oracle: a target may name the reference VMM set up as its machines start (live Xen's
 *   twin, live-xen/twin.ts: dom0's boot page tables, the host's build id); its results are
 *   the expectations. Otherwise the generating model is the oracle.
 * - Run-time values the guest wrote (an address of its data area, a frame number, a
 *   page-table entry) are the target's own: read back, those bytes are compared only where
 *   both sides resolve them alike (addresses on the same layout; frames never).
 * - A pointer passed as a plain number (NULL, an edge value) means different memory on
 *   targets whose layout differs from the model's: a step with one that lands in memory
 *   either side maps is not run there (counted); those unmapped on both still test -EFAULT.
 * - A step after which the model has shut a domain down ends the sequence; on a target whose
 *   domains really stop (live Xen), the call not returning and nothing after it is agreement.
 */
import type { DomainLayout, Instr, InstrResult, Program, ProgramDomain } from '../conformance/program.js';
import type { BatchTarget, ExecResult, InteractiveTarget, MachineKnobs, Target } from '../conformance/target.js';
import { referenceLayouts, type ReferenceSession } from '../conformance/targets/reference.js';
import { gaddr, gfn } from '../reference-vmm/addr.js';
import { PortState } from '../reference-vmm/evtchn/state.js';
import { grantTables } from '../reference-vmm/grant/handlers.js';
import { miscState } from '../reference-vmm/misc/handlers.js';
import { schedulerOf } from '../reference-vmm/sched/ops.js';
import type { Spec } from '../spec/model.js';
import { LayoutEngine } from '../spec/layout.js';
import { findArch, findAbi } from '../spec/query.js';
import { Coverage, type Divergence, domFacts, type Finding, LocalFuzzer, LocalSide, recordCoverage, sameResult, showInstrResult } from './engine.js';
import { namesPath } from './gen.js';
import { SpecPlans, type FNode, type OpPlan, type TNode } from './plan.js';
import { reproducer, reproducerYaml, type Provenance } from './reproducer.js';
import type { FindingReport, RunOptions, RunReport } from './run.js';
import { recordFinding } from './run.js';
import { sameFailure, shrink } from './shrink.js';
import { address, LowerError, lowerStep, type CallStep, type FStep, type Lowered, type MemStep, type Place, type ReadSpec, type Val, type WriteSpec } from './step.js';

export interface ExternalRunOptions extends RunOptions {
  target: Target;
  targetName: string;
  /** Sequences per boot of a batch target (default 64). */
  batch?: number;
}

/** Why a target and the oracle cannot agree on a call of some operation. */
export interface CallException {
  /** skip: the call is not run there; value: it runs, and only its result's class (success, or which error) is compared, not the bytes read back. */
  kind: 'skip' | 'value';
  /**
   * When a skip applies: always (undefined), when the oracle's call succeeds, when it returns
   * this (negative) errno, or (`short`) when it did fewer extents than the call's struct asks
   * for (`nr_extents`: memory_op's reservation commands return the extents done).
   */
  when?: 'success' | 'short' | number;
  why: string;
}

/** What a target may offer the fuzzer beyond the conformance interfaces (the live-xen target offers all of it). */
export interface TargetTraits {
  /**
   * The reference VMM set up as this target's machines start: the oracle its results are
   * compared with. The fuzzer asks for it without page 0 of the data areas (`zeroPage:
   * false`): its guest never uses that page, and NULL and small pointers then fault there as
   * on a kernel whose data area is elsewhere; and with its page tables mapping the data area
   * where the target's kernel has it (`liveVirtual`), so that linear addresses mean the same.
   */
  twin?: (o?: { zeroPage?: boolean; liveVirtual?: boolean }) => { readonly name: string; openSync(domains: readonly ProgramDomain[], knobs?: MachineKnobs): ReferenceSession } & InteractiveTarget;
  /** A domain that shuts down really stops: the call that shut it down does not return, and nothing after it runs. */
  readonly shutdownStops?: boolean;
  /** Operations (by id) the target and the oracle cannot agree on, with why. */
  fuzzExceptions?: () => ReadonlyMap<string, readonly CallException[]>;
  /** The target's kernel takes no event upcall: it keeps every vCPU's evtchn_upcall_mask set (guest writes leave it so). */
  readonly eventsMasked?: boolean;
}

/**
 * What every implementation answers for itself: its build strings (xen/common/kernel.c
 * do_xen_version: XEN_EXTRAVERSION, the compiler and build host, the changeset, the
 * capabilities of its build and CPU). Against any target but the reference VMM itself, only
 * the result's class is compared. (The build id and the command line are the host's too; the
 * live twin takes them from the host.)
 */
export const IDENTITY: ReadonlyMap<string, readonly CallException[]> = new Map(
  (
    [
      ['xen_version$XENVER_extraversion', 'the version suffix of the implementation’s build'],
      ['xen_version$XENVER_compile_info', 'the compiler, builder and date of the implementation’s build'],
      ['xen_version$XENVER_changeset', 'the source revision of the implementation’s build'],
      ['xen_version$XENVER_capabilities', 'the ABIs the implementation’s build and its CPU offer'],
    ] as const
  ).map(([id, why]) => [id, [{ kind: 'value', why }]]),
);

/** What an external run leaves out for targets that need it (counted in the report's `excluded`, by these texts). */
export const EXCLUDED_WHY = {
  layoutPointers: 'call steps not run: a pointer lands in memory that differs between the target’s layout and the model’s (a plain number such as NULL or an edge value that one side maps, a place past the end of shared_info, the grant table’s frames, which the target’s kernel maps only while it touches them itself)',
  shutdowns: 'sequences ended at a call that shuts a domain down: on this target the domain really stops (the call need not return)',
  nmi: 'call steps not run: they leave an NMI pending for a vCPU whose NMI handler the sequence registered (a plain number): Xen delivers it, and the live kernel would run whatever is there',
  blocked: 'call steps not run: they leave the calling vCPU blocked on the oracle (SCHEDOP_poll of ports nothing makes pending, a far timeout): on this target it would sleep until the harness gives up on it',
  rawFrames: 'call steps not run: a frame number given as a plain number (an edge value, a page number) names a different machine frame, or none, on the target',
  overruns: 'call steps not run: a count past the elements generated makes Xen walk on into what follows them, which differs between the layouts (the live kernel’s own memory)',
  clears: 'guest writes added after calls: the guest zeroes the run-time values it handed Xen (addresses, frames), so that later calls reading past their own arguments meet the same bytes on both sides',
  keptMasked: 'guest writes to shared_info that would clear a vCPU’s evtchn_upcall_mask write it set: the target’s kernel takes no event upcall (it has no event callback)',
  unmappedWrites: 'guest writes not run: the oracle does not map that memory once the steps above were left out (a grant table whose set-up call was not run)',
  oracleRefused: 'sequences the oracle could not replay without the steps left out: not run on the target',
  grantLeaks: 'call steps not run: they make a grant mapping the sequence leaves in place, which on this target outlives the sequence (the next sequences run on the same machine, whose reset does not unmap grants)',
  maskedBytes: 'bytes read back not compared: run-time values the guest wrote there (addresses of its memory, frame numbers, page-table entries), which the target resolves itself',
} as const;

/** Where a domain's event-channel bitmaps are in its shared_info page. */
function eventRegions(spec: Spec, domains: readonly ProgramDomain[]): { dom: number; at: Place; length: number; field: string }[] {
  const out: { dom: number; at: Place; length: number; field: string }[] = [];
  for (const d of domains) {
    const abi = findAbi(spec, d.abi);
    const arch = abi ? findArch(spec, abi.arch) : undefined;
    if (!arch) continue;
    const lay = new LayoutEngine(spec, arch).named('struct shared_info');
    for (const f of ['evtchn_pending', 'evtchn_mask']) {
      const fl = lay.fields[f];
      if (fl) out.push({ dom: d.id, at: { base: 'shared', off: fl.offset }, length: fl.size, field: f });
    }
  }
  return out;
}

/** When a conditional exception applies, in words. */
function whenText(e: CallException): string {
  return e.when === 'success' ? 'succeed' : e.when === 'short' ? 'do fewer extents than asked' : `return ${e.when}`;
}

/** An integer field of a call's argument struct as the guest wrote it (undefined: no such field, or a run-time value). */
function argField(s: CallStep, name: string): number | undefined {
  const plan = s.plan;
  const f = plan?.arg?.node.fields?.find((x) => x.name === name);
  const at = plan ? s.args[plan.regs.findIndex((r) => r.role === 'argument')] : undefined;
  if (!f || f.node.k !== 'int' || !at || typeof at !== 'object' || !('place' in at)) return undefined;
  const w = s.writes.find((x) => x.dom === s.dom && x.at.base === at.place.base && x.at.off === at.place.off);
  if (!w || f.offset + f.node.size > w.bytes.length || w.patches.some((p) => p.off < f.offset + f.node.size && p.off + p.size > f.offset)) return undefined;
  let v = 0;
  for (let i = f.node.size - 1; i >= 0; i--) v = v * 256 + (w.bytes[f.offset + i] as number);
  return v;
}

/** Resources whose plain values mean a place in the machine: frames, machine addresses, linear addresses. */
const MACHINE_RESOURCES = new Set(['mfn', 'gfn', 'maddr', 'linear_address']);

/** The paths at which an operation passes a frame or an address: its `consumes`, and the paths its errors' triggers name such a resource at. */
function machinePaths(plan: OpPlan): Map<string, string> {
  const wanted = new Map([...plan.consumes].filter(([, r]) => MACHINE_RESOURCES.has(r)));
  // Paths an error's trigger names a frame at (dev_bus_addr of a cache flush) carry one too.
  for (const [path, ts] of plan.triggers) for (const t of ts) if (t.kind === 'resource' && MACHINE_RESOURCES.has(t.resource) && !wanted.has(path)) wanted.set(path, t.resource);
  return wanted;
}

/**
 * The operation each element of a batched call selects (its `cmd`, the low bits of `ptr`), as
 * Xen reads it: the generator sometimes writes another command than its plan's.
 */
function elementPlan(plan: OpPlan, plans: SpecPlans, w: WriteSpec, off: number): OpPlan {
  const sel = plan.elementSelector;
  const node = plan.arg?.node;
  const f = sel && node?.fields?.find((x) => x.name === sel.field.replace(/^.*\./, ''));
  if (!sel || !f || f.node.k !== 'int') return plan;
  const patch = w.patches.find((p) => p.off === off + f.offset);
  let v = 0n;
  if (patch) {
    if (typeof patch.val === 'bigint') v = patch.val;
    else if ('frame' in patch.val) v = patch.val.or ?? 0n;
    else return plan;
  } else for (let i = f.node.size - 1; i >= 0; i--) v = (v << 8n) | BigInt(w.bytes[off + f.offset + i] ?? 0);
  const cmd = v & sel.mask;
  return (plans.byAbi.get(plan.abi.name) ?? []).find((p) => p.hypercall === plan.hypercall && p.op !== undefined && BigInt(p.op.value) === cmd) ?? plan;
}

/** The operations a call makes as Xen reads it: its own, and each element's of a batched call. */
export function elementOps(s: CallStep, plans: SpecPlans): OpPlan[] {
  const plan = s.plan;
  if (!plan?.elementSelector || !plan.arg) return plan ? [plan] : [];
  const at = s.args[plan.regs.findIndex((r) => r.role === 'argument')];
  if (!at || typeof at !== 'object' || !('place' in at)) return [plan];
  const w = s.writes.find((x) => x.dom === s.dom && x.at.base === at.place.base && x.at.off === at.place.off);
  const size = plan.arg.node.size;
  if (!w || size <= 0) return [plan];
  const out = new Set<OpPlan>([plan]);
  for (let off = 0; off + size <= w.bytes.length; off += size) out.add(elementPlan(plan, plans, w, off));
  return [...out];
}

/**
 * The fields of an element of a batch of entries written at machine addresses (mmu_update's
 * ptr and val), by the resources the spec says they carry: an address (maddr) and a frame
 * (mfn); undefined for other operations.
 */
function entryFields(plan: OpPlan | undefined): { addr: number; value: number; size: number; element: number } | undefined {
  const node = plan?.arg?.node;
  if (!plan || !node?.fields) return undefined;
  const field = (res: string) => node.fields?.find((f) => f.node.k === 'int' && plan.consumes.get(`arg.${f.name}`) === res);
  const a = field('maddr');
  const v = field('mfn');
  return a && v ? { addr: a.offset, value: v.offset, size: v.node.size, element: node.size } : undefined;
}

/** How many elements of its batch a call wrote (1 for a call that is not a batch). */
function batchElements(s: CallStep): number {
  const plan = s.plan;
  if (!plan?.elementSelector || !plan.arg || plan.arg.node.size <= 0) return 1;
  const at = s.args[plan.regs.findIndex((r) => r.role === 'argument')];
  if (!at || typeof at !== 'object' || !('place' in at)) return 1;
  const w = s.writes.find((x) => x.dom === s.dom && x.at.base === at.place.base && x.at.off === at.place.off);
  return w ? Math.max(1, Math.floor(w.bytes.length / plan.arg.node.size)) : 1;
}

/**
 * The plain numbers a call passes where the spec says a frame or an address travels (the
 * operation's `consumes` paths, or those its errors' triggers name: register arguments, fields
 * of the argument struct, whatever union member the generator filled, and of the arrays its
 * handles point to; each element of a batched call by the command it carries), read from the
 * registers and the bytes the guest wrote. Run-time operands (frames, places) are not plain numbers.
 */
export function plainResources(s: CallStep, plans: SpecPlans): { res: string; v: bigint }[] {
  const plan = s.plan;
  if (!plan) return [];
  const out: { res: string; v: bigint }[] = [];
  const tc = plans.compilers.get(plan.arch.name);
  const writeAt = (p: Place) => s.writes.find((w) => w.dom === s.dom && w.at.base === p.base && w.at.off === p.off);
  // Foreign memory the call did not write (a struct in shared_info's tail): zeros, as far as the
  // generator knows (the run-time values earlier calls wrote there are cleared after them).
  const memAt = (p: Place, size: number): WriteSpec | undefined => writeAt(p) ?? (p.base === 'shared' && size > 0 ? { dom: s.dom, at: p, bytes: new Uint8Array(size), patches: [] } : undefined);
  const covered = (w: WriteSpec, off: number) => w.patches.some((p) => off >= p.off && off < p.off + p.size);
  const readInt = (w: WriteSpec, off: number, size: number): bigint | undefined => {
    if (off + size > w.bytes.length || covered(w, off)) return undefined;
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(w.bytes[off + i] as number);
    return v;
  };
  // The fields of a struct, or the members of a union Xen may read: those the operation names
  // (MMUEXT_SET_LDT reads arg2 as nr_ents, not as the vcpumask pointer), all when it names none.
  const members = (op: OpPlan, node: TNode, path: string): readonly FNode[] => {
    const fields = node.fields ?? [];
    if (node.k !== 'union') return fields;
    const named = fields.filter((f) => namesPath(op, `${path}.${f.name}`));
    return named.length > 0 ? named : fields;
  };
  const walk = (op: OpPlan, wanted: Map<string, string>, w: WriteSpec, node: TNode, base: number, path: string, depth: number): void => {
    if (depth > 4) return;
    if (node.k === 'ptr') {
      // A pointer field the guest left a plain number in (NULL, or another union member's value Xen reads as a pointer).
      const v = readInt(w, base, node.size);
      if (v !== undefined && v !== 0n) out.push({ res: 'pointer', v });
    }
    if (![...wanted.keys()].some((k) => k === path || k.startsWith(`${path}.`) || k.startsWith(`${path}[]`))) {
      if (node.k === 'struct' || node.k === 'union') for (const f of members(op, node, path)) walk(op, wanted, w, f.node, base + f.offset, `${path}.${f.name}`, depth + 1);
      return;
    }
    if (node.k === 'int') {
      const res = wanted.get(path);
      const v = res ? readInt(w, base, node.size) : undefined;
      if (res && v !== undefined) out.push({ res, v });
      return;
    }
    if (node.k === 'array' && node.of) {
      for (let i = 0; i < (node.length ?? 0); i++) walk(op, wanted, w, node.of, base + i * node.of.size, `${path}[]`, depth + 1);
      return;
    }
    if (node.k === 'ptr') {
      const patch = w.patches.find((p) => p.off === base);
      if (!patch || typeof patch.val !== 'object' || !('place' in patch.val) || !node.to || !tc) return;
      const el = tc.ref(node.to);
      const target = memAt(patch.val.place, el.size);
      if (target && el.size > 0) for (let off = 0; off + el.size <= target.bytes.length; off += el.size) walk(op, wanted, target, el, off, wanted.has(path) ? path : `${path}[]`, depth + 1);
      return;
    }
    for (const f of members(op, node, path)) walk(op, wanted, w, f.node, base + f.offset, `${path}.${f.name}`, depth + 1);
  };
  const own = machinePaths(plan);
  plan.regs.forEach((r, i) => {
    const a = s.args[i];
    if (a === undefined) return;
    if (typeof a === 'bigint') {
      const res = own.get(r.name);
      if (res) out.push({ res, v: a });
      return;
    }
    if (!('place' in a)) return;
    const w = memAt(a.place, r.role === 'argument' ? (plan.arg?.node.size ?? 0) : ((r.node ?? (r.to && tc ? tc.ref(r.to) : undefined))?.size ?? 0));
    if (!w) return;
    if (r.role === 'argument' && plan.arg) {
      // The operation's struct is `arg` in paths, whatever its register is called (ureqs, uops).
      const size = plan.arg.node.size;
      for (let off = 0; size > 0 && off + size <= w.bytes.length; off += size) {
        const ep = elementPlan(plan, plans, w, off);
        walk(ep, machinePaths(ep), w, plan.arg.node, off, 'arg', 0);
      }
    } else if (r.role === 'pointer') {
      const node = r.node ?? (r.to && tc ? tc.ref(r.to) : undefined);
      const size = node?.size ?? 0;
      for (let off = 0; node && size > 0 && off + size <= w.bytes.length; off += size) walk(plan, own, w, node, off, own.has(r.name) ? r.name : `${r.name}[]`, 0);
    }
  });
  return out;
}

/**
 * The calls a multicall's entries make (their registers in `op` and `args`, pointers as the
 * generator placed them), as call steps of their own plans; none for other calls.
 */
export function nestedCalls(s: CallStep, plans: SpecPlans): CallStep[] {
  const plan = s.plan;
  // The entries: the operation's struct, or (multicall has no operations) what its pointer argument points to.
  const argIdx = plan?.arg ? plan.regs.findIndex((r) => r.role === 'argument') : (plan?.regs.findIndex((r) => r.role === 'pointer') ?? -1);
  const reg = plan?.regs[argIdx];
  const tc = plan ? plans.compilers.get(plan.arch.name) : undefined;
  const node = plan?.arg?.node ?? reg?.node ?? (reg?.to && tc ? tc.ref(reg.to) : undefined);
  const opF = node?.fields?.find((f) => f.name === 'op');
  const argsF = node?.fields?.find((f) => f.name === 'args');
  if (!plan || !node || !opF || !argsF?.node.of || plan.hypercall.name !== 'multicall') return [];
  const at = s.args[argIdx];
  if (!at || typeof at !== 'object' || !('place' in at)) return [];
  const w = s.writes.find((x) => x.dom === s.dom && x.at.base === at.place.base && x.at.off === at.place.off);
  if (!w || node.size <= 0) return [];
  const word = argsF.node.of.size;
  const le = (off: number, size: number): bigint => {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(w.bytes[off + i] ?? 0);
    return v;
  };
  const byAbi = plans.byAbi.get(plan.abi.name) ?? [];
  const out: CallStep[] = [];
  for (let e = 0; e + node.size <= w.bytes.length; e += node.size) {
    const nr = Number(le(e + opF.offset, Math.min(opF.node.size, 4)));
    const args = Array.from({ length: argsF.node.length ?? 0 }, (_, i): Val => {
      const off = e + argsF.offset + i * word;
      return w.patches.find((p) => p.off === off)?.val ?? le(off, word);
    });
    const inner = byAbi.filter((p) => p.nr === nr).find((p) => {
      if (!p.op) return true;
      const sel = p.regs.findIndex((r) => r.role === 'selector');
      const v = args[sel];
      return typeof v === 'bigint' && (v & (p.selectorMask ?? (1n << 64n) - 1n)) === BigInt(p.op.value);
    });
    if (inner) out.push({ ...s, id: inner.id, plan: inner, nr, args, reads: [], outputs: [], used: [], rawPtrs: [], doc: `${inner.id} (a multicall entry)` });
  }
  return out;
}

/** A generated sequence as the oracle ran it. */
interface ModelRun {
  steps: FStep[];
  results: (readonly InstrResult[])[];
  lowered: Lowered[];
  /** The event bitmaps of each domain at the end, on the oracle. */
  end: { dom: number; at: Place; bytes: Uint8Array; ignore?: number[] }[];
  /** The last step shut a domain down on a target whose domains really stop: the end is not read. */
  stops?: boolean;
}

const PAGE = 4096n;

/** The markers of calls dropped because they leave their vCPU blocked, or an NMI on its way to a handler the sequence registered. */
const BLOCKED: CallException = { kind: 'skip', why: 'blocked' };
const NMI: CallException = { kind: 'skip', why: 'nmi' };
/** The marker of calls dropped because the grant mapping they made is still there when the sequence ends. */
const LEAKS: CallException = { kind: 'skip', why: 'leaks' };

/** The grant mappings the oracle's domains hold (`domain:handle`), from their maptracks. */
function grantMappings(m: LocalSide): Set<string> {
  const out = new Set<string>();
  const g = grantTables(m.vmm).state;
  for (const t of g.tables.values()) for (let h = 0; h < t.mtFlags.length; h++) if (t.mtFlags[h] !== 0) out.add(`${t.domid}:${h}`);
  return out;
}

/** Bytes past a place a call may reach (an argument struct, an array Xen walks): a place closer than this to the end of its area may run into what follows it. */
const PLACE_TAIL = 512;

/** Whether a bitmap read back is the oracle's, but for the bits `ignore` names. */
function sameBits(expected: Uint8Array, t: InstrResult, ignore: readonly number[] = []): boolean {
  if (t.op !== 'read' || !('bytes' in t) || t.bytes.length !== expected.length) return sameResult({ op: 'read', bytes: expected }, t);
  const a = Uint8Array.from(expected);
  const b = Uint8Array.from(t.bytes);
  for (const bit of ignore) {
    const m = ~(1 << (bit & 7)) & 0xff;
    a[bit >> 3] = (a[bit >> 3] as number) & m;
    b[bit >> 3] = (b[bit >> 3] as number) & m;
  }
  return Buffer.compare(a, b) === 0;
}

/** Whether two call results are the same register value at the caller's width (a target may report it signed). */
function sameCall(a: InstrResult | undefined, b: InstrResult | undefined, bits: number): boolean {
  if (a?.op !== 'call' || b?.op !== 'call') return sameResult(a, b);
  return BigInt.asUintN(bits, a.result) === BigInt.asUintN(bits, b.result);
}

/** Whether two call results are of the same class: both successes (any value), or the same error. */
function sameClass(a: InstrResult | undefined, b: InstrResult | undefined, bits: number): boolean {
  if (a?.op !== 'call' || b?.op !== 'call') return sameResult(a, b);
  const err = (r: bigint): number | undefined => {
    const v = Number(BigInt.asIntN(bits, r));
    return v < 0 && v >= -4095 ? v : undefined;
  };
  return err(a.result) === err(b.result);
}

export class ExternalFuzzer {
  readonly gen: LocalFuzzer;
  /** Spec coverage of what ran on the target: operations called there, declared errors the oracle's results there are. */
  readonly reached = new Coverage();
  /** The reference VMM the target's results are compared with: the target's twin, or the generating model. */
  readonly oracle: LocalSide;
  /** The target's twin, when it has one (the oracle's target: reproducers are verified on it). */
  readonly twin: ReturnType<NonNullable<TargetTraits['twin']>> | undefined;
  readonly regions: { dom: number; at: Place; length: number; field: string }[];
  readonly knobs: MachineKnobs;
  /** What was left out, by why (EXCLUDED_WHY texts, and per operation the target's exceptions). */
  readonly excluded = new Map<string, number>();
  private readonly exceptions: ReadonlyMap<string, readonly CallException[]>;
  /** Prepared steps compared by their result's class only, with why. */
  private readonly byClass = new WeakMap<FStep, string>();
  private readonly modelLayouts: Map<number, DomainLayout>;
  private readonly targetLayouts: Map<number, DomainLayout>;
  private readonly shutdownStops: boolean;
  private readonly eventsMasked: boolean;

  constructor(
    readonly o: ExternalRunOptions,
    readonly plans: SpecPlans,
    targetLayouts: readonly DomainLayout[],
  ) {
    this.gen = new LocalFuzzer({ spec: o.spec, plans, domains: o.domains, seed: o.seed, worker: o.worker ?? 0, modelOnly: true, ...(o.vmm ? { vmm: o.vmm } : {}), ...(o.minSteps ? { minSteps: o.minSteps } : {}), ...(o.maxSteps ? { maxSteps: o.maxSteps } : {}) });
    this.regions = eventRegions(o.spec, o.domains);
    this.knobs = o.vmm?.preemptEvery !== undefined ? { preemptEvery: o.vmm.preemptEvery } : {};
    const traits = o.target as Target & TargetTraits;
    this.twin = typeof traits.twin === 'function' ? traits.twin({ zeroPage: false, liveVirtual: true }) : undefined;
    const session = this.twin?.openSync(o.domains, this.knobs);
    this.oracle = session ? new LocalSide(o.spec, session.vmm, o.domains, true) : this.gen.model;
    // A target with its own machine numbers frames its own way (rawFrame below leaves plain ones out).
    this.gen.gen.ownFrames = this.twin !== undefined;
    this.shutdownStops = traits.shutdownStops === true;
    this.eventsMasked = traits.eventsMasked === true;
    const own = typeof traits.fuzzExceptions === 'function' ? traits.fuzzExceptions() : new Map<string, readonly CallException[]>();
    this.exceptions = new Map([...IDENTITY, ...own].map(([id]) => [id, [...(own.get(id) ?? []), ...(IDENTITY.get(id) ?? [])]]));
    this.modelLayouts = new Map(referenceLayouts(o.domains).map((l) => [l.id, l]));
    this.targetLayouts = new Map(targetLayouts.map((l) => [l.id, l]));
  }

  /**
   * The first operation outside the target's declared subset (InteractiveTarget.subset, a
   * testee's hello), by the rule of conformance/protocol/subset.ts outsideSubset: an operation
   * is inside when listed, or when its hypercall is (batched calls are listed by hypercall).
   */
  private outsideSubset(ids: readonly string[]): string | undefined {
    const ops = (this.o.target as Target & { subset?: { ops?: readonly string[] } }).subset?.ops;
    if (!ops) return undefined;
    const have = new Set(ops);
    return ids.find((id) => !have.has(id) && !have.has(id.split('$')[0] as string) && !(!id.includes('$') && ops.some((o) => o.startsWith(`${id}$`))));
  }

  /** Whether a prepared step is compared by its result's class only (a host value). */
  comparedByClass(s: FStep): boolean {
    return this.byClass.has(s);
  }

  private count(why: string, n = 1): void {
    this.excluded.set(why, (this.excluded.get(why) ?? 0) + n);
  }

  /** Whether a place is at different addresses on the model and on the target. */
  private placeMoves(p: Place, dom: number): boolean {
    const m = this.modelLayouts.get(dom);
    const t = this.targetLayouts.get(dom);
    if (!m || !t) return true;
    return address(p, m) !== address(p, t);
  }

  private layoutDiffers(dom: number): boolean {
    const m = this.modelLayouts.get(dom);
    const t = this.targetLayouts.get(dom);
    if (!m || !t) return true;
    return m.dataBase !== t.dataBase || m.sharedInfo !== t.sharedInfo || m.grantTable !== t.grantTable || m.grantStatus !== t.grantStatus || m.unmapped !== t.unmapped;
  }

  /** Whether `a` lies within 16 MiB of what a layout places (a kernel maps its whole image around its data). */
  private static nearLayout(l: DomainLayout, a: bigint): boolean {
    const span = 16n << 20n;
    return [l.dataBase, l.sharedInfo, l.grantTable, l.grantStatus].some((b) => b !== undefined && a + span >= b && a < b + span);
  }

  /**
   * A call with a pointer that means different memory on the two layouts: a plain number
   * mapped on one side at least (NULL and small numbers are the model's data area), or a place
   * past the end of the shared_info page or of the grant table's first frame (what follows
   * them differs), or past the data area.
   */
  private layoutPointer(s: CallStep): boolean {
    let away = false;
    const pages = (dom: number) => this.o.domains.find((x) => x.id === dom)?.memoryPages ?? 0;
    const movesAway = (p: Place, dom: number, size = 0): boolean => {
      if (!this.layoutDiffers(dom)) return false;
      // What a call may reach from there: its struct when larger than the usual margin (a vcpu_guest_context).
      const reach = Math.max(PLACE_TAIL, size);
      switch (p.base) {
        case 'data':
          return p.off < 4096 || p.off + reach > pages(dom) * 4096;
        case 'shared':
          return p.off < 0 || p.off + reach > 4096;
        case 'grant':
          // A kernel maps its grant table's frames where it keeps them only while it touches them
          // itself (the live kernel's grant window): what Xen finds there from a call differs.
          return true;
        case 'unmapped':
          return false;
      }
    };
    const plan = s.plan;
    const tc = plan ? this.plans.compilers.get(plan.arch.name) : undefined;
    s.args.forEach((a, i) => {
      if (typeof a !== 'object' || !('place' in a)) return;
      const r = plan?.regs[i];
      const size = r?.role === 'argument' ? (plan?.arg?.node.size ?? 0) : ((r?.node ?? (r?.to && tc ? tc.ref(r.to) : undefined))?.size ?? 0);
      if (movesAway(a.place, s.dom, size)) away = true;
    });
    if (away) return true;
    for (const w of s.writes) for (const p of w.patches) if (typeof p.val === 'object' && 'place' in p.val && movesAway(p.val.place, w.dom)) return true;
    // Linear addresses given as plain numbers are addresses of the caller's memory too (the twin maps its data area from 0).
    if (!this.layoutDiffers(s.dom)) return false;
    const tl = this.targetLayouts.get(s.dom);
    // Linear addresses given as plain numbers go through page tables, which the twin builds where the target's kernel
    // has its memory: only those near the target's kernel differ (its image around the data area is mapped there).
    const plain = [s, ...nestedCalls(s, this.plans)].flatMap((c) => plainResources(c, this.plans));
    const linear = [...(s.used ?? []), ...plain].filter((u) => u.res === 'linear_address' && typeof u.v === 'bigint').map((u) => u.v as bigint);
    for (const p of linear) if (tl && ExternalFuzzer.nearLayout(tl, p)) return true;
    // A pointer given as a plain number: mapped on the oracle (its memory is guest-physical from 0), or in what the target's layout maps.
    const d = this.oracle.vmm.machine.domain(s.dom);
    for (const p of [...(s.rawPtrs ?? []), ...plain.filter((u) => u.res === 'pointer').map((u) => u.v)]) {
      for (const a of [p, p + PAGE - 1n]) {
        const page = a / PAGE;
        if (page < BigInt(Number.MAX_SAFE_INTEGER) && d?.memory.lookup(gfn(Number(page))) !== undefined) return true;
        if (tl && ExternalFuzzer.nearLayout(tl, a)) return true;
      }
    }
    return false;
  }

  /**
   * A call naming a machine frame by a plain number (an edge value; a page number where a PV
   * guest passes frames): on a real machine frame numbers are the host's, so the number names
   * another frame or none (anything below 2^40, the frames of a 52-bit physical address
   * space). Only against a target with its own machine (one with a twin).
   */
  private rawFrame(s: CallStep): boolean {
    if (!this.twin) return false;
    const seen = [...(s.used ?? []).filter((u) => typeof u.v === 'bigint').map((u) => ({ res: u.res, v: u.v as bigint })), ...[s, ...nestedCalls(s, this.plans)].flatMap((c) => plainResources(c, this.plans))];
    for (const u of seen) {
      const f = u.res === 'maddr' ? u.v >> 12n : u.res === 'mfn' || u.res === 'gfn' ? u.v : undefined;
      if (f !== undefined && BigInt.asUintN(64, f) < 1n << 40n) return true;
    }
    return false;
  }

  /**
   * The step with the bytes it reads back that hold run-time values it wrote (frames; addresses
   * that move between the layouts) marked volatile: the target resolves them itself.
   */
  private masked(s: FStep, wholly: boolean, note: (why: string, n?: number) => void): FStep {
    if (s.kind !== 'call') return s;
    let changed = false;
    const reads = s.reads.map((r): ReadSpec => {
      if (wholly) {
        changed = true;
        return { ...r, volatile: [[0, r.length]] };
      }
      const vol: [number, number][] = [...(r.volatile ?? [])];
      const had = new Set(vol.map(([a, b]) => `${a}:${b}`));
      // Frames and machine addresses Xen writes (a device map's dev_bus_addr) are the target's own.
      for (const o of s.outputs) {
        if (o.kind !== 'produce' || !o.resource || !['mfn', 'gfn', 'maddr'].includes(o.resource) || s.reads[o.read] !== r || had.has(`${o.off}:${o.off + o.size}`)) continue;
        had.add(`${o.off}:${o.off + o.size}`);
        vol.push([o.off, o.off + o.size]);
        changed = true;
      }
      for (const w of s.writes) {
        if (w.dom !== r.dom || w.at.base !== r.at.base) continue;
        for (const p of w.patches) {
          const v = p.val;
          if (typeof v === 'bigint') continue;
          if ('place' in v && !this.placeMoves(v.place, w.dom)) continue;
          const from = Math.max(0, w.at.off + p.off - r.at.off);
          const to = Math.min(r.length, w.at.off + p.off + p.size - r.at.off);
          if (to <= from || had.has(`${from}:${to}`)) continue;
          had.add(`${from}:${to}`);
          vol.push([from, to]);
          note(EXCLUDED_WHY.maskedBytes, to - from);
          changed = true;
        }
      }
      return vol.length > 0 ? { ...r, volatile: vol } : r;
    });
    return changed ? { ...s, reads } : s;
  }

  /**
   * Each domain's event bitmaps on the oracle; against a target with its own machine, the
   * pending bits of ports bound to VIRQs are not compared: VIRQs fire on the host's own events
   * (its clock's periodic timer, which runs in real time there and only when told on the
   * oracle; its console; its other domains).
   */
  private endState(m: LocalSide): ModelRun['end'] {
    const vmm = m.vmm;
    return this.regions.map((r) => {
      const d = vmm.machine.domain(r.dom);
      const bytes = new Uint8Array(r.length);
      if (d) d.memory.read(gaddr(d.sharedInfoGfn * 4096 + r.at.off), bytes);
      const ignore: number[] = [];
      if (d && this.twin && r.field === 'evtchn_pending') for (let port = 0; port < d.ports.valid && port < r.length * 8; port++) if (d.ports.state[port] === PortState.Virq) ignore.push(port);
      return { dom: r.dom, at: r.at, bytes, ...(ignore.length > 0 ? { ignore } : {}) };
    });
  }

  /** Guest writes zeroing the run-time values (frames, addresses that move between the layouts) a call's arguments held in the data area. */
  private clears(s: CallStep): MemStep[] {
    const out: MemStep[] = [];
    if (!this.twin && !this.layoutDiffers(s.dom)) return out;
    // What a call compared by class wrote (host strings, times): zeroed too, so that a later call reading past its own arguments meets zeros.
    if (this.byClass.has(s)) {
      for (const r of s.reads) if (r.at.base === 'data' && r.length > 0) out.push({ kind: 'write', w: { dom: r.dom, at: r.at, bytes: new Uint8Array(r.length), patches: [] }, doc: 'the guest clears what Xen wrote there (the host’s values)' });
    }
    const entry = entryFields(s.plan);
    for (const w of s.writes) {
      if (w.at.base !== 'data' && w.at.base !== 'shared') continue;
      for (const p of w.patches) {
        const v = p.val;
        if (typeof v === 'bigint' || ('place' in v && !this.placeMoves(v.place, w.dom))) continue;
        out.push({ kind: 'write', w: { dom: w.dom, at: { base: w.at.base, off: w.at.off + p.off }, bytes: new Uint8Array(p.size), patches: [] }, doc: 'the guest clears a run-time value it handed Xen (its bytes differ between the layouts)' });
        // An entry written at a machine address in a shared_info page (mmu_update of the page, which Xen lets a PV
        // guest write) with a run-time value (a page-table entry naming a frame): the guest clears it there too.
        if (!entry || p.off % entry.element !== entry.addr) continue;
        const shared = this.sharedInfoAddress(v, entry.size);
        const value = w.patches.find((q) => q.off === p.off - entry.addr + entry.value && q.size === entry.size);
        if (shared && value && typeof value.val !== 'bigint' && !('place' in value.val && !this.placeMoves(value.val.place, w.dom))) {
          out.push({ kind: 'write', w: { dom: shared.dom, at: { base: 'shared', off: shared.off }, bytes: new Uint8Array(entry.size), patches: [] }, doc: 'the guest clears a run-time value a call stored in its shared_info (its bytes differ between the layouts)' });
        }
      }
    }
    return out;
  }

  /** The domain and offset (aligned to an entry of `size` bytes) a machine-address operand names in a domain's shared_info page (the page after its data area). */
  private sharedInfoAddress(v: Val, size: number): { dom: number; off: number } | undefined {
    if (typeof v === 'bigint' || !('frame' in v) || v.shl !== 12) return undefined;
    const d = this.o.domains.find((x) => x.id === v.frame.dom);
    if (!d || v.frame.page !== d.memoryPages) return undefined;
    return { dom: d.id, off: Number((v.or ?? 0n) & BigInt(4096 - size)) };
  }

  /** A guest's write to its shared_info with each vCPU's evtchn_upcall_mask byte set, on targets whose kernel keeps it so. */
  private keepMasked(s: FStep, note: (why: string, n?: number) => void): FStep {
    if (!this.eventsMasked || s.kind !== 'write' || s.w.at.base !== 'shared') return s;
    let bytes: Uint8Array | undefined;
    for (const at of this.maskBytes(s.w.dom)) {
      const i = at - s.w.at.off;
      if (i < 0 || i >= s.w.bytes.length || ((bytes ?? s.w.bytes)[i] as number) & 1) continue;
      bytes ??= Uint8Array.from(s.w.bytes);
      bytes[i] = 1;
    }
    if (!bytes) return s;
    note(EXCLUDED_WHY.keptMasked);
    return { ...s, w: { ...s.w, bytes } };
  }

  /** Offsets in a domain's shared_info of each vCPU's evtchn_upcall_mask. */
  private maskBytes(dom: number): number[] {
    const d = this.o.domains.find((x) => x.id === dom);
    const abi = d ? findAbi(this.o.spec, d.abi) : undefined;
    const arch = abi ? findArch(this.o.spec, abi.arch) : undefined;
    if (!d || !arch) return [];
    const le = new LayoutEngine(this.o.spec, arch);
    const vi = le.named('struct shared_info').fields['vcpu_info'];
    const info = le.named('struct vcpu_info');
    const mask = info.fields['evtchn_upcall_mask'];
    if (!vi || !mask) return [];
    return Array.from({ length: d.vcpus }, (_, v) => vi.offset + v * info.size + mask.offset);
  }

  /** Whether the oracle maps all the memory a guest's own write touches. */
  private static writable(m: LocalSide, low: Lowered): boolean {
    for (const ins of low.instrs) {
      if (ins.op !== 'write' && ins.op !== 'store') continue;
      const d = m.vmm.machine.domain(ins.dom);
      const len = ins.op === 'write' ? ins.bytes.length : ins.size;
      if (!d || ins.addr > BigInt(Number.MAX_SAFE_INTEGER)) return false;
      const a = Number(ins.addr);
      for (let p = Math.floor(a / 4096); p <= Math.floor((a + Math.max(len, 1) - 1) / 4096); p++) if (d.memory.lookup(gfn(p)) === undefined) return false;
    }
    return true;
  }

  /**
   * Whether some PV vCPU of the oracle has an NMI pending and a handler for it (its virtual
   * IDT's vector 2, which XENNMI_register_callback and CALLBACKTYPE_nmi set): Xen delivers it
   * on the way back to the guest (xen/arch/x86/pv/traps.c pv_raise_nmi, the NMI softirq), so a
   * real kernel jumps to whatever address the sequence registered.
   */
  private static nmiDelivered(m: LocalSide): boolean {
    const sched = schedulerOf(m.vmm);
    const misc = miscState(m.vmm);
    for (const d of m.vmm.machine.domains.values()) {
      if (!d.abi.name.endsWith('-pv') || d.shutDown) continue;
      const pv = misc(d).vcpus;
      for (let v = 0; v < d.vcpus.length; v++) if (sched.vcpu(d, v).nmiPending && (pv[v]?.traps[2]?.address ?? 0n) !== 0n) return true;
    }
    return false;
  }

  /** Whether the call left its vCPU blocked on the oracle (asleep until an event or a timer). */
  private static blocked(m: LocalSide, s: CallStep): boolean {
    const d = m.vmm.machine.domain(s.dom);
    if (!d || d.shutDown || s.vcpu >= d.vcpus.length) return false;
    return schedulerOf(m.vmm).vcpu(d, s.vcpu).blocked;
  }

  private static shutDown(m: LocalSide): Set<number> {
    const out = new Set<number>();
    for (const d of m.vmm.machine.domains.values()) if (d.shutDown) out.add(d.id);
    return out;
  }

  /**
   * Runs steps on the oracle: a generated sequence (`prepare`: steps whose plain-number
   * pointers mean different memory on the target left out, read-backs of run-time values
   * masked, the sequence ended at a shutdown the target really does) or a shrinking candidate.
   * Undefined when the oracle cannot run them.
   */
  replayModel(steps: readonly FStep[], prepare = false, m: LocalSide = this.oracle): ModelRun | undefined {
    // Calls the oracle ran down a path the target cannot take: the sequence runs again without them.
    const dropped = new Map<FStep, CallException>();
    for (;;) {
      const counts = new Map<string, number>();
      const note = (why: string, n = 1) => counts.set(why, (counts.get(why) ?? 0) + n);
      const run = this.pass(steps, prepare, m, dropped, note);
      if (run === 'again') continue;
      if (prepare) for (const [why, n] of counts) this.count(why, n);
      return run;
    }
  }

  private pass(steps: readonly FStep[], prepare: boolean, m: LocalSide, dropped: Map<FStep, CallException>, note: (why: string, n?: number) => void): ModelRun | undefined | 'again' {
    m.reset();
    const run: ModelRun = { steps: [], results: [], lowered: [], end: [] };
    // Which call made each grant mapping, on a target whose sequences share a machine.
    const leaks = prepare && this.o.target.kind === 'batch';
    const madeMap = new Map<string, FStep>();
    let down = ExternalFuzzer.shutDown(m);
    for (const step of steps) {
      let conditional: CallException[] = [];
      let value: CallException | undefined;
      if (prepare && step.kind === 'call') {
        if (this.layoutPointer(step)) {
          note(EXCLUDED_WHY.layoutPointers);
          continue;
        }
        if (step.overrun && this.layoutDiffers(step.dom)) {
          note(EXCLUDED_WHY.overruns);
          continue;
        }
        if (this.rawFrame(step)) {
          note(EXCLUDED_WHY.rawFrames);
          continue;
        }
        const outside = this.outsideSubset([step.id, ...elementOps(step, this.plans).map((p) => p.id), ...nestedCalls(step, this.plans).map((c) => c.id)]);
        if (outside) {
          note(`calls not run: ${outside} is outside the target's declared subset (the operations its hello lists)`);
          continue;
        }
        // The operation's exceptions, and those of each element's command (a batch whose element switches the base pointer).
        const ids = [...new Set([step.id, ...elementOps(step, this.plans).map((p) => p.id)])];
        const ex = ids.flatMap((id) => this.exceptions.get(id) ?? []);
        const always = ids.map((id) => ({ id, e: (this.exceptions.get(id) ?? []).find((e) => e.kind === 'skip' && e.when === undefined) })).find((x) => x.e);
        if (always?.e) {
          note(`calls of ${always.id} not run: ${always.e.why}`);
          continue;
        }
        // A multicall entry the target and the oracle cannot agree on: its result lands in the entry, the rest of the call depends on it.
        const inner = nestedCalls(step, this.plans).find((c) => (this.exceptions.get(c.id) ?? []).length > 0);
        if (inner) {
          note(`multicalls not run: an entry calls ${inner.id}: ${(this.exceptions.get(inner.id) ?? [])[0]?.why ?? ''}`);
          continue;
        }
        conditional = ex.filter((e) => e.kind === 'skip');
        const hit = dropped.get(step);
        if (hit === BLOCKED || hit === NMI || hit === LEAKS) {
          note(hit === BLOCKED ? EXCLUDED_WHY.blocked : hit === NMI ? EXCLUDED_WHY.nmi : EXCLUDED_WHY.grantLeaks);
          continue;
        }
        if (hit) {
          note(`calls of ${step.id} not run when they ${whenText(hit)} on the oracle: ${hit.why}`);
          continue;
        }
        value = ex.find((e) => e.kind === 'value');
      }
      const s = prepare ? this.keepMasked(this.masked(step, value !== undefined, note), note) : step;
      if (value) this.byClass.set(s, value.why);
      const low = lowerStep(s, m.facts, run.steps.length);
      const nmiBefore = prepare && this.shutdownStops && s.kind === 'call' && ExternalFuzzer.nmiDelivered(m);
      if (prepare && s.kind === 'write' && !ExternalFuzzer.writable(m, low)) {
        note(EXCLUDED_WHY.unmappedWrites);
        continue;
      }
      const mapsBefore = leaks && step.kind === 'call' ? grantMappings(m) : undefined;
      const r = m.session.execSync(low.instrs);
      if (r.error !== undefined || r.results.length < low.instrs.length) {
        note(EXCLUDED_WHY.oracleRefused);
        return undefined;
      }
      if (mapsBefore) for (const k of grantMappings(m)) if (!mapsBefore.has(k)) madeMap.set(k, step);
      if (prepare && this.shutdownStops && step.kind === 'call' && !nmiBefore && ExternalFuzzer.nmiDelivered(m)) {
        // Xen would enter the guest at a handler the sequence registered (the live kernel runs whatever is there).
        dropped.set(step, NMI);
        return 'again';
      }
      if (prepare && this.shutdownStops && step.kind === 'call' && ExternalFuzzer.blocked(m, step)) {
        // A vCPU that sleeps for real stops its domain's part of the program: as if the guest had not made the call.
        dropped.set(step, BLOCKED);
        return 'again';
      }
      if (conditional.length > 0 && step.kind === 'call') {
        const res = r.results[low.call];
        const v = res?.op === 'call' ? Number(BigInt.asIntN(m.facts.get(step.dom)?.bits ?? 64, res.result)) : undefined;
        // A batch of several elements may have done an element under a 'success' exception before a later one failed.
        const many = batchElements(step) > 1;
        const hit = conditional.find((e) => v !== undefined && (e.when === 'success' ? many || !(v < 0 && v >= -4095) : e.when === 'short' ? v >= 0 && v < (argField(step, 'nr_extents') ?? 0) : e.when === v));
        if (hit) {
          // As if the guest had not made the call: the sequence again without it.
          dropped.set(step, hit);
          return 'again';
        }
      }
      run.steps.push(s);
      run.results.push(r.results);
      run.lowered.push(low);
      const now = ExternalFuzzer.shutDown(m);
      if (this.shutdownStops && [...now].some((d) => !down.has(d))) {
        note(EXCLUDED_WHY.shutdowns);
        run.stops = true;
        break;
      }
      down = now;
      if (prepare && s.kind === 'call') {
        // The guest clears the run-time values it handed Xen (they differ between the layouts), so that a later call
        // reading past what it wrote (a trap table without its terminator) meets zeros on both sides, not stale pointers.
        for (const c of this.clears(s)) {
          const lc = lowerStep(c, m.facts, run.steps.length);
          const rc = m.session.execSync(lc.instrs);
          if (rc.error !== undefined) continue;
          run.steps.push(c);
          run.results.push(rc.results);
          run.lowered.push(lc);
          note(EXCLUDED_WHY.clears);
        }
      }
    }
    if (leaks && !run.stops) {
      // A grant mapping still there at the end outlives the sequence on a target that runs the next one on the same
      // machine (the live kernel's reset cannot unmap it): as if the guest had not made the call that mapped it.
      let again = false;
      for (const k of grantMappings(m)) {
        const by = madeMap.get(k);
        if (by && !dropped.has(by)) {
          dropped.set(by, LEAKS);
          again = true;
        }
      }
      if (again) return 'again';
    }
    run.end = this.endState(m);
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
      if (!run.stops) {
        for (const r of this.regions) {
          const f = facts.get(r.dom);
          const si = f?.layout.sharedInfo;
          if (si === undefined) continue;
          instrs.push({ op: 'read', step: run.steps.length, dom: r.dom, addr: si + BigInt(r.at.off), length: r.length });
        }
      }
      return { program: { id, domains: [...this.o.domains], instrs }, lows, base, endReads };
    } catch (e) {
      if (e instanceof LowerError) return undefined;
      throw e;
    }
  }

  /** The first place where the target's results differ from the oracle's. */
  compare(run: ModelRun, p: NonNullable<ReturnType<ExternalFuzzer['program']>>, exec: ExecResult): Divergence | undefined {
    const res = exec.results;
    // Where the target's results may end: the guest's writes leave none, so the results of a program that stopped
    // end before the writes that precede the next result-giving instruction. On a run that stops at its last call,
    // the target may end anywhere from the first of the writes just before that call.
    const silent = (k: number) => (p.lows[k] as Lowered).instrs.every((i) => i.op === 'write' || i.op === 'store');
    let stopFrom = Infinity;
    if (run.stops && run.steps.length > 0) {
      let k = run.steps.length - 1;
      while (k > 0 && silent(k - 1)) k--;
      stopFrom = p.base[k] as number;
    }
    // A shortfall is the first step after it that gives a result (the writes before it are not known to have run).
    const shortAt = (k: number) => {
      while (k < run.steps.length - 1 && silent(k)) k++;
      return k;
    };
    for (let k = 0; k < run.steps.length; k++) {
      const s = run.steps[k] as FStep;
      const op = s.kind === 'call' ? s.id : s.kind;
      const lowT = p.lows[k] as Lowered;
      const lowM = run.lowered[k] as Lowered;
      const b = p.base[k] as number;
      const mres = run.results[k] as readonly InstrResult[];
      // The step that shuts a domain down, on a target where it really stops: the call need not return, and the
      // writes before it need not be known to have run (Xen's console output stops with the domain).
      if (res.length < b + lowT.instrs.length) {
        if (res.length >= stopFrom) return undefined;
        const at = shortAt(k);
        const st = run.steps[at] as FStep;
        return { kind: 'target-error', step: at, op: st.kind === 'call' ? st.id : st.kind, message: exec.error ?? 'the target returned fewer results than instructions' };
      }
      if (s.kind !== 'call') continue;
      const bits = this.gen.model.facts.get(s.dom)?.bits ?? 64;
      const byClass = this.byClass.get(s);
      if (byClass !== undefined) {
        if (!sameClass(mres[lowM.call], res[b + lowT.call], bits)) return { kind: 'result', step: k, op, message: `${s.id} from domain ${s.dom}: result expected ${showInstrResult(mres[lowM.call], bits)}, got ${showInstrResult(res[b + lowT.call], bits)} (compared by class: ${byClass})` };
        continue;
      }
      if (!sameCall(mres[lowM.call], res[b + lowT.call], bits)) return { kind: 'result', step: k, op, message: `${s.id} from domain ${s.dom}: result expected ${showInstrResult(mres[lowM.call], bits)}, got ${showInstrResult(res[b + lowT.call], bits)}` };
      for (let j = 0; j < lowT.reads.length; j++) {
        const r = s.reads[j]!;
        const a = mres[lowM.reads[j] as number];
        const t = res[b + (lowT.reads[j] as number)];
        if (!sameResult(a, t, r.volatile ?? [])) return { kind: 'memory', step: k, op, message: `${s.id} from domain ${s.dom}: memory at ${r.at.base}+0x${r.at.off.toString(16)} expected ${showInstrResult(a)}, got ${showInstrResult(t)}` };
      }
    }
    const lastCall = [...run.steps].reverse().find((s) => s.kind === 'call');
    const op = lastCall && lastCall.kind === 'call' ? lastCall.id : 'end';
    if (run.stops) return undefined;
    for (let i = 0; i < run.end.length; i++) {
      const e = run.end[i]!;
      const t = res[p.endReads + i];
      if (t === undefined) return { kind: 'target-error', step: run.steps.length - 1, op, message: exec.error ?? 'the target returned fewer results than instructions' };
      if (!sameBits(e.bytes, t, e.ignore)) return { kind: 'end-state', step: run.steps.length - 1, op, message: `domain ${e.dom}: event bits at shared_info+0x${e.at.off.toString(16)} differ: expected ${showInstrResult({ op: 'read', bytes: e.bytes })}, got ${showInstrResult(t)}` };
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

/** Where the target puts each domain's memory (an interactive target says so when a machine opens). */
async function targetLayouts(t: Target, domains: readonly ProgramDomain[], knobs: MachineKnobs): Promise<readonly DomainLayout[]> {
  if (t.kind === 'batch') return t.layouts(domains);
  const s = await t.open(domains, knobs);
  try {
    return s.layouts;
  } finally {
    await s.close().catch(() => undefined);
  }
}

/** One worker's run against an external target. */
export async function runExternal(o: ExternalRunOptions): Promise<RunReport> {
  const plans = o.plans ?? new SpecPlans(o.spec, [...new Set(o.domains.map((d) => d.abi))]);
  const knobs: MachineKnobs = o.vmm?.preemptEvery !== undefined ? { preemptEvery: o.vmm.preemptEvery } : {};
  const fz = new ExternalFuzzer(o, plans, await targetLayouts(o.target, o.domains, knobs));
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
  // Coverage is what ran on the target (the generating model's own, which steers, also counts calls left out).
  const tick = (now: number) => o.progress?.({ worker, abis, elapsedMs: now - t0, stats: { ...fz.gen.stats, calls }, findings: findings.length, coverage: fz.reached.toJSON() });
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
      const model = fz.replayModel(last.steps, true);
      if (model) runs.push({ run: model, index: i });
    }
    const divs = await fz.runOnTarget(runs.map((r) => r.run));
    for (let k = 0; k < runs.length; k++) {
      const r = runs[k]!;
      calls += r.run.steps.filter((s) => s.kind === 'call').length;
      const d = divs[k];
      // What ran on the target (up to where it differed), by the oracle's results there.
      const upTo = d ? d.step : r.run.steps.length - 1;
      for (let j = 0; j <= upTo && j < r.run.steps.length; j++) {
        const s = r.run.steps[j] as FStep;
        if (s.kind === 'call') recordCoverage(fz.reached, s, r.run.lowered[j] as Lowered, r.run.results[j] as readonly InstrResult[]);
      }
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
  return { worker, elapsedMs, stats: { ...fz.gen.stats, calls }, coverage: fz.reached.toJSON(), findings, ...(fz.excluded.size > 0 ? { excluded: Object.fromEntries(fz.excluded) } : {}) };
}

async function report(fz: ExternalFuzzer, f: Finding, o: ExternalRunOptions, foundAfterMs: number, modelOnly: boolean): Promise<FindingReport> {
  // A model error is the generating model's own; anything else is judged against the oracle.
  const side = modelOnly ? fz.gen.model : fz.oracle;
  const fails = async (c: FStep[]): Promise<boolean> => {
    const run = fz.replayModel(c, false, side);
    if (modelOnly) return run === undefined;
    if (!run) return false;
    const [d] = await fz.runOnTarget([run]);
    return d !== undefined && sameFailure(d, f);
  };
  const head = f.steps.slice(0, f.step + 1);
  const batchTarget = o.target.kind === 'batch';
  const { steps } = await shrink(head, fails, modelOnly ? 2000 : (o.shrinkBudget ?? (batchTarget ? 40 : 400)));
  const run = fz.replayModel(steps, false, side) ?? { steps, results: [], lowered: [], end: [] };
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
  // Calls compared by their result's class expect any success (`ok`) when they succeeded: the value is the host's.
  const calls = steps.filter((x): x is CallStep => x.kind === 'call');
  const raws = scenario.steps.filter((x): x is Extract<typeof x, { hypercall: unknown }> => 'hypercall' in x);
  calls.forEach((c, i) => {
    const r = raws[i];
    if (r && fz.comparedByClass(c) && typeof r.expect === 'number' && r.expect >= 0) r.expect = 'ok';
  });
  const twin = fz.twin;
  const header = [`hyperabi fuzz finding: ${f.kind} at ${f.op}`, `target: ${o.targetName}; seed ${o.seed}, worker ${o.worker ?? 0}, sequence ${f.sequence}`, `reproduce: hyperabi replay <file> --target ${o.targetName}`];
  if (twin && o.targetName === 'live-xen') header.push('compare with the reference twin (the expectations): hyperabi xen diff --scenarios <file>');
  const yaml = reproducerYaml(scenario, header);
  return recordFinding({ spec: o.spec, ...(o.vmm ? { vmm: o.vmm } : {}), ...(o.corpus ? { corpus: o.corpus } : {}), target: modelOnly ? 'model-only' : o.target, ...(twin && !modelOnly ? { reference: twin } : {}), scenario, yaml, finding: f, steps, worker: o.worker ?? 0, foundAfterMs });
}
