/**
 * The guest checker: reads a guest's trace (conformance/guest-check/trace.ts) event by event
 * and reports every violation of the spec by the guest as a finding with the call trace up
 * to it. Strict mode feeds it live; `hyperabi check-guest --trace` feeds it a recorded file;
 * both give the same findings because the checker sees nothing but the events.
 *
 * Decided from the spec: which hypercalls and operations an ABI has, deprecation, flags and
 * enum groups of arguments and fields, padding of input structs, pointer sizes and
 * alignments from the layouts, and the handles operations produce and consume. The protocol
 * facts the spec cannot state yet (what releases a handle, which step must come first) are
 * the small tables of rules.ts.
 */
import { findType, xenSpec, type Arg, type Hypercall, type ResourceUse, type Spec, type TypeRef } from '../../spec/index.js';
import { Mirror } from './mirror.js';
import { FLAGS_CARRY_VALUES, GRANT_REF, GRANT_SETUP, GRANTS, DOMID, KINDS, MAX_ELEMENTS, MULTICALL, PADDING, PAIRS, SHUTDOWN, TRACKED, VCPU_BRINGUP, VCPU_ID, type Kind } from './rules.js';
import { AbiView, SpecView, readUint, type FieldInfo, type Unit } from './spec-view.js';
import { bytesOf, TraceError, type CallEvent, type DomainEvent, type TraceEvent } from './trace.js';

/** One violation by a guest. */
export interface Finding {
  kind: Kind;
  /** The domain that committed it. */
  dom: number;
  /** The call (its trace sequence number); absent for findings at the end of the guest. */
  seq?: number;
  /** The operation id (or hypercall name) of that call. */
  op?: string;
  message: string;
  /** The domain's calls up to and including this one, oldest first, one line each. */
  trace: string[];
}

/** A handle's life as the checker saw it. */
interface Holding {
  state: 'held' | 'released' | 'poisoned';
  seq: number;
  op: string;
}

interface DomState {
  id: number;
  view: AbiView;
  vcpus: number;
  owned: [number, number][];
  grantTable: number | undefined;
  grantFrames: number;
  grantVersion: number;
  grantReady: boolean;
  /** vCPUs initialised (vCPU 0 runs from boot). */
  initialised: Set<number>;
  shutdownSeq: number | undefined;
  ended: boolean;
  leaksChecked: boolean;
  mirror: Mirror;
  calls: string[];
}

/** What one call's checks need. */
interface CallCtx {
  d: DomState;
  ev: CallEvent;
  h: Hypercall;
  args: Map<string, bigint>;
  ret: bigint;
  found: { kind: Kind; op: string; message: string }[];
  /** Which memory reads see: as the call found it, or as it left it. */
  phase: 'before' | 'after';
  /** What the call changed (`out`), over the memory as it was. */
  after: Mirror;
  /** Prefix of this context's findings (a multicall entry). */
  prefix: string;
}

/** A resource use's condition on a flag, in its doc. */
const CONDITION = /^(with|without) ([A-Z][A-Za-z0-9_]*)$/;

/** How many calls a finding's trace shows (the latest ones). */
const TRACE_LIMIT = 64;

const hexOf = (v: bigint): string => (v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`);
const last = (path: string): string => path.slice(path.lastIndexOf('.') + 1);
const parentOf = (path: string): string => (path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '');
/** The part of a member name before its last underscore (`remote_port` → `remote`), '' without one. */
const stem = (name: string): string => (name.includes('_') ? name.slice(0, name.lastIndexOf('_')) : '');

export class GuestChecker {
  readonly findings: Finding[] = [];
  private readonly view: SpecView;
  private readonly doms = new Map<number, DomState>();
  private readonly ledger = new Map<string, Holding>();
  private readonly errnoNames = new Map<bigint, string>();
  private started = false;
  private count = 0;

  constructor(readonly spec: Spec = xenSpec) {
    this.view = new SpecView(spec);
    const space = spec.errorSpaces.find((s) => s.via === 'return');
    const group = spec.constants.find((g) => g.name === space?.group);
    for (const c of group?.members ?? []) {
      if (typeof c.value === 'number' && space && c.name.startsWith(space.prefix)) this.errnoNames.set(BigInt(c.value), c.name.slice(space.prefix.length));
    }
  }

  /** Feeds one event; findings are appended to `findings` (and returned). */
  feed(ev: TraceEvent): Finding[] {
    const before = this.findings.length;
    this.count++;
    const where = `event ${this.count}`;
    if (!this.started) {
      if (ev.ev !== 'trace') throw new TraceError(where, 'a trace starts with its header event');
      if (ev.spec !== this.spec.name) throw new TraceError(where, `trace of spec '${ev.spec}'; this checker reads spec '${this.spec.name}'`);
      this.started = true;
      return [];
    }
    switch (ev.ev) {
      case 'trace':
        throw new TraceError(where, 'a second trace header');
      case 'domain':
        this.domain(ev, where);
        break;
      case 'owned':
        this.dom(ev.dom, where).owned = normalise(ev.owned);
        break;
      case 'write':
        this.dom(ev.dom, where).mirror.set(BigInt(ev.addr), bytesOf(ev.bytes));
        break;
      case 'call':
        this.call(ev, where);
        break;
      case 'end': {
        const d = this.dom(ev.dom, where);
        d.ended = true;
        this.leaks(d, undefined);
        break;
      }
    }
    return this.findings.slice(before);
  }

  /** Feeds every event of a trace; returns all findings. */
  check(events: Iterable<TraceEvent>): Finding[] {
    for (const ev of events) this.feed(ev);
    return this.findings;
  }

  private dom(id: number, where: string): DomState {
    const d = this.doms.get(id);
    if (!d) throw new TraceError(where, `domain ${id} has no domain event before it`);
    return d;
  }

  private domain(ev: DomainEvent, where: string): void {
    if (this.doms.has(ev.dom)) throw new TraceError(where, `domain ${ev.dom} is declared twice`);
    let view: AbiView;
    try {
      view = this.view.abi(ev.abi);
    } catch (e) {
      throw new TraceError(where, (e as Error).message);
    }
    this.doms.set(ev.dom, {
      id: ev.dom,
      view,
      vcpus: ev.vcpus,
      owned: normalise(ev.owned),
      grantTable: ev.grantTable,
      grantFrames: 1,
      grantVersion: 1,
      grantReady: false,
      initialised: new Set([0]),
      shutdownSeq: undefined,
      ended: false,
      leaksChecked: false,
      mirror: new Mirror(),
      calls: [],
    });
    for (const port of ev.ports ?? []) this.ledger.set(this.key('evtchn_port', ev.dom, BigInt(port)), { state: 'held', seq: 0, op: 'the domain builder' });
  }

  // ───────────────────────────── one call ─────────────────────────────

  private call(ev: CallEvent, where: string): void {
    const d = this.dom(ev.dom, where);
    const view = d.view;
    for (const m of ev.mem) d.mirror.set(BigInt(m.addr), bytesOf(m.bytes));
    const regs: Record<string, bigint> = {};
    for (const [k, v] of Object.entries(ev.regs)) regs[k] = BigInt(v);
    const ret = BigInt.asIntN(view.wordBits, BigInt(ev.ret));
    const nr = BigInt.asUintN(view.wordBits, regs[view.abi.convention.number] ?? 0n);
    const h = view.hypercallByNumber(nr);
    const found: CallCtx['found'] = [];
    let summary: string;
    if (d.ended || d.shutdownSeq !== undefined) {
      found.push({ kind: 'out-of-order', op: h?.name ?? `hypercall ${nr}`, message: d.ended ? 'a call after the guest ended' : `a call after the domain shut down (call #${d.shutdownSeq})` });
    }
    if (!h || !view.has(h)) {
      const message = h
        ? `${h.name} (hypercall ${nr}) is not available on ${view.abi.name}; the spec gives it to ${Object.keys(h.abis).join(', ')}`
        : `hypercall ${nr} is no hypercall of spec ${this.spec.name}`;
      found.push({ kind: 'unknown-hypercall', op: h?.name ?? `hypercall ${nr}`, message });
      summary = `${h?.name ?? `hypercall ${nr}`}(${view.abi.convention.args.map((r) => `${r}=${hexOf(regs[r] ?? 0n)}`).join(', ')})`;
    } else {
      const after = new Mirror();
      for (const m of ev.out) after.set(BigInt(m.addr), bytesOf(m.bytes));
      const ctx: CallCtx = { d, ev, h, args: view.args(h, regs), ret, found, phase: 'before', after, prefix: '' };
      summary = this.checkCall(ctx);
    }
    for (const m of ev.out) d.mirror.set(BigInt(m.addr), bytesOf(m.bytes));
    d.calls.push(`#${ev.seq} v${ev.vcpu} ${summary} = ${this.retText(ret)}`);
    // One finding per distinct violation of a call: a batch repeating it says how often.
    const seen = new Map<string, { f: CallCtx['found'][number]; n: number }>();
    for (const f of found) {
      const k = `${f.kind}|${f.op}|${f.message}`;
      const s = seen.get(k);
      if (s) s.n++;
      else seen.set(k, { f, n: 1 });
    }
    for (const { f, n } of seen.values()) this.report(d, f.kind, n > 1 ? `${f.message} (${n} elements)` : f.message, ev.seq, f.op);
    if (d.shutdownSeq === ev.seq) this.leaks(d, ev.seq);
  }

  private retText(ret: bigint): string {
    const name = ret < 0n ? this.errnoNames.get(-ret) : undefined;
    return name ? `${ret} (${name})` : ret >= -4096n && ret <= 4096n ? String(ret) : hexOf(ret);
  }

  private report(d: DomState, kind: Kind, message: string, seq?: number, op?: string): void {
    const calls = d.calls.length > TRACE_LIMIT ? [`… ${d.calls.length - TRACE_LIMIT} earlier calls`, ...d.calls.slice(-TRACE_LIMIT)] : d.calls.slice();
    this.findings.push({ kind, dom: d.id, ...(seq !== undefined ? { seq } : {}), ...(op !== undefined ? { op } : {}), message, trace: calls });
  }

  /** A finding of the call being checked. */
  private flag(c: CallCtx, kind: Kind, op: string, message: string): void {
    c.found.push({ kind, op, message: `${c.prefix}${message}` });
  }

  /** Guest memory as the call found it, or as it left it (by the context's phase); undefined where unknown. */
  private read(c: CallCtx, addr: bigint, size: number): Uint8Array | undefined {
    return c.phase === 'after' ? c.after.over(c.d.mirror, addr, size) : c.d.mirror.get(addr, size);
  }

  /** Every check of a known hypercall (and of a multicall's entries); returns the call's summary line. */
  private checkCall(c: CallCtx): string {
    const units = this.before(c);
    const entries = c.h.name === MULTICALL.hypercall && c.prefix === '' ? this.multicallEntries(c) : [];
    c.phase = 'after';
    for (const u of units) this.after(c, u);
    const s = this.summary(c, units);
    return entries.length === 0 ? s : `${s} [${entries.join('; ')}]`;
  }

  /** A multicall's entries, each checked as a call of its own in order; returns their summaries. */
  private multicallEntries(c: CallCtx): string[] {
    const view = c.d.view;
    const list = view.argList(c.h).find((a) => a.name === MULTICALL.list);
    if (!list || (list.type.kind !== 'pointer' && list.type.kind !== 'handle')) return [];
    const type = list.type.to;
    const base = c.args.get(MULTICALL.list) ?? 0n;
    const n = Math.min(Number(c.args.get(MULTICALL.count) ?? 0n), MAX_ELEMENTS);
    const size = BigInt(view.sizeOf(type).size);
    const op = view.field(type, MULTICALL.op);
    const result = view.field(type, MULTICALL.result);
    const args = view.field(type, MULTICALL.args);
    if (!op || !result || !args) return [];
    const word = view.arch.wordSize;
    const conv = view.abi.convention;
    const out: string[] = [];
    for (let k = 0; k < n; k++) {
      const at = base + BigInt(k) * size;
      const b = c.d.mirror.get(at, Number(size));
      if (!b) continue;
      const nr = readUint(b.subarray(op.offset, op.offset + op.size));
      const regs: Record<string, bigint> = { [conv.number]: nr };
      conv.args.forEach((r, i) => {
        if ((i + 1) * word <= args.size) regs[r] = readUint(b.subarray(args.offset + i * word, args.offset + (i + 1) * word));
      });
      const rb = c.after.over(c.d.mirror, at + BigInt(result.offset), result.size);
      const ret = rb ? BigInt.asIntN(view.wordBits, readUint(rb)) : 0n;
      const h = view.hypercallByNumber(nr);
      const prefix = `multicall entry ${k}: `;
      if (!h || !view.has(h)) {
        this.flag(c, 'unknown-hypercall', h?.name ?? `hypercall ${nr}`, `${prefix}${h ? `${h.name} (hypercall ${nr}) is not available on ${view.abi.name}` : `hypercall ${nr} is no hypercall of spec ${this.spec.name}`}`);
        out.push(`${h?.name ?? `hypercall ${nr}`} = ${this.retText(ret)}`);
        continue;
      }
      const e: CallCtx = { d: c.d, ev: c.ev, h, args: view.args(h, regs), ret, found: c.found, phase: 'before', after: c.after, prefix };
      out.push(`${this.checkCall(e)} = ${this.retText(ret)}`);
    }
    return out;
  }

  /** The checks before the call: everything about its arguments. Returns its units. */
  private before(c: CallCtx): Unit[] {
    const { d, h, args } = c;
    const view = d.view;
    const add = (kind: Kind, op: string, message: string) => this.flag(c, kind, op, message);
    const before = (addr: bigint, size: number) => d.mirror.get(addr, size);
    if (h.deprecated) add('deprecated', h.name, `${h.name} is deprecated${h.deprecated.replacedBy ? ` (use ${h.deprecated.replacedBy})` : ''}: ${h.deprecated.doc}`);
    const t = h.subops;
    const registerSelector = t && !t.selector.includes('[]') ? t.selector : undefined;
    const argList = view.argList(h);
    for (const a of argList) {
      const v = args.get(a.name);
      if (a.values && v !== undefined && a.name !== registerSelector) {
        this.checkValue(c, h.name, `${h.name}(${a.name})`, a.values, v, view.sizeOf(a.type).size);
      }
    }
    if (registerSelector && t?.mask !== undefined) {
      const v = args.get(registerSelector) ?? 0n;
      const extra = v & ~BigInt(t.mask);
      if (extra !== 0n) add('reserved-bits', h.name, `${h.name}(${registerSelector}) = ${hexOf(v)} has bits ${hexOf(extra)} set outside the command mask ${hexOf(BigInt(t.mask))}`);
    }
    const units = view.units(
      h,
      args,
      before,
      (value, index) => add('unknown-operation', h.name, `${h.name}${index !== undefined ? ` element ${index}` : ''}: command ${value} is no ${t?.group ?? ''} operation on ${view.abi.name}`),
      MAX_ELEMENTS,
    );
    for (const a of argList) this.checkPointerArg(c, a, units);
    // Hypercall-level uses (register arguments) once; operation-level ones per element.
    const hUses = h.consumes ?? [];
    this.checkUses(c, undefined, undefined, hUses, hUses);
    for (const u of units) {
      if (u.op?.deprecated) add('deprecated', u.id, `${u.id} is deprecated${u.op.deprecated.replacedBy ? ` (use ${u.op.deprecated.replacedBy})` : ''}: ${u.op.deprecated.doc}`);
      this.checkProtocolBefore(c, u);
      // A struct the hypervisor only writes has nothing of the guest's to check.
      if (u.op?.argDir === 'out') continue;
      const uses = [...hUses, ...(u.op?.consumes ?? [])];
      for (const el of u.elements) {
        this.checkStruct(c, u, el);
        this.checkUses(c, u, el, u.op?.consumes ?? [], uses);
      }
    }
    return units;
  }

  // ───────────────────────────── values and structs ─────────────────────────────

  /** A value of a flags or enum group: reserved bits, non-members, deprecated members. */
  private checkValue(c: CallCtx, op: string, where: string, group: string, value: bigint, size: number): void {
    const view = c.d.view;
    const kind = view.groupKind(group);
    const members = view.members(group);
    const v = BigInt.asUintN(size * 8, value);
    if (kind === 'flags') {
      // A flags group may be continued by groups named after it (VGCF and, on x86_64, VGCF_in_syscall).
      const more = this.spec.constants.filter((g) => g.kind === 'flags' && g.name.startsWith(`${group}_`)).flatMap((g) => view.members(g.name));
      let allowed = 0n;
      for (const m of [...members, ...more]) allowed |= BigInt.asUintN(size * 8, m.v);
      const extra = v & ~allowed;
      if (extra !== 0n && !(where in FLAGS_CARRY_VALUES)) {
        this.flag(c, 'reserved-bits', op, `${where} = ${hexOf(v)} has bits ${hexOf(extra)} that no ${group} flag defines (defined: ${hexOf(allowed)})`);
      }
      for (const m of members) {
        if (m.c.deprecated && m.v !== 0n && (v & m.v) === m.v) this.flag(c, 'deprecated', op, `${where} sets ${m.c.name}, which is deprecated: ${m.c.deprecated}`);
      }
    } else if (kind === 'enum') {
      const hits = members.filter((m) => BigInt.asUintN(size * 8, m.v) === v);
      if (hits.length === 0) {
        const names = members.slice(0, 8).map((m) => `${m.c.name}=${m.v}`).join(', ');
        this.flag(c, 'invalid-value', op, `${where} = ${v} is no ${group} value (${names}${members.length > 8 ? ', …' : ''})`);
      } else if (hits.every((m) => m.c.deprecated)) {
        this.flag(c, 'deprecated', op, `${where} = ${hits[0]?.c.name}, which is deprecated: ${hits[0]?.c.deprecated}`);
      }
    }
  }

  /** The input fields of one argument struct: padding, flags and enums, handle fields. */
  private checkStruct(c: CallCtx, u: Unit, el: { addr: bigint; type: TypeRef }): void {
    const view = c.d.view;
    const size = view.sizeOf(el.type).size;
    const bytes = c.d.mirror.get(el.addr, size);
    if (!bytes) return;
    const tname = typeName(this.spec, el.type);
    const fields = view.fields(el.type);
    for (const f of fields) {
      const handle = f.kind === 'handle' || f.kind === 'pointer';
      // A handle's direction is its buffer's; the handle itself is always the guest's input.
      if ((f.dir === 'out' && !handle) || f.inUnion) continue;
      const raw = bytes.subarray(f.offset, f.offset + f.size);
      if (PADDING.test(last(f.path))) {
        if (raw.some((b) => b !== 0)) this.flag(c, 'nonzero-padding', u.id, `${tname}.${f.path} is padding or reserved and must be zero; it holds ${Buffer.from(raw).toString('hex')}`);
        continue;
      }
      if (f.field.values && f.kind === 'scalar') this.checkValue(c, u.id, `${tname}.${f.path}`, f.field.values, readUint(raw), f.size);
      if (handle && f.target) {
        const p = readUint(raw);
        if (p === 0n) continue;
        let n = 1n;
        if (f.field.count) {
          const cf = fields.find((x) => x.path === joinPath(parentOf(f.path), f.field.count as string));
          if (cf) n = readUint(bytes.subarray(cf.offset, cf.offset + cf.size));
        }
        if (n === 0n) continue;
        this.checkPointer(c, u.id, `${tname}.${f.path}`, p, f.target, n);
      }
    }
  }

  private checkPointerArg(c: CallCtx, a: Arg, units: readonly Unit[]): void {
    if (a.type.kind !== 'pointer' && a.type.kind !== 'handle') return;
    const p = c.args.get(a.name) ?? 0n;
    if (p === 0n) return;
    const h = c.h;
    const where = `${h.name}(${a.name})`;
    if (h.subops?.argument === a.name && !h.subops.selector.includes('[]')) {
      const first = units[0]?.elements[0];
      if (!first) return;
      const n = a.count !== undefined ? (c.args.get(a.count) ?? 1n) : 1n;
      if (n > 0n) this.checkPointer(c, units[0]?.id ?? h.name, where, p, first.type, n);
      return;
    }
    let n = 1n;
    if (a.count !== undefined) n = c.args.get(a.count) ?? 1n;
    if (n <= 0n) return;
    this.checkPointer(c, h.name, where, p, a.type.to, n);
  }

  /** A pointer to `n` elements of `target`: owned memory, aligned. */
  private checkPointer(c: CallCtx, op: string, where: string, p: bigint, target: TypeRef, n: bigint): void {
    const view = c.d.view;
    if (!view.available(target)) return;
    const { size, align } = view.sizeOf(target);
    const bytes = BigInt(Math.max(size, 1)) * n;
    const what = target.kind === 'name' ? target.name : 'its target';
    if (!owns(c.d.owned, p, bytes)) {
      this.flag(c, 'bad-pointer', op, `${where} = ${hexOf(p)}: ${bytes} bytes (${n} × ${what}) are not all memory domain ${c.d.id} owns (${rangesText(c.d.owned)})`);
    }
    if (align > 1 && p % BigInt(align) !== 0n) {
      this.flag(c, 'misaligned-pointer', op, `${where} = ${hexOf(p)} is not aligned to ${align} bytes, the alignment of ${what} on ${view.arch.name}`);
    }
  }

  // ───────────────────────────── handles ─────────────────────────────

  /**
   * The value at a path of a unit: `arg.<field>` of an element, a register argument, or
   * `<pointer argument>.<field>`. Undefined when the memory is not known, or the field is in
   * a union whose live member the use's condition does not settle.
   */
  private valueAt(c: CallCtx, el: { addr: bigint; type: TypeRef } | undefined, use: ResourceUse): bigint | undefined {
    const view = c.d.view;
    const dot = use.path.indexOf('.');
    if (dot < 0) return c.args.get(use.path);
    const head = use.path.slice(0, dot);
    const rest = use.path.slice(dot + 1);
    let base: { addr: bigint; type: TypeRef } | undefined;
    if (head === 'arg') base = el;
    else {
      const a = view.argList(c.h).find((x) => x.name === head);
      const p = c.args.get(head);
      if (a && p !== undefined && (a.type.kind === 'pointer' || a.type.kind === 'handle')) base = { addr: p, type: a.type.to };
    }
    if (!base) return undefined;
    const f = view.field(base.type, rest);
    if (!f) return undefined;
    // In a union, the use names the member the operation reads, unless its doc makes it
    // conditional on a flag of the struct (`with GNTCOPY_source_gref`).
    if (f.inUnion && CONDITION.test(use.doc ?? '') && !this.conditionHolds(c, base, use)) return undefined;
    const b = this.read(c, base.addr + BigInt(f.offset), f.size);
    return b ? readUint(b) : undefined;
  }

  /** A use inside a union applies when its doc's condition (`with FLAG` / `without FLAG`) holds. */
  private conditionHolds(c: CallCtx, base: { addr: bigint; type: TypeRef }, use: ResourceUse): boolean {
    const m = CONDITION.exec(use.doc ?? '');
    if (!m) return false;
    const view = c.d.view;
    const flag = view.constant(m[2] as string);
    if (flag === undefined) return false;
    const holder = view.fields(base.type).find((f) => !f.inUnion && f.field.values !== undefined && view.members(f.field.values).some((x) => x.c.name === m[2]));
    if (!holder) return false;
    const b = this.read(c, base.addr + BigInt(holder.offset), holder.size);
    if (!b) return false;
    const set = (readUint(b) & flag) === flag;
    return m[1] === 'with' ? set : !set;
  }

  /** The domain whose table a handle at `use` indexes: the domid beside it with the same stem, else the caller. */
  private ownerOf(c: CallCtx, el: { addr: bigint; type: TypeRef } | undefined, use: ResourceUse, all: readonly ResourceUse[]): number {
    const best = ownerUse(use, all);
    if (!best) return c.d.id;
    const v = this.valueAt(c, el, best);
    if (v === undefined) return c.d.id;
    return this.domidOf(c, v);
  }

  private domidOf(c: CallCtx, v: bigint): number {
    const id = Number(BigInt.asUintN(16, v));
    return BigInt(id) === c.d.view.constant('DOMID_SELF') ? c.d.id : id;
  }

  private key(resource: string, owner: number, value: bigint): string {
    return `${resource}|${owner}|${value}`;
  }

  /** Checks the uses among `uses` (resolving owners among `all`) before the call. */
  private checkUses(c: CallCtx, u: Unit | undefined, el: { addr: bigint; type: TypeRef } | undefined, uses: readonly ResourceUse[], all: readonly ResourceUse[]): void {
    const id = u?.id ?? c.h.name;
    for (const use of uses) {
      const tracked = TRACKED[use.resource];
      const interesting = tracked || use.resource === DOMID || use.resource === VCPU_ID || use.resource === GRANT_REF;
      if (!interesting) continue;
      const v = this.valueAt(c, el, use);
      if (v === undefined) continue;
      const add = (kind: Kind, message: string) => this.flag(c, kind, id, `${use.path} = ${v}: ${message}`);
      if (use.resource === DOMID) {
        const dom = this.domidOf(c, v);
        const special = this.spec.resources.find((r) => r.name === DOMID)?.special ?? [];
        const isSpecial = special.some((s) => c.d.view.constant(s.name) === BigInt.asUintN(16, v));
        if (!isSpecial && !this.doms.has(dom)) add('unowned-handle', `domain ${dom} does not exist`);
        continue;
      }
      const owner = this.doms.get(this.ownerOf(c, el, use, all));
      if (use.resource === VCPU_ID) {
        if (owner && v >= BigInt(owner.vcpus)) add('unowned-handle', `domain ${owner.id} has no vCPU ${v} (it has ${owner.vcpus})`);
        continue;
      }
      if (use.resource === GRANT_REF) {
        if (owner && owner.id !== c.d.id) this.checkGrantRef(c, owner, v, add);
        continue;
      }
      if (!tracked) continue;
      const ownerId = tracked.scope === 'caller' ? c.d.id : (owner?.id ?? c.d.id);
      const h = this.ledger.get(this.key(use.resource, ownerId, v));
      const whose = ownerId === c.d.id ? '' : ` of domain ${ownerId}`;
      const release = u !== undefined && tracked.releases[u.id] === use.path;
      if (h?.state === 'held') continue;
      if (h?.state === 'poisoned') add('ignored-error', `the ${use.resource}${whose} came from ${h.op} (call #${h.seq}), which failed`);
      else if (h?.state === 'released') add(release ? 'double-release' : 'stale-handle', `the ${use.resource}${whose} was released by ${h.op} (call #${h.seq})`);
      else add(release ? 'release-unheld' : 'unowned-handle', `no call ever gave the guest this ${use.resource}${whose}`);
    }
  }

  private checkGrantRef(c: CallCtx, granter: DomState, ref: bigint, add: (kind: Kind, message: string) => void): void {
    if (!granter.grantReady) {
      add('out-of-order', `domain ${granter.id} has not set up its grant table yet (${GRANT_SETUP.map((s) => s.op).join(' or ')})`);
      return;
    }
    const entry = this.grantEntry(granter, ref);
    if (entry === undefined) {
      add('not-offered', `domain ${granter.id} never wrote grant entry ${ref}`);
      return;
    }
    if (entry.type === entry.invalid || entry.domid !== c.d.id) {
      add('not-offered', `grant entry ${ref} of domain ${granter.id} is ${entry.type === entry.invalid ? 'not in use' : `for domain ${entry.domid}`}, not for domain ${c.d.id}`);
    }
  }

  /** A grant entry of a domain as its memory shows it (kind bits and grantee), if known. */
  private grantEntry(d: DomState, ref: bigint): { type: bigint; invalid: bigint; domid: number } | undefined {
    if (d.grantTable === undefined) return undefined;
    const view = d.view;
    const entryType: TypeRef = { kind: 'name', name: GRANTS.entry[d.grantVersion === 2 ? 2 : 1] };
    const header: TypeRef = { kind: 'name', name: GRANTS.header };
    const size = BigInt(view.sizeOf(entryType).size);
    const flags = view.field(header, 'flags');
    const domid = view.field(header, 'domid');
    if (!flags || !domid) return undefined;
    const at = BigInt(d.grantTable) * 4096n + ref * size;
    const fb = d.mirror.get(at + BigInt(flags.offset), flags.size);
    const db = d.mirror.get(at + BigInt(domid.offset), domid.size);
    if (!fb || !db) return undefined;
    let mask = 0n;
    for (const m of view.members(GRANTS.typeGroup)) mask |= m.v;
    return { type: readUint(fb) & mask, invalid: view.constant(GRANTS.invalid) ?? 0n, domid: Number(readUint(db)) };
  }

  // ───────────────────────────── protocol steps ─────────────────────────────

  private checkProtocolBefore(c: CallCtx, u: Unit): void {
    const add = (message: string) => this.flag(c, 'out-of-order', u.id, message);
    if (u.id === VCPU_BRINGUP.up || u.id === VCPU_BRINGUP.initialise) {
      const v = c.args.get(VCPU_BRINGUP.vcpu);
      if (v === undefined || v >= BigInt(c.d.vcpus)) return;
      const done = c.d.initialised.has(Number(v));
      if (u.id === VCPU_BRINGUP.up && !done) add(`vCPU ${v} is brought up before ${VCPU_BRINGUP.initialise} gave it a context`);
      if (u.id === VCPU_BRINGUP.initialise && done) add(`vCPU ${v} is ${v === 0n ? 'running from boot' : 'already initialised'}`);
    }
    for (const p of PAIRS) {
      if (u.id !== p.release) continue;
      const el = u.elements[0];
      const v = el ? this.valueAt(c, el, { resource: p.name, path: p.key }) : undefined;
      if (v === undefined) continue;
      const h = this.ledger.get(this.key(p.name, c.d.id, v));
      if (h?.state !== 'held') this.flag(c, 'release-unheld', u.id, `${p.key} = ${hexOf(v)}: no ${p.name} there${h ? ` (released by ${h.op}, call #${h.seq})` : ''}`);
    }
  }

  /** Whether element `i` of a unit succeeded: the call did, and its status field (if the operation reports one) is 0. */
  private succeeded(c: CallCtx, u: Unit, el: { addr: bigint; type: TypeRef } | undefined): boolean {
    if (c.ret < 0n) return false;
    if (!el || !u.op?.errors.some((e) => e.via === 'status')) return true;
    const f = c.d.view.field(el.type, 'status');
    if (!f) return true;
    const b = this.read(c, el.addr + BigInt(f.offset), f.size);
    return b !== undefined && readUint(b) === 0n;
  }

  private after(c: CallCtx, u: Unit): void {
    const d = c.d;
    const els = u.elements.length > 0 ? u.elements : [undefined];
    const all = [...(c.h.consumes ?? []), ...(u.op?.consumes ?? [])];
    for (const el of els) {
      const ok = this.succeeded(c, u, el);
      for (const use of u.op?.produces ?? c.h.produces ?? []) {
        const tracked = TRACKED[use.resource];
        if (!tracked) continue;
        const v = this.valueAt(c, el, use);
        if (v === undefined) continue;
        const owner = tracked.scope === 'caller' ? d.id : this.ownerOf(c, el, use, all);
        const k = this.key(use.resource, owner, v);
        if (ok) this.ledger.set(k, { state: 'held', seq: c.ev.seq, op: u.id });
        else if (this.ledger.get(k)?.state !== 'held') this.ledger.set(k, { state: 'poisoned', seq: c.ev.seq, op: u.id });
      }
      if (!ok) continue;
      for (const [resource, tracked] of Object.entries(TRACKED)) {
        const path = tracked.releases[u.id];
        if (path !== undefined) {
          const use = { resource, path };
          const v = this.valueAt(c, el, use);
          const owner = tracked.scope === 'caller' ? d.id : this.ownerOf(c, el, use, all);
          const k = v === undefined ? undefined : this.key(resource, owner, v);
          if (k && this.ledger.get(k)?.state === 'held') this.ledger.set(k, { state: 'released', seq: c.ev.seq, op: u.id });
        }
        const reset = tracked.resets[u.id];
        if (reset !== undefined) {
          const v = this.valueAt(c, el, { resource: DOMID, path: reset });
          if (v === undefined) continue;
          const prefix = `${resource}|${this.domidOf(c, v)}|`;
          for (const [k, h] of this.ledger) if (k.startsWith(prefix) && h.state === 'held') this.ledger.set(k, { state: 'released', seq: c.ev.seq, op: u.id });
        }
      }
      for (const p of PAIRS) {
        const acquire = (p.acquire as readonly string[]).includes(u.id);
        if (!acquire && u.id !== p.release) continue;
        const v = el ? this.valueAt(c, el, { resource: p.name, path: p.key }) : undefined;
        if (v === undefined) continue;
        this.ledger.set(this.key(p.name, d.id, v), { state: acquire ? 'held' : 'released', seq: c.ev.seq, op: u.id });
      }
      for (const s of GRANT_SETUP) {
        if (u.id !== s.op) continue;
        if ('when' in s) {
          const w = this.valueAt(c, el, { resource: 'value', path: s.when.path });
          if (w === undefined || w !== d.view.constant(s.when.constant)) continue;
        }
        const v = this.valueAt(c, el, { resource: DOMID, path: s.dom });
        const g = v === undefined ? undefined : this.doms.get(this.domidOf(c, v));
        if (g) {
          g.grantReady = true;
          const nr = el ? this.valueAt(c, el, { resource: 'value', path: 'arg.nr_frames' }) : undefined;
          if (nr !== undefined && nr > BigInt(g.grantFrames) && nr <= 64n) g.grantFrames = Number(nr);
        }
      }
      if (u.id === GRANTS.setVersion.op) {
        const v = this.valueAt(c, el, { resource: 'value', path: GRANTS.setVersion.path });
        if (v === 1n || v === 2n) d.grantVersion = Number(v);
      }
      if (u.id === VCPU_BRINGUP.initialise) {
        const v = c.args.get(VCPU_BRINGUP.vcpu);
        if (v !== undefined) d.initialised.add(Number(v));
      }
      if (u.id === SHUTDOWN.op) {
        const r = this.valueAt(c, el, { resource: 'value', path: SHUTDOWN.reason });
        const resumes = SHUTDOWN.resumes.some((n) => d.view.constant(n) === r);
        if (!resumes) d.shutdownSeq = c.ev.seq;
      }
    }
  }

  /** Leaks: what the domain still holds when it shuts down or ends. */
  private leaks(d: DomState, seq: number | undefined): void {
    if (d.leaksChecked) return;
    d.leaksChecked = true;
    const at = seq !== undefined ? 'at shutdown' : 'when the guest ended';
    for (const [resource, tracked] of Object.entries(TRACKED)) {
      const prefix = `${resource}|${d.id}|`;
      for (const [k, h] of this.ledger) {
        if (!k.startsWith(prefix) || h.state !== 'held') continue;
        this.report(d, 'leak-at-shutdown', `${tracked.leak} ${at}: ${resource} ${k.slice(prefix.length)} (from ${h.op}${h.seq > 0 ? `, call #${h.seq}` : ''})`, seq, seq !== undefined ? SHUTDOWN.op : undefined);
      }
    }
    if (!d.grantReady || d.grantTable === undefined) return;
    const view = d.view;
    const entryType: TypeRef = { kind: 'name', name: GRANTS.entry[d.grantVersion === 2 ? 2 : 1] };
    const perFrame = 4096 / view.sizeOf(entryType).size;
    const first = view.constant(GRANTS.reserved) ?? 0n;
    for (let ref = first; ref < BigInt(perFrame * d.grantFrames); ref++) {
      const e = this.grantEntry(d, ref);
      if (e && e.type !== e.invalid) this.report(d, 'leak-at-shutdown', `grant still offered ${at}: entry ${ref} of domain ${d.id} grants access to domain ${e.domid}`, seq, seq !== undefined ? SHUTDOWN.op : undefined);
    }
  }

  // ───────────────────────────── summaries ─────────────────────────────

  private summary(c: CallCtx, units: readonly Unit[]): string {
    const view = c.d.view;
    const t = c.h.subops;
    const shown = (name: string) => units.length === 0 || (name !== t?.selector && name !== t?.argument);
    const regArgs = view
      .argList(c.h)
      .filter((a) => shown(a.name))
      .map((a) => `${a.name}=${hexOf(c.args.get(a.name) ?? 0n)}`);
    const structs = (u: Unit) => {
      const parts = u.elements.slice(0, 4).map((el) => this.structText(c, el));
      if (u.elements.length > 4) parts.push(`… ${u.elements.length - 4} more`);
      return parts.length === 0 ? '' : parts.length === 1 ? ` ${parts[0]}` : ` [${parts.join(', ')}]`;
    };
    if (units.length === 0) return `${c.h.name}(${regArgs.join(', ')})`;
    if (units.length === 1 && units[0]?.index === undefined) {
      const u = units[0] as Unit;
      return `${u.id}(${regArgs.join(', ')})${structs(u)}`;
    }
    const list = units.slice(0, 4).map((u) => `${u.op?.name ?? u.id}${structs(u)}`);
    if (units.length > 4) list.push(`… ${units.length - 4} more`);
    return `${c.h.name}(${regArgs.join(', ')}) [${list.join(', ')}]`;
  }

  private structText(c: CallCtx, el: { addr: bigint; type: TypeRef }): string {
    const view = c.d.view;
    const b = c.d.mirror.get(el.addr, view.sizeOf(el.type).size);
    if (!b) return '{?}';
    const fs = view.fields(el.type).filter((f: FieldInfo) => f.dir !== 'out' && !f.inUnion && f.kind !== 'array' && !PADDING.test(last(f.path)));
    const parts = fs.slice(0, 6).map((f) => `${f.path}=${hexOf(readUint(b.subarray(f.offset, f.offset + f.size)))}`);
    if (fs.length > 6) parts.push('…');
    return `{${parts.join(', ')}}`;
  }
}

/**
 * The domid use naming the domain whose table a handle use indexes: among the operation's
 * domid uses with the same stem (`remote_port` pairs with `remote_dom`, `port` and `ref`
 * with `dom` or `domid`), the one sharing the longest path prefix; none: the caller's own.
 */
export function ownerUse(use: ResourceUse, all: readonly ResourceUse[]): ResourceUse | undefined {
  let best: ResourceUse | undefined;
  let bestLen = -1;
  for (const u of all) {
    if (u.resource !== DOMID || stem(last(u.path)) !== stem(last(use.path))) continue;
    const common = commonPrefix(parentOf(u.path), parentOf(use.path));
    if (common > bestLen) {
      best = u;
      bestLen = common;
    }
  }
  return best;
}

/** Checks a whole trace; returns its findings. */
export function checkTrace(events: Iterable<TraceEvent>, spec: Spec = xenSpec): Finding[] {
  return new GuestChecker(spec).check(events);
}

/** Finding kinds with their descriptions (for docs and the CLI). */
export function kindList(): { kind: Kind; doc: string }[] {
  return (Object.keys(KINDS) as Kind[]).map((k) => ({ kind: k, doc: KINDS[k] }));
}

function normalise(ranges: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = ranges.map(([a, n]) => [a, n] as [number, number]).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, n] of sorted) {
    const prev = out[out.length - 1];
    if (prev && a <= prev[0] + prev[1]) prev[1] = Math.max(prev[1], a + n - prev[0]);
    else out.push([a, n]);
  }
  return out;
}

/** Whether [p, p+len) lies in the owned frames. */
function owns(owned: readonly [number, number][], p: bigint, len: bigint): boolean {
  if (len <= 0n) return true;
  let g = p / 4096n;
  const lastG = (p + len - 1n) / 4096n;
  for (const [a, n] of owned) {
    const lo = BigInt(a);
    const hi = lo + BigInt(n);
    if (g >= lo && g < hi) {
      g = hi;
      if (g > lastG) return true;
    }
  }
  return false;
}

function rangesText(owned: readonly [number, number][]): string {
  return `owned: ${owned.map(([a, n]) => `0x${(a * 4096).toString(16)}-0x${((a + n) * 4096 - 1).toString(16)}`).join(', ') || 'nothing'}`;
}

function joinPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}.${name}`;
}

function commonPrefix(a: string, b: string): number {
  const x = a.split('.');
  const y = b.split('.');
  let n = 0;
  while (n < x.length && n < y.length && x[n] === y[n]) n++;
  return n;
}

function typeName(spec: Spec, t: TypeRef): string {
  if (t.kind !== 'name') return 'struct';
  return findType(spec, t.name)?.name ?? t.name;
}
