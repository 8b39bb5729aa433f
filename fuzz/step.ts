/**
 * Fuzzer steps: what one generated action is, independent of any target. Addresses are
 * places relative to what every target reports about a domain (its data area, its
 * shared_info page, its grant table, an address it cannot access); frames are the frame of a
 * page of a domain's data area, resolved by the target. A step becomes the conformance
 * primitives (conformance/program.ts) for a target's layouts with `lowerStep`, and scenario
 * steps (conformance/scenario.ts) with `scenarioSteps`: lowering those scenario steps gives the
 * same instructions, so a reproducer replays exactly what the fuzzer ran.
 */
import type { DomainLayout, Instr, Operand } from '../conformance/program.js';
import type { Step as ScenarioStep } from '../conformance/scenario.js';
import type { OpPlan } from './plan.js';

/** A guest address relative to a domain's layout. */
export interface Place {
  base: 'data' | 'shared' | 'grant' | 'unmapped';
  off: number;
}

/** A value a guest puts in a register or a struct field. */
export type Val = bigint | { place: Place } | { frame: { dom: number; page: number }; shl?: number; or?: bigint };

export interface Patch {
  off: number;
  size: 1 | 2 | 4 | 8;
  val: Val;
}

export interface WriteSpec {
  dom: number;
  at: Place;
  bytes: Uint8Array;
  /** Values only known per target (addresses, frames), written over `bytes` at their offset. */
  patches: Patch[];
}

export interface ReadSpec {
  dom: number;
  at: Place;
  length: number;
  /** Byte ranges [from, to) holding frame numbers: compared only when both sides are the reference VMM. */
  volatile?: [number, number][];
}

/** Where a value the fuzzer learns from a call lands in the bytes read back after it. */
export interface Output {
  read: number;
  off: number;
  size: number;
  kind: 'status' | 'produce';
  path: string;
  resource?: string;
  signed?: boolean;
  /** The domain a produced handle belongs to besides the caller (the struct's subject domain). */
  owner?: number;
}

export interface CallStep {
  kind: 'call';
  dom: number;
  vcpu: number;
  /** The operation id the call makes (`hypercall<nr>` for a number the spec does not know). */
  id: string;
  plan?: OpPlan;
  nr: number;
  /** Argument register values, in the order of the caller's convention. */
  args: Val[];
  writes: WriteSpec[];
  reads: ReadSpec[];
  outputs: Output[];
  /** A count larger than the elements generated: Xen reads, and writes back, past them (into whatever follows). */
  overrun?: boolean;
  /** Pointers given as plain numbers (NULL, edge values): the caller's memory Xen may access there. */
  rawPtrs?: bigint[];
  /** The integer values the generator chose, by field name: later calls' fields of the same name may take them again. */
  fields?: ReadonlyMap<string, Val>;
  /** Handles the call names (resource, the domain they belong to, value): kept for later steps when the call succeeds. */
  used?: { res: string; dom: number; v: Val }[];
  doc: string;
}

/** A guest's own write to its memory (a grant entry it offers, bits of its shared_info). */
export interface MemStep {
  kind: 'write';
  w: WriteSpec;
  /** A grant entry this write offers. */
  offer?: { dom: number; ref: number };
  /** A handle whose state the write changes (a port's mask or pending bit): what the handle went through, for coverage. */
  touch?: { res: string; dom: number; v: bigint; what: string };
  doc: string;
}

export interface AdvanceStep {
  kind: 'advance';
  ns: bigint;
}

export type FStep = CallStep | MemStep | AdvanceStep;

/** What lowering needs to know about a domain. */
export interface DomFacts {
  id: number;
  bits: number;
  numberReg: string;
  argRegs: readonly string[];
  layout: DomainLayout;
}

/** A place as an address on a target; undefined when the target does not say where that is. */
export function address(p: Place, l: DomainLayout): bigint | undefined {
  const off = BigInt(p.off);
  switch (p.base) {
    case 'data':
      return l.dataBase + off;
    case 'shared':
      return l.sharedInfo === undefined ? undefined : l.sharedInfo + off;
    case 'grant':
      return l.grantTable === undefined ? undefined : l.grantTable + off;
    case 'unmapped':
      return l.unmapped + off;
  }
}

/** Why a step cannot be lowered for a target. */
export class LowerError extends Error {
  override name = 'LowerError';
}

function operand(v: Val, f: DomFacts): Operand {
  if (typeof v === 'bigint') return BigInt.asUintN(f.bits, v);
  if ('place' in v) {
    const a = address(v.place, f.layout);
    if (a === undefined) throw new LowerError(`domain ${f.id}: the target does not say where ${v.place.base} is`);
    return BigInt.asUintN(f.bits, a);
  }
  return { frame: v.frame, ...(v.shl ? { shl: v.shl } : {}), ...(v.or !== undefined && v.or !== 0n ? { or: v.or } : {}) };
}

function putLe(bytes: Uint8Array, off: number, size: number, v: bigint): void {
  let x = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) {
    bytes[off + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

/**
 * A write as the scenario's write steps lower: the bytes as generated, then each run-time
 * value as a write of its own (an address resolved for the target) or a zeroed write and a
 * store (a frame the target resolves), exactly as `writeSteps` spells them.
 */
function lowerWrite(w: WriteSpec, f: DomFacts, step: number, out: Instr[]): void {
  const at = address(w.at, f.layout);
  if (at === undefined) throw new LowerError(`domain ${f.id}: the target does not say where ${w.at.base} is`);
  out.push({ op: 'write', step, dom: w.dom, addr: at, bytes: w.bytes });
  for (const p of w.patches) {
    const o = operand(p.val, f);
    const bytes = new Uint8Array(p.size);
    const addr = at + BigInt(p.off);
    if (typeof o === 'bigint') {
      putLe(bytes, 0, p.size, o);
      out.push({ op: 'write', step, dom: w.dom, addr, bytes });
    } else out.push({ op: 'write', step, dom: w.dom, addr, bytes }, { op: 'store', step, dom: w.dom, addr, size: p.size, value: o });
  }
}

/** Where the parts of a lowered step are among its instructions. */
export interface Lowered {
  instrs: Instr[];
  /** Index of the call instruction (call steps). */
  call: number;
  /** Index of each read's instruction. */
  reads: number[];
}

/** A step as primitive instructions for a target whose domains are laid out so. */
export function lowerStep(s: FStep, facts: ReadonlyMap<number, DomFacts>, step: number): Lowered {
  const instrs: Instr[] = [];
  if (s.kind === 'advance') {
    instrs.push({ op: 'advance', step, ns: s.ns });
    return { instrs, call: -1, reads: [] };
  }
  if (s.kind === 'write') {
    lowerWrite(s.w, factsOf(facts, s.w.dom), step, instrs);
    return { instrs, call: -1, reads: [] };
  }
  const f = factsOf(facts, s.dom);
  for (const w of s.writes) lowerWrite(w, factsOf(facts, w.dom), step, instrs);
  const regs: Record<string, Operand> = { [f.numberReg]: BigInt(s.nr) };
  s.args.forEach((a, i) => {
    const r = f.argRegs[i];
    if (r === undefined) throw new LowerError(`${s.id}: ${f.argRegs.length} argument registers, not ${s.args.length}`);
    regs[r] = operand(a, f);
  });
  const call = instrs.length;
  instrs.push({ op: 'call', step, dom: s.dom, vcpu: s.vcpu, regs });
  const reads: number[] = [];
  for (const r of s.reads) {
    const rf = factsOf(facts, r.dom);
    const at = address(r.at, rf.layout);
    if (at === undefined) throw new LowerError(`domain ${r.dom}: the target does not say where ${r.at.base} is`);
    reads.push(instrs.length);
    instrs.push({ op: 'read', step, dom: r.dom, addr: at, length: r.length });
  }
  return { instrs, call, reads };
}

function factsOf(facts: ReadonlyMap<number, DomFacts>, dom: number): DomFacts {
  const f = facts.get(dom);
  if (!f) throw new LowerError(`no domain ${dom}`);
  return f;
}

// ───────────────────────────── as scenario steps ─────────────────────────────

const hex = (v: bigint | number): string => `0x${BigInt(v).toString(16)}`;

/** A place as a scenario expression in its domain's context. */
export function placeExpr(p: Place, dom: number): string {
  const off = p.off === 0 ? '' : ` + ${hex(p.off)}`;
  switch (p.base) {
    case 'data':
      return `@${dom}:${hex(p.off)}`;
    case 'shared':
      return `shared_info${off}`;
    case 'grant':
      return `grant_table${off}`;
    case 'unmapped':
      return `unmapped${off}`;
  }
}

/** A value as a scenario expression (or a plain number when small). */
export function valExpr(v: Val, dom: number, bits: number): string | number {
  if (typeof v === 'bigint') {
    const u = BigInt.asUintN(bits, v);
    return u < 10n ? Number(u) : hex(u);
  }
  if ('place' in v) return placeExpr(v.place, dom);
  const fr = `${v.frame.dom}:${v.frame.page}`;
  if (v.shl === 12) return `pte(${fr}, ${hex(v.or ?? 0n)})`;
  if (v.shl) throw new LowerError(`a frame shifted by ${v.shl} has no scenario expression`);
  return v.or ? `frame(${fr}) | ${hex(v.or)}` : `frame(${fr})`;
}

/** A write as scenario write steps: the constant bytes, then one write per run-time value. */
export function writeSteps(w: WriteSpec, bitsOf: (dom: number) => number, doc?: string): ScenarioStep[] {
  const out: ScenarioStep[] = [{ write: { domain: w.dom, at: placeExpr(w.at, w.dom), hex: Buffer.from(w.bytes).toString('hex') }, ...(doc ? { doc } : {}) }];
  for (const p of w.patches) {
    const key = ({ 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' } as const)[p.size];
    const at = { ...w.at, off: w.at.off + p.off };
    out.push({ write: { domain: w.dom, at: placeExpr(at, w.dom), [key]: [valExpr(p.val, w.dom, Math.min(bitsOf(w.dom), p.size * 8))] } });
  }
  return out;
}
