/**
 * Lowering: a scenario plus the layouts a target reported becomes a Program (primitive
 * instructions, conformance/program.ts) and a list of checks over what the program produces.
 *
 * Typed calls go through the generated guest stubs (`XenGuest`) over a recording transport,
 * so the registers are exactly what the generated stubs put there for the caller's ABI; the
 * argument struct is encoded by the generated codecs of the caller's arch. Values only the
 * target knows (frames, saved values) are encoded as 0 and then stored over by `store`
 * instructions at the field's offset, taken from the spec's layout engine.
 */
import { Value as TbValue } from 'typebox/value';
import { XenGuest } from '../generated/xen/guest.js';
import type { Codec, HypercallTransport, Registers } from '../generated/xen/runtime.js';
import * as types from '../generated/xen/types.js';
import { LayoutEngine } from '../spec/layout.js';
import type { Arch, Hypercall, Spec } from '../spec/model.js';
import { allConstants, findArch, findAbi, findOperation, findType, typeBodyFor, toBigInt } from '../spec/query.js';
import { errnos } from '../reference-vmm/errno.js';
import { constExpr, expr, ExprError, type ExprContext } from './expr.js';
import type { DomainLayout, Instr, Operand, Program, ProgramDomain } from './program.js';
import { ScenarioError, type Scenario, type Step } from './scenario.js';

/** A check over the program's results; `instr` indexes `Program.instrs`. */
export type Check =
  | { step: number; kind: 'result'; instr: number; expect: bigint | 'ok' | 'any'; bits: number; what: string }
  | { step: number; kind: 'fields'; instr: number; codec: Codec<unknown>; expect: { path: string; value: bigint; bits: number }[]; what: string }
  | { step: number; kind: 'memory'; instr: number; expect: Uint8Array | 'fault'; what: string }
  | { step: number; kind: 'event'; instr: number; bit: number; expect: boolean; what: string };

export interface Lowered {
  program: Program;
  checks: Check[];
}

/** Data-area pages at the top kept for arguments of typed calls. */
export const SCRATCH_PAGES = 4;
const PAGE = 4096;

export function programDomains(s: Scenario): ProgramDomain[] {
  return s.machine.domains.map((d) => ({
    id: d.id,
    abi: d.abi,
    memoryPages: d.memoryPages ?? 16,
    vcpus: d.vcpus ?? 1,
    privileged: d.privileged ?? false,
    ...(d.maxEvtchnPort !== undefined ? { maxEvtchnPort: d.maxEvtchnPort } : {}),
    ...(d.maxPages !== undefined ? { maxPages: d.maxPages } : {}),
  }));
}

const schemas = types as unknown as Record<string, unknown>;

interface DomFacts {
  d: ProgramDomain;
  layout: DomainLayout;
  arch: string;
  bits: number;
  engine: LayoutEngine;
  constants: Record<string, bigint>;
  next: number;
}

const archCache = new WeakMap<Spec, Map<string, { engine: LayoutEngine; constants: Record<string, bigint> }>>();

/** The layout engine and constants of an arch, computed once per spec (lowering runs per scenario). */
function archFacts(spec: Spec, arch: Arch): { engine: LayoutEngine; constants: Record<string, bigint> } {
  let m = archCache.get(spec);
  if (!m) archCache.set(spec, (m = new Map()));
  let f = m.get(arch.name);
  if (!f) {
    const constants: Record<string, bigint> = {};
    for (const [k, v] of Object.entries(allConstants(spec, arch))) constants[k] = toBigInt(v);
    m.set(arch.name, (f = { engine: new LayoutEngine(spec, arch), constants }));
  }
  return f;
}

/** Sentinel register values that stand for run-time operands while a stub is recorded. */
const SENTINEL = 0x5ec0_0000n;

/** Lowers a scenario for a target whose domains are laid out so. */
export function lower(spec: Spec, s: Scenario, layouts: readonly DomainLayout[]): Lowered {
  const domains = programDomains(s);
  const facts = new Map<number, DomFacts>();
  for (const d of domains) {
    const abi = findAbi(spec, d.abi);
    if (!abi) throw new ScenarioError(s.id, `unknown ABI '${d.abi}' (have ${spec.abis.map((a) => a.name).join(', ')})`);
    const arch = findArch(spec, abi.arch);
    const layout = layouts.find((l) => l.id === d.id);
    if (!arch || !layout) throw new ScenarioError(s.id, `the target gave no layout for domain ${d.id}`);
    const { engine, constants } = archFacts(spec, arch);
    facts.set(d.id, { d, layout, arch: arch.name, bits: arch.wordSize * 8, engine, constants, next: (d.memoryPages - SCRATCH_PAGES) * PAGE });
  }
  const errnoTable = errnos(spec);
  const errno = (name: string) => errnoTable[name];
  const vars = new Map<string, Operand>();
  const instrs: Instr[] = [];
  const checks: Check[] = [];
  const firstDom = domains[0]!.id;

  const ctxFor = (dom: number): ExprContext => ({
    dom,
    constant: (n) => facts.get(dom)?.constants[n],
    errno,
    dataBase: (d) => {
      const f = facts.get(d);
      if (!f) throw new ExprError(`no domain ${d}`);
      return f.layout.dataBase;
    },
    unmapped: (d) => facts.get(d)?.layout.unmapped ?? 0n,
    sharedInfo: (d) => facts.get(d)?.layout.sharedInfo,
    variable: (n) => vars.get(n),
    grantTable: (d) => facts.get(d)?.layout.grantTable,
    grantStatus: (d) => facts.get(d)?.layout.grantStatus,
    offsetOf: (type, path) => {
      const f = facts.get(dom)!;
      return findType(spec, type) ? fieldAt(spec, f.engine, type, path)?.offset : undefined;
    },
    sizeOf: (type) => (findType(spec, type) ? facts.get(dom)!.engine.named(type).size : undefined),
  });

  /** Allocates argument memory in the caller's scratch pages; returns the data-area offset. */
  const alloc = (f: DomFacts, size: number, align: number): number => {
    const top = f.d.memoryPages * PAGE;
    let a = Math.ceil(f.next / align) * align;
    if (a + size > top) a = (f.d.memoryPages - SCRATCH_PAGES) * PAGE;
    if (a + size > top) throw new ScenarioError(s.id, `an argument of ${size} bytes does not fit the scratch pages`);
    f.next = a + size;
    return a;
  };

  s.steps.forEach((step: Step, i) => {
    const where = `${s.id} step ${i + 1}`;
    try {
      lowerStep(step, i, where);
    } catch (e) {
      if (e instanceof ExprError || e instanceof TypeError || e instanceof RangeError) throw new ScenarioError(where, e.message);
      throw e;
    }
  });

  function lowerStep(step: Step, i: number, where: string): void {
    if ('call' in step) {
      const dom = step.domain ?? firstDom;
      const f = facts.get(dom)!;
      const cx = ctxFor(dom);
      const found = findOperation(spec, step.call);
      if (!found) throw new ScenarioError(where, `unknown operation id '${step.call}'`);
      const op = found.op;
      const stores: Instr[] = [];
      let argAddr: bigint | undefined;
      let codec: Codec<unknown> | undefined;
      let typeName: string | undefined;
      if (op?.arg?.kind === 'name') {
        typeName = op.arg.name;
        const tsName = types.TS_NAMES[typeName];
        const schema = tsName ? schemas[tsName] : undefined;
        const guestCodecs = new XenGuest({ abi: f.d.abi, hypercall: () => 0n, read: (_a, n) => new Uint8Array(n), write: () => undefined }).codecs as unknown as Record<string, Codec<unknown>>;
        codec = tsName ? guestCodecs[tsName] : undefined;
        if (!schema || !codec) throw new ScenarioError(where, `no codec for ${typeName}`);
        const at = step.at !== undefined ? constExpr(step.at, cx, 'at') : f.layout.dataBase + BigInt(alloc(f, codec.size, Math.max(codec.align, 8)));
        argAddr = at;
        const dynamic: { path: string; value: Operand }[] = [];
        // A batched call (mmu_update, mmuext_op) selects its operation by a field of each element: set it as the stub does.
        const sel = batchOf(found.hypercall);
        const opValue = BigInt(op.value);
        const selMask = sel ? BigInt(found.hypercall.subops?.mask ?? -1) : 0n;
        const select = (o: Operand): Operand => (typeof o === 'bigint' ? (selMask === -1n ? opValue : (o & ~selMask) | opValue) : { ...o, or: (o.or ?? 0n) | opValue });
        const given = sel && !(sel.field in (step.arg ?? {})) ? { ...step.arg, [sel.field]: 0 } : (step.arg ?? {});
        const plain = flatten(given, '', (path, v) => {
          let o = expr(v, cx);
          if (sel && path === sel.field) o = select(o);
          if (typeof o === 'bigint') return o.toString();
          dynamic.push({ path, value: o });
          return '0';
        });
        const value = TbValue.Convert(schema as never, fillDefaults(schema, plain, codec));
        const errs = [...TbValue.Errors(schema as never, value)];
        if (errs.length > 0) throw new ScenarioError(where, `arg is not a ${typeName}: ${errs.slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`);
        const bytes = new Uint8Array(codec.size);
        codec.encode(new DataView(bytes.buffer), 0, value);
        instrs.push({ op: 'write', step: i, dom, addr: at, bytes });
        for (const x of dynamic) {
          const fl = fieldAt(spec, f.engine, typeName, x.path);
          if (!fl) throw new ScenarioError(where, `${typeName} has no field ${x.path}`);
          stores.push({ op: 'store', step: i, dom, addr: at + BigInt(fl.offset), size: fl.size as 1 | 2 | 4 | 8, value: x.value });
        }
      } else if (step.arg !== undefined) {
        throw new ScenarioError(where, `${step.call} takes no struct argument`);
      }
      instrs.push(...stores);
      // Record the stub's registers.
      const sentinels: Operand[] = [];
      const params: unknown[] = [];
      for (const a of step.args ?? []) {
        const o = expr(a, cx);
        if (typeof o === 'bigint') params.push(o);
        else {
          params.push(SENTINEL + BigInt(sentinels.length));
          sentinels.push(o);
        }
      }
      let regs: Registers | undefined;
      const rec: HypercallTransport = {
        abi: f.d.abi,
        hypercall: (r) => {
          regs = { ...r };
          return 0n;
        },
        read: (_a, n) => new Uint8Array(n),
        write: () => undefined,
      };
      const guest = new XenGuest(rec) as unknown as Record<string, unknown>;
      const fn = guest[step.call];
      if (typeof fn !== 'function') throw new ScenarioError(where, `the generated stubs have no ${step.call} for ${f.d.abi}`);
      if (argAddr !== undefined) {
        // Stubs with a struct take (other parameters..., arg, at?), arg a list for batched or counted
        // arguments: the value is already written; pass a dummy and the address.
        // The codec's decoding of zeros has every fixed-length array at the arch's length.
        const dummy = codec!.decode(new DataView(new ArrayBuffer(codec!.size)), 0);
        params.push(takesList(found.hypercall) ? [dummy] : dummy, argAddr);
      }
      try {
        (fn as (...p: unknown[]) => unknown).apply(guest, params);
      } catch (e) {
        throw new ScenarioError(where, `${step.call} cannot be called so on ${f.d.abi}: ${(e as Error).message}`);
      }
      if (!regs) throw new ScenarioError(where, `${step.call} made no hypercall on ${f.d.abi}`);
      // The dummy the stub wrote over our value does not matter: its write was not recorded.
      const ops: Record<string, Operand> = {};
      for (const [k, v] of Object.entries(regs)) {
        const si = v - SENTINEL;
        ops[k] = si >= 0n && si < BigInt(sentinels.length) ? (sentinels[Number(si)] as Operand) : v;
      }
      const callIdx = instrs.length;
      instrs.push({ op: 'call', step: i, dom, vcpu: step.vcpu ?? 0, regs: ops });
      const e = step.expect;
      const resultExp = e === undefined ? 'any' : typeof e === 'object' ? (e.result ?? 'any') : e;
      checks.push({ step: i, kind: 'result', instr: callIdx, expect: resultExp === 'ok' || resultExp === 'any' ? resultExp : constExpr(resultExp, cx, 'expect'), bits: f.bits, what: `${step.call} result` });
      if (typeof e === 'object' && e.arg && codec && argAddr !== undefined && typeName) {
        const expectFields: { path: string; value: bigint; bits: number }[] = [];
        flatten(e.arg, '', (path, v) => {
          const fl = fieldAt(spec, f.engine, typeName!, path);
          if (!fl) throw new ScenarioError(where, `${typeName} has no field ${path}`);
          expectFields.push({ path, value: constExpr(v, cx, `expect.arg.${path}`), bits: fl.size * 8 });
          return '';
        });
        checks.push({ step: i, kind: 'fields', instr: instrs.length, codec, expect: expectFields, what: `${step.call} ${typeName}` });
        instrs.push({ op: 'read', step: i, dom, addr: argAddr, length: codec.size });
      }
      for (const [name, path] of Object.entries(step.save ?? {})) {
        if (!path.startsWith('arg.') || argAddr === undefined || !typeName) throw new ScenarioError(where, `save ${name}: only arg.<field> of a struct argument can be saved`);
        const fl = fieldAt(spec, f.engine, typeName, path.slice(4));
        if (!fl) throw new ScenarioError(where, `save ${name}: ${typeName} has no field ${path.slice(4)}`);
        vars.set(name, { load: { dom, addr: argAddr + BigInt(fl.offset), size: fl.size as 1 | 2 | 4 | 8 } });
      }
      return;
    }
    if ('hypercall' in step) {
      const dom = step.domain ?? firstDom;
      const f = facts.get(dom)!;
      const cx = ctxFor(dom);
      const abi = findAbi(spec, f.d.abi)!;
      const regs: Record<string, Operand> = { [abi.convention.number]: expr(step.hypercall.nr, cx) };
      (step.hypercall.args ?? []).forEach((a, k) => {
        const r = abi.convention.args[k];
        if (r === undefined) throw new ScenarioError(where, `${abi.name} passes ${abi.convention.args.length} arguments`);
        const o = expr(a, cx);
        regs[r] = typeof o === 'bigint' ? BigInt.asUintN(f.bits, o) : o;
      });
      checks.push({ step: i, kind: 'result', instr: instrs.length, expect: step.expect === undefined || step.expect === 'ok' || step.expect === 'any' ? (step.expect ?? 'any') : constExpr(step.expect, cx, 'expect'), bits: f.bits, what: 'hypercall result' });
      instrs.push({ op: 'call', step: i, dom, vcpu: step.vcpu ?? 0, regs });
      return;
    }
    if ('write' in step) {
      const w = step.write;
      const dom = w.domain ?? firstDom;
      const cx = ctxFor(dom);
      const at = constExpr(w.at, cx, 'write.at');
      const { bytes, dynamic } = bytesOf(w, cx, where);
      instrs.push({ op: 'write', step: i, dom, addr: at, bytes });
      for (const d of dynamic) instrs.push({ op: 'store', step: i, dom, addr: at + BigInt(d.offset), size: d.size, value: d.value });
      return;
    }
    if ('memory' in step) {
      const m = step.memory;
      const dom = m.domain ?? firstDom;
      const cx = ctxFor(dom);
      const at = constExpr(m.at, cx, 'memory.at');
      if (m.fault) {
        checks.push({ step: i, kind: 'memory', instr: instrs.length, expect: 'fault', what: `memory at 0x${at.toString(16)}` });
        instrs.push({ op: 'read', step: i, dom, addr: at, length: 1 });
        return;
      }
      const { bytes, dynamic } = bytesOf(m, cx, where);
      if (dynamic.length > 0) throw new ScenarioError(where, 'expected memory must be constant');
      checks.push({ step: i, kind: 'memory', instr: instrs.length, expect: bytes, what: `memory at 0x${at.toString(16)}` });
      instrs.push({ op: 'read', step: i, dom, addr: at, length: bytes.length });
      return;
    }
    if ('event' in step) {
      const ev = step.event;
      const dom = ev.domain ?? firstDom;
      const f = facts.get(dom)!;
      const cx = ctxFor(dom);
      const si = f.layout.sharedInfo;
      if (si === undefined) throw new ScenarioError(where, 'the target does not say where shared_info is');
      const port = expr(ev.port, cx);
      const shared = fieldAt(spec, f.engine, 'struct shared_info', 'evtchn_pending');
      const mask = fieldAt(spec, f.engine, 'struct shared_info', 'evtchn_mask');
      if (!shared || !mask) throw new ScenarioError(where, 'the spec has no shared_info bitmaps');
      // A port known only at run time: read the whole bitmap and pick the bit when checking.
      const bitsOf = (base: number, expect: boolean, what: string) => {
        if (typeof port === 'bigint') {
          const byte = Number(port / 8n);
          checks.push({ step: i, kind: 'event', instr: instrs.length, bit: Number(port % 8n), expect, what });
          instrs.push({ op: 'read', step: i, dom, addr: si + BigInt(base + byte), length: 1 });
        } else {
          throw new ScenarioError(where, 'event.port must be constant (save the port and check it by status, or name it)');
        }
      };
      if (ev.pending !== undefined) bitsOf(shared.offset, ev.pending, `port ${String(ev.port)} pending`);
      if (ev.masked !== undefined) bitsOf(mask.offset, ev.masked, `port ${String(ev.port)} masked`);
      return;
    }
    if ('advance' in step) {
      instrs.push({ op: 'advance', step: i, ns: constExpr(step.advance, ctxFor(firstDom), 'advance') });
      return;
    }
  }

  function bytesOf(w: { hex?: string; text?: string; u8?: unknown[]; u16?: unknown[]; u32?: unknown[]; u64?: unknown[] }, cx: ExprContext, where: string) {
    const given = (['hex', 'text', 'u8', 'u16', 'u32', 'u64'] as const).filter((k) => w[k] !== undefined);
    if (given.length !== 1) throw new ScenarioError(where, 'give exactly one of hex, text, u8, u16, u32, u64');
    const k = given[0]!;
    const dynamic: { offset: number; size: 1 | 2 | 4 | 8; value: Operand }[] = [];
    if (k === 'hex') return { bytes: Uint8Array.from(Buffer.from(w.hex!, 'hex')), dynamic };
    if (k === 'text') return { bytes: new TextEncoder().encode(w.text!), dynamic };
    const size = ({ u8: 1, u16: 2, u32: 4, u64: 8 } as const)[k];
    const list = w[k]!;
    const bytes = new Uint8Array(list.length * size);
    const view = new DataView(bytes.buffer);
    list.forEach((v, j) => {
      const o = expr(v, cx);
      if (typeof o !== 'bigint') {
        dynamic.push({ offset: j * size, size, value: o });
        return;
      }
      const u = BigInt.asUintN(size * 8, o);
      if (size === 8) view.setBigUint64(j * 8, u, true);
      else if (size === 4) view.setUint32(j * 4, Number(u), true);
      else if (size === 2) view.setUint16(j * 2, Number(u), true);
      else view.setUint8(j, Number(u));
    });
    void where;
    return { bytes, dynamic };
  }

  return { program: { id: s.id, domains, instrs }, checks };
}

/** The array and element field that select the operation of a batched hypercall (`ureqs[].ptr`). */
function batchOf(h: Hypercall): { array: string; field: string } | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)\[\]\.(.+)$/.exec(h.subops?.selector ?? '');
  return m ? { array: m[1] as string, field: m[2] as string } : undefined;
}

/** Whether an operation stub of `h` takes its argument as a list (batched, or with a count argument). */
function takesList(h: Hypercall): boolean {
  if (batchOf(h)) return true;
  const name = h.subops?.argument;
  const lists = [h.args, ...Object.values(h.argsByAbi ?? {})];
  return name !== undefined && lists.some((l) => l.find((a) => a.name === name)?.count !== undefined);
}

/** Leaves of a fields object as dotted paths, each mapped through `leaf`; returns the same shape. */
function flatten(obj: Record<string, unknown>, prefix: string, leaf: (path: string, v: unknown) => string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (Array.isArray(v)) out[k] = v.map((x, j) => (typeof x === 'object' && x !== null ? flatten(x as Record<string, unknown>, `${path}.${j}`, leaf) : leaf(`${path}.${j}`, x)));
    else if (typeof v === 'object' && v !== null) out[k] = flatten(v as Record<string, unknown>, path, leaf);
    else out[k] = leaf(path, v);
  }
  return out;
}

/**
 * Missing fields default (zeros, arrays of the arch's length, no union member) so a scenario
 * names only what matters. Array lengths depend on the arch, so they come from the codec: its
 * decoding of zeros has every array at full length.
 */
function fillDefaults(schema: unknown, given: Record<string, unknown>, codec: Codec<unknown>): unknown {
  const zeros = codec.decode(new DataView(new ArrayBuffer(codec.size)), 0);
  const base = sizeArrays(TbValue.Create(schema as never) as unknown, zeros);
  return merge(base, given);
}

/** `base` with every array as long as the same array of `full` (elements from `full`). */
function sizeArrays(base: unknown, full: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(full)) return full.map((f, i) => (i < base.length ? sizeArrays(base[i], f) : f));
  if (typeof base === 'object' && base !== null && typeof full === 'object' && full !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(base as Record<string, unknown>)) out[k] = sizeArrays(v, (full as Record<string, unknown>)[k]);
    return out;
  }
  return base;
}

function merge(base: unknown, over: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(over)) return base.map((b, i) => (i < over.length ? merge(b, over[i]) : b));
  if (Array.isArray(base) && typeof over === 'object' && over !== null && Object.keys(over).length === 0) return base;
  if (typeof base === 'object' && base !== null && typeof over === 'object' && over !== null && !Array.isArray(over)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over)) out[k] = k in out ? merge(out[k], v) : v;
    return out;
  }
  return over === undefined ? (typeof base === 'bigint' ? base.toString() : base) : over;
}

/** Offset and size of a (dotted) field path in a named type, following named member types. */
export function fieldAt(spec: Spec, engine: LayoutEngine, typeName: string, path: string): { offset: number; size: number } | undefined {
  const lay = engine.named(typeName);
  const direct = lay.fields[path];
  if (direct) return direct;
  const parts = path.split('.');
  for (let k = parts.length - 1; k >= 1; k--) {
    const head = parts.slice(0, k).join('.');
    const fl = lay.fields[head];
    if (!fl) continue;
    const rest = parts.slice(k).join('.');
    const def = findType(spec, typeName);
    if (!def) return undefined;
    const body = typeBodyFor(def, engine.arch);
    const member = body.fields?.find((x) => x.name === head);
    if (member?.type.kind === 'name') {
      const sub = fieldAt(spec, engine, member.type.name, rest);
      return sub ? { offset: fl.offset + sub.offset, size: sub.size } : undefined;
    }
    if (member?.type.kind === 'array' && /^\d+$/.test(rest)) {
      const n = typeof member.type.length === 'number' ? member.type.length : 1;
      const el = fl.size / Math.max(n, 1);
      return { offset: fl.offset + Number(rest) * el, size: el };
    }
  }
  return undefined;
}
