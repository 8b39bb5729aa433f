/**
 * The generator: spec-derived arbitraries for whole calls. One walk of an operation's plan
 * (fuzz/plan.ts) gives its registers and its struct, field by field:
 *
 * - integers: the edge values of their width and sign (0, 1, max, sign boundaries), values
 *   around the limits the operation's error triggers name, and random values;
 * - constant groups: enum members and one past them; flag combinations plus reserved bits;
 * - resources (from `consumes`/`produces`, else the field's C type): handles the sequence
 *   produced (ports, grant handles, frames), stale and invalid ones, special values
 *   (DOMID_SELF), by one recipe per resource kind; a struct's domid fields name the domain
 *   its other handles are drawn from;
 * - guest pointers: valid (in the caller's scratch pages), NULL, unmapped, misaligned,
 *   straddling two pages, or into Xen-owned pages; counts follow their arrays (and sometimes
 *   lie); structs are encoded by the generated codecs of the caller's arch over a buffer that
 *   is zero or, sometimes, garbage (padding and reserved bytes).
 *
 * Besides calls, a sequence has the guest's own writes (grant entries it offers, bits of its
 * shared_info) and clock advances. What it produced (ports, handles, offered grants) feeds
 * later steps through the sequence state.
 */
import { TS_NAMES } from '../generated/xen/types.js';
import { codecsByArch, type XenCodecs } from '../generated/xen/codecs.js';
import type { Codec } from '../generated/xen/runtime.js';
import type { Arch, Trigger } from '../spec/model.js';
import type { FNode, OpPlan, RegSlot, SpecPlans, TNode } from './plan.js';
import type { Rng } from './rng.js';
import type { CallStep, FStep, Output, Patch, Place, ReadSpec, Val, WriteSpec } from './step.js';

const PAGE = 4096;

/** Numbers below this, used as pointers, land in or next to the memory a layout gives a domain (its data area, shared_info, grant frames). */
const LOW_POINTERS = 1n << 20n;

/** Bytes past a place a call may reach (fuzz/external.ts reads the same margin). */
const PLACE_TAIL = 512;

/** Where shared_info's own fields end (x86: vcpu_info, event bitmaps, wallclock, arch part): foreign structs go after. */
const SHARED_FIELDS_END = 0xc40;

/** Steps after something new or rare succeeded during which the calls mostly work on what it named. */
export const FOCUS_STEPS = 6;

/** A domain of the fuzzed machine, as the generator sees it. */
export interface GenDomain {
  id: number;
  abi: string;
  arch: Arch;
  bits: number;
  memoryPages: number;
  vcpus: number;
  privileged: boolean;
  maxEvtchnPort: number;
  /** HVM, PVH and Arm guests: frames in calls are guest frames. */
  translated: boolean;
  plans: OpPlan[];
  codecs: XenCodecs;
}

/** Pages 0..PAYLOAD-1 of a data area are what calls name as frames; the rest is scratch for arguments. */
export function payloadPages(d: { memoryPages: number }): number {
  return Math.max(1, d.memoryPages >> 1);
}

/** A page calls name as a frame: 1 .. payload-1 (page 0 is where NULL and small pointers land, like a kernel's zero page). */
export function payloadPage(rng: Rng, d: { memoryPages: number }): number {
  return 1 + rng.below(payloadPages(d) - 1);
}

/** What a sequence has learnt so far. */
export class SeqState {
  /** resource → domain → values produced there or named by calls that succeeded (kept after they are freed: stale handles). */
  readonly pools = new Map<string, Map<number, Val[]>>();
  private readonly keys = new Map<string, Set<string>>();
  /** granter → grant references it has written entries for. */
  readonly offered = new Map<number, number[]>();
  /** Domains whose grant table frames the model shows mapped (so the guest can write entries). */
  readonly grantReady = new Set<number>();
  steps = 0;
  /** The last call, for repetitions. */
  prev: CallStep | undefined;
  /** A run of calls of one operation from one domain. */
  burst: { plan: OpPlan; caller: GenDomain; left: number; same?: CallStep } | undefined;
  /** Calls that succeeded, for repetitions later in the sequence. */
  readonly history: CallStep[] = [];
  /** What the last successful call named or produced: later calls that consume it use it. */
  recent: { res: string; dom: number; caller: number; v: Val; produced?: boolean }[] = [];
  /** Steps left during which chaining is likely (after the guest's own write made a handle interesting). */
  focus = 0;
  /** The integer fields of the last successful call, by name. */
  lastFields: ReadonlyMap<string, Val> | undefined;
  /** Per handle (handleKey): the last thing that happened to it (the operation that named it and succeeded, or the guest's write), a coarse picture of its state. */
  readonly lastOn = new Map<string, string>();

  add(resource: string, dom: number, v: Val): void {
    const key = `${resource}/${dom}`;
    const k = typeof v === 'bigint' ? v.toString() : JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
    let ks = this.keys.get(key);
    if (!ks) this.keys.set(key, (ks = new Set()));
    if (ks.has(k)) return;
    ks.add(k);
    let byDom = this.pools.get(resource);
    if (!byDom) this.pools.set(resource, (byDom = new Map()));
    let list = byDom.get(dom);
    if (!list) byDom.set(dom, (list = []));
    list.push(v);
    if (list.length > 48) list.shift();
  }

  pool(resource: string, dom: number): readonly Val[] {
    return this.pools.get(resource)?.get(dom) ?? [];
  }

  /** Updates what generation would have learnt from a step it did not generate now (a replayed prefix). */
  replayed(s: FStep): void {
    this.steps++;
    if (s.kind === 'write' && s.offer) {
      let list = this.offered.get(s.offer.dom);
      if (!list) this.offered.set(s.offer.dom, (list = []));
      if (!list.includes(s.offer.ref)) list.push(s.offer.ref);
      this.add('grant_ref', s.offer.dom, BigInt(s.offer.ref));
    }
    if (s.kind === 'call') {
      this.prev = s;
    }
  }
}

/**
 * A handle's identity across the forms it takes: a port, vCPU or grant handle by resource,
 * domain and value; a frame by the domain and page it is, whether named as a frame number,
 * inside a page-table entry or as the address of one of its entries. Undefined for domain ids
 * (every call names one) and values that are not handles (addresses of the caller's buffers).
 */
export function handleKey(res: string, dom: number, v: Val): string | undefined {
  if (res === 'domid') return undefined;
  if (typeof v === 'bigint') return `${res}/${dom}/${v}`;
  if ('frame' in v) return `frame/${v.frame.dom}/${v.frame.page}`;
  return undefined;
}

/** Coverage the generator steers by (what the oracle has seen so far). */
export interface Steering {
  /** Calls made per operation id. */
  calls: Map<string, number>;
  /** Declared errors seen per operation id. */
  errorsSeen: Map<string, Set<string>>;
  /** Changes whenever the weights steering gives would (absent: weights computed once per sequence). */
  version?: number;
}

interface Ctx {
  caller: GenDomain;
  plan: OpPlan;
  /** The domain handles of the current struct level name (its first domid field). */
  scope: GenDomain;
  writes: WriteSpec[];
  reads: ReadSpec[];
  outputs: Output[];
  /** Bump allocator over the caller's scratch pages (offsets in the data area). */
  next: number;
  depth: number;
  used: { res: string; dom: number; v: Val }[];
  rawPtrs: bigint[];
  /** Values to prefer by resource (what the last successful call named or produced). */
  prefer?: Map<string, Val[]>;
  /** A count says more elements than were generated: Xen reads (and writes back) past them. */
  lie?: boolean;
  /** The integer values generated, by field name (the last part of their path). */
  fields: Map<string, Val>;
}

const EDGES: readonly bigint[] = [0n, 1n, 2n, 3n, 4n, 7n, 8n, 15n, 16n, 31n, 32n, 63n, 64n, 127n, 128n, 255n, 256n, 511n, 512n, 1023n, 1024n, 4095n, 4096n, 0x7fffn, 0x8000n, 0xffffn, 0x10000n, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n, 0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0xffff_ffff_ffff_ffffn];

/** Edge values of a width: every listed edge below 2^bits, and the width's own extremes. */
function edgesOf(bits: number): bigint[] {
  const max = (1n << BigInt(bits)) - 1n;
  const out = EDGES.filter((e) => e <= max);
  out.push(max, max - 1n, 1n << BigInt(bits - 1), (1n << BigInt(bits - 1)) - 1n);
  return out;
}
const EDGE_CACHE = new Map<number, bigint[]>();
function edges(bits: number): bigint[] {
  let e = EDGE_CACHE.get(bits);
  if (!e) EDGE_CACHE.set(bits, (e = edgesOf(bits)));
  return e;
}

/** Values a trigger on a path suggests: the limit itself and its neighbours. */
function triggerValues(t: Trigger): bigint[] {
  if (t.kind !== 'value') return [];
  const v = typeof t.value === 'number' ? BigInt(t.value) : t.value.startsWith('-') ? -BigInt(t.value.slice(1)) : BigInt(t.value);
  switch (t.op) {
    case 'eq':
    case 'mask':
      return [v];
    case 'ne':
      return [v, v + 1n];
    default:
      return [v - 1n, v, v + 1n];
  }
}

export class Generator {
  private readonly codecCache = new Map<string, { codec: Codec<unknown>; template: unknown } | null>();
  private readonly groupValues = new Map<string, { kind: string; values: bigint[]; all: bigint; companions: bigint[] }>();
  private readonly domidSelf: bigint;
  private readonly domidFirstReserved: bigint;

  constructor(
    readonly plans: SpecPlans,
    readonly domains: readonly GenDomain[],
    readonly steering?: Steering,
  ) {
    const arch = domains[0]!.arch;
    this.domidSelf = plans.constant('DOMID_SELF', arch) ?? 0x7ff0n;
    this.domidFirstReserved = plans.constant('DOMID_FIRST_RESERVED', arch) ?? 0x7ff0n;
  }

  // ───────────────────────────── steps ─────────────────────────────

  /** The next step of a sequence. */
  step(rng: Rng, st: SeqState): FStep {
    st.steps++;
    const r = rng.u32() / 0x1_0000_0000;
    if (r < 0.05) {
      const offer = this.offerGrant(rng, st);
      if (offer) return offer;
    } else if (r < 0.07) return { kind: 'advance', ns: rng.pick([1n, 1000n, 1_000_000n, 10_000_000n, 100_000_000n, 1_000_000_000n]) };
    else if (r < 0.085 || (r < 0.12 && st.recent.some((x) => x.res === 'evtchn_port'))) {
      const poke = this.pokeSharedInfo(rng, st);
      if (poke) return poke;
    }
    if (st.burst && st.burst.left > 0) {
      st.burst.left--;
      return st.burst.same ?? this.call(rng, st, st.burst.caller, st.burst.plan);
    }
    const prev = st.prev;
    if (prev?.plan && rng.chance(0.1)) {
      // The same call again (a second alloc, a double close), or a run of calls: the same one
      // (until a limit: the 16th port) or fresh calls of its operation.
      if (rng.chance(0.75)) return prev;
      const caller = this.domains.find((d) => d.id === prev.dom);
      if (caller) st.burst = { plan: prev.plan, caller, left: rng.int(2, 16), ...(rng.chance(0.5) ? { same: prev } : {}) };
    }
    // An earlier successful call again (bind the VIRQ again after the reset).
    // Most likely right after a success (what it changed, the repetition sees).
    if (st.history.length > 0 && rng.chance(st.history[st.history.length - 1] === st.prev ? 0.15 : 0.05)) return this.again(rng, st);
    if (st.recent.length > 0 && rng.chance(st.focus-- > 0 ? 0.9 : 0.35)) {
      const chained = this.chain(rng, st);
      if (chained) return chained;
    }
    const caller = rng.pick(this.domains);
    return this.call(rng, st, caller, this.pickPlan(rng, caller, st));
  }

  /**
   * An earlier successful call to repeat: most often one of a domain the last successful call
   * came from or named (what that call changed, the repetition sees), else a recent one.
   */
  private again(rng: Rng, st: SeqState): CallStep {
    const h = st.history;
    if (st.recent.length > 0 && rng.chance(0.7)) {
      const doms = new Set<number>();
      for (const x of st.recent) {
        doms.add(x.caller);
        if (x.res === 'domid' && typeof x.v === 'bigint') doms.add(x.v === this.domidSelf ? x.caller : Number(x.v));
      }
      const last = h[h.length - 1];
      const related = h.filter((c) => c !== last && doms.has(c.dom));
      if (related.length > 0) return rng.pick(related);
    }
    return h[Math.max(0, h.length - 1 - rng.below(6))] as CallStep;
  }

  /** A call that consumes what the last successful call named or produced (status of the port just bound, unmap of the handle just mapped). */
  private chain(rng: Rng, st: SeqState): CallStep | undefined {
    const handles = st.recent.filter((x) => x.res !== 'domid');
    const first = st.recent[0];
    if (!first) return undefined;
    // A handle the call named; sometimes the caller's own domain, which every call of it changes
    // (what the domain's other operations of the same hypercall see next: the reset after the bind).
    const own = handles.length === 0 || rng.chance(0.2);
    // What the call produced (the port just bound, the handle just mapped) most often.
    const made = handles.filter((x) => x.produced === true);
    const r = own ? { res: 'domid', dom: first.caller, caller: first.caller, v: BigInt(first.caller) } : rng.pick(made.length > 0 && rng.chance(0.6) ? made : handles);
    // The same domain goes on, or the handle's owner, or a domain the call named (the remote end answers).
    const named = st.recent.filter((x) => x.res === 'domid' && typeof x.v === 'bigint').map((x) => (x.v === this.domidSelf ? x.caller : Number(x.v)));
    const x = rng.u32() / 0x1_0000_0000;
    const id = own || x < 0.7 || named.length === 0 ? (x < 0.15 ? r.dom : r.caller) : rng.pick(named);
    const caller = this.domains.find((d) => d.id === id);
    if (!caller) return undefined;
    const plans = this.consumers(caller, r.res);
    if (plans.length === 0) return undefined;
    const prefer = new Map<string, Val[]>();
    for (const x of st.recent) prefer.set(x.res, [...(prefer.get(x.res) ?? []), x.v]);
    if (own) prefer.set('domid', [this.domidSelf, r.v]);
    // The operations of the same hypercall come first (vCPU up after initialise, send after bind),
    // and of those the ones tried least often on a handle in this state (what happened to it last):
    // the transitions of its state not explored yet (vCPU 1 down after up).
    const last = st.prev?.plan?.hypercall;
    const hk = handleKey(r.res, r.dom, r.v);
    const state = `${caller.id}<${(hk && st.lastOn.get(hk)) ?? '-'}${typeof r.v === 'bigint' && r.v < 2n ? `,${r.res}=${r.v}` : ''}`;
    let tried = this.tried.get(state);
    if (!tried) this.tried.set(state, (tried = new Map()));
    const w = this.chainScratch.length >= plans.length ? this.chainScratch : (this.chainScratch = new Float64Array(plans.length * 2));
    for (let k = 0; k < plans.length; k++) {
      const p = plans[k] as OpPlan;
      w[k] = (p.hypercall === last ? 10 : 1) * (0.1 + 1 / Math.sqrt(1 + (tried.get(p.id) ?? 0)));
    }
    const i = rng.weighted(w.subarray(0, plans.length));
    const plan = plans[i < 0 ? 0 : i] as OpPlan;
    tried.set(plan.id, (tried.get(plan.id) ?? 0) + 1);
    return this.call(rng, st, caller, plan, 0, undefined, prefer);
  }

  /** Per handle state (caller, what happened to the handle last, a small handle's value): how often chaining tried each operation. */
  private readonly tried = new Map<string, Map<string, number>>();
  private chainScratch = new Float64Array(64);

  /** A domain's implemented operations that consume a resource. */
  private consumers(d: GenDomain, res: string): OpPlan[] {
    const key = `${d.id}/${res}`;
    let list = this.consumerCache.get(key);
    if (!list) this.consumerCache.set(key, (list = d.plans.filter((p) => p.implemented && [...p.consumes.values()].includes(res))));
    return list;
  }

  private readonly consumerCache = new Map<string, OpPlan[]>();

  /** Steering weights per domain, computed again when coverage moved (or each sequence, without a version). */
  private weights = new Map<number, { version: number | SeqState; base: Float64Array }>();

  private pickPlan(rng: Rng, d: GenDomain, st: SeqState): OpPlan {
    const s = this.steering;
    const version = s?.version ?? st;
    let cached = this.weights.get(d.id);
    if (!cached || cached.version !== version) {
      const base = Float64Array.from(d.plans, (p) => {
        let x = p.implemented ? 1 : 0.03;
        if (s) {
          const calls = s.calls.get(p.id) ?? 0;
          const seen = s.errorsSeen.get(p.id)?.size ?? 0;
          const unseen = p.errors.length - seen;
          x *= (calls === 0 ? 4 : 1) * (1 + (2 * unseen) / Math.max(1, p.errors.length)) * (calls < 1000 ? 1.5 : 1);
        }
        return x;
      });
      this.weights.set(d.id, (cached = { version, base }));
    }
    const base = cached.base;
    // Producers of what the sequence lacks come first.
    const pr = this.producers(d);
    const empty = this.emptyScratch;
    for (let k = 0; k < pr.resources.length; k++) empty[k] = st.pool(pr.resources[k] as string, d.id).length === 0 ? 1 : 0;
    let w = this.weightScratch.get(d.id);
    if (!w) this.weightScratch.set(d.id, (w = new Float64Array(base.length)));
    w.set(base);
    for (let i = 0; i < pr.byPlan.length; i++) {
      for (const k of pr.byPlan[i] as number[]) if (empty[k] === 1) w[i]! *= 1.5;
    }
    const i = rng.weighted(w);
    return d.plans[i < 0 ? 0 : i] as OpPlan;
  }

  /** Per domain: the resources its operations produce, and each plan's as indices into that list. */
  private readonly producerCache = new Map<number, { resources: string[]; byPlan: number[][] }>();
  private readonly weightScratch = new Map<number, Float64Array>();
  private emptyScratch = new Uint8Array(64);

  private producers(d: GenDomain): { resources: string[]; byPlan: number[][] } {
    let pr = this.producerCache.get(d.id);
    if (!pr) {
      const resources: string[] = [];
      const byPlan = d.plans.map((p) => [...p.produces.values()].map((res) => {
        let k = resources.indexOf(res);
        if (k < 0) k = resources.push(res) - 1;
        return k;
      }));
      pr = { resources, byPlan };
      this.producerCache.set(d.id, pr);
      if (resources.length > this.emptyScratch.length) this.emptyScratch = new Uint8Array(resources.length);
    }
    return pr;
  }

  /** A whole call of `plan` from `caller`. */
  call(rng: Rng, st: SeqState, caller: GenDomain, plan: OpPlan, depth = 0, next?: number, prefer?: Map<string, Val[]>): CallStep {
    const ctx: Ctx = { caller, plan, scope: caller, writes: [], reads: [], outputs: [], next: next ?? payloadPages(caller) * PAGE, depth, used: [], rawPtrs: [], fields: new Map(), ...(prefer ? { prefer } : {}) };
    const values = new Map<string, Val>();
    const lengths = new Map<string, number>();
    // Arrays first, so that their counts can follow them.
    for (const r of plan.regs) {
      if (r.role === 'argument' || r.role === 'pointer') lengths.set(r.name, this.arrayLength(rng, r, plan));
    }
    for (const r of plan.regs) {
      const v = this.reg(rng, st, ctx, r, lengths);
      values.set(r.name, v);
      if ((r.role === 'argument' || r.role === 'pointer') && typeof v === 'bigint') ctx.rawPtrs.push(v);
    }
    const args = plan.regs.map((r) => values.get(r.name) as Val);
    const step: CallStep = {
      kind: 'call', dom: caller.id, vcpu: rng.chance(0.9) ? 0 : rng.below(caller.vcpus), id: plan.id, plan, nr: plan.nr, args, writes: ctx.writes, reads: ctx.reads, outputs: ctx.outputs, used: ctx.used, rawPtrs: ctx.rawPtrs, fields: ctx.fields, ...(ctx.lie ? { overrun: true } : {}),
      // Written out only when a finding's reproducer needs it.
      get doc() {
        return `${plan.id} ${plan.regs.map((r, i) => `${r.name}=${showVal(args[i] as Val)}`).join(' ')}`;
      },
    };
    if (depth === 0) st.prev = step;
    return step;
  }

  private arrayLength(rng: Rng, r: RegSlot, plan: OpPlan): number {
    if (r.role === 'argument' && !plan.arg?.batched) return 1;
    if (r.count === undefined && r.role === 'pointer') return 1 + (rng.chance(0.3) ? rng.below(3) : 0);
    const x = rng.u32() / 0x1_0000_0000;
    return x < 0.05 ? 0 : x < 0.75 ? 1 : x < 0.92 ? 2 + rng.below(2) : 4 + rng.below(5);
  }

  private reg(rng: Rng, st: SeqState, ctx: Ctx, r: RegSlot, lengths: Map<string, number>): Val {
    const plan = ctx.plan;
    switch (r.role) {
      case 'selector': {
        const v = BigInt(plan.op?.value ?? 0);
        if (rng.chance(0.04) && plan.selectorMask !== undefined) {
          const extra = triggerValuesOf(plan.triggers.get(r.name) ?? NO_TRIGGERS).filter((x) => x > plan.selectorMask!);
          const hi = extra.length > 0 && rng.chance(0.7) ? rng.pick(extra) : rng.bits(32) & ~plan.selectorMask;
          return v | (hi & ~plan.selectorMask);
        }
        return v;
      }
      case 'argument': {
        const n = lengths.get(r.name) ?? 1;
        if (!plan.arg) return rng.chance(0.85) ? 0n : this.pointerOnly(rng, ctx, 8);
        return this.pointer(rng, st, ctx, plan.arg.node, n, 'arg', r.dir ?? 'inout', plan.arg.type);
      }
      case 'count': {
        const n = lengths.get(r.countOf ?? '') ?? 1;
        if (rng.chance(0.9)) return BigInt(n);
        const lie = rng.pick(edges(r.node?.size ? r.node.size * 8 : 32));
        if (lie > BigInt(n)) ctx.lie = true;
        return lie;
      }
      case 'pointer': {
        const n = lengths.get(r.name) ?? 1;
        const node = r.to ? this.compile(ctx.caller, r.to) : undefined;
        if (!node || (node.k === 'int' && node.size === 1 && node.cname === 'void')) return this.byteBuffer(rng, ctx, r.name, n);
        return this.pointer(rng, st, ctx, node, n, r.name, r.dir ?? 'inout', r.to?.kind === 'name' ? r.to.name : undefined);
      }
      case 'scalar':
        return this.int(rng, st, ctx, r.node as TNode, r.name, r.values);
      case 'lo':
      case 'hi': {
        const key = `${r.whole!.name}#whole`;
        let whole = (lengths as unknown as Map<string, Val>).get(key) as Val | undefined;
        if (whole === undefined) {
          whole = this.int(rng, st, ctx, { ...(r.wholeNode as TNode), size: 8 }, r.whole!.name, r.whole!.values);
          (lengths as unknown as Map<string, Val>).set(key, whole);
        }
        return half(whole, r.role);
      }
    }
  }

  // ───────────────────────────── integers ─────────────────────────────

  /** An integer for the field at `path` (`values`: its constant group; `dir`: its direction). */
  private int(rng: Rng, st: SeqState, ctx: Ctx, node: TNode, path: string, values?: string, dir?: string): Val {
    const v = this.intValue(rng, st, ctx, node, path, values, dir);
    ctx.fields.set(lastName(path), v);
    return v;
  }

  private intValue(rng: Rng, st: SeqState, ctx: Ctx, node: TNode, path: string, values: string | undefined, dir: string | undefined): Val {
    const bits = node.size * 8;
    if (node.k === 'ptr') return this.pointerOnly(rng, ctx, 8);
    if (dir === 'out' && rng.chance(0.8)) return rng.chance(0.8) ? 0n : rng.bits(bits);
    const plan = ctx.plan;
    const res = plan.consumes.get(path) ?? plan.produces.get(path) ?? (node.cname ? this.plans.resourceByType.get(node.cname) : undefined);
    const x = rng.u32() / 0x1_0000_0000;
    const trig = plan.triggers.get(path);
    if (trig && x < 0.12) {
      const vals = triggerValuesOf(trig);
      if (vals.length > 0) return rng.pick(vals);
    }
    if (res && x < 0.85) return this.resource(rng, st, ctx, res, node);
    // A PV domain's frames are machine frames: a plain number names a frame only on the model's
    // host; the rest of the time, one that no host has.
    if (res !== undefined && machineFrames(ctx, res)) return farFrame(rng, bits, res === 'maddr' ? 12 : 0);
    // A field of the same name as one of the last successful call's takes its value again
    // (the host_addr an unmap names is the one the map was given), most often in a chain.
    if (!res && st.lastFields) {
      const same = st.lastFields.get(lastName(path));
      if (same !== undefined && rng.chance(ctx.prefer ? 0.5 : 0.15)) return same;
    }
    if (values && x < 0.85) {
      const g = this.groupOf(values);
      if (g && g.values.length > 0) return this.fromGroup(rng, g, bits);
    }
    // Small numbers most often (counts, indexes, sizes), then the width's edge values, then anything.
    const y = rng.u32() / 0x1_0000_0000;
    if (y < 0.4) return BigInt(rng.below(17));
    if (y < 0.88) return rng.pick(edges(bits));
    return rng.bits(bits);
  }

  private groupOf(name: string) {
    let g = this.groupValues.get(name);
    if (g) return g;
    const grp = this.plans.group(name);
    if (!grp) return undefined;
    const arch = this.domains[0]!.arch;
    const values = grp.members.flatMap((m) => {
      const v = this.plans.constant(m.name, arch);
      return v === undefined ? [] : [v];
    });
    // Companion enums: a flags group's kind field (GTF with GTF_type) shares its prefix.
    const companions: bigint[] = [];
    if (grp.kind === 'flags') {
      for (const other of this.plans.spec.constants) {
        if (other.kind !== 'enum' || other === grp || !other.members.every((m) => m.name.startsWith(`${grp.name}_`))) continue;
        for (const m of other.members) {
          const v = this.plans.constant(m.name, arch);
          if (v !== undefined) companions.push(v);
        }
      }
    }
    g = { kind: grp.kind, values, all: values.reduce((a, b) => a | b, 0n), companions };
    this.groupValues.set(name, g);
    return g;
  }

  private fromGroup(rng: Rng, g: { kind: string; values: bigint[]; all: bigint; companions: bigint[] }, bits: number): bigint {
    if (g.kind === 'flags') {
      let v = g.companions.length > 0 ? rng.pick(g.companions) : 0n;
      // One flag alone as often as a combination (valid requests usually name one or two).
      // Members of more than one bit are masks or fields (GNTMAP_guest_avail_mask): rarely set.
      const single = g.values.filter((f) => f > 0n && (f & (f - 1n)) === 0n);
      const flags = single.length > 0 && !rng.chance(0.1) ? single : g.values;
      if (rng.chance(0.45)) v |= rng.pick(flags);
      else for (const f of flags) if (rng.chance(0.25)) v |= f;
      if (rng.chance(0.08)) v |= 1n << BigInt(rng.below(bits)); // a reserved bit, most likely
      return v;
    }
    if (rng.chance(0.9)) return rng.pick(g.values);
    const max = g.values.reduce((a, b) => (b > a ? b : a), 0n);
    return rng.chance(0.5) ? max + 1n : rng.bits(Math.min(bits, 32));
  }

  // ───────────────────────────── resources ─────────────────────────────

  private otherDomain(rng: Rng, d: GenDomain): GenDomain {
    if (this.domains.length === 1) return d;
    let o = rng.pick(this.domains);
    if (o === d) o = rng.pick(this.domains);
    return o;
  }

  private resource(rng: Rng, st: SeqState, ctx: Ctx, res: string, node: TNode): Val {
    const preferred = this.preferred(rng, ctx, res, node);
    const pool = st.pool(res, ctx.scope.id);
    let v = preferred !== undefined && rng.chance(0.85) ? preferred : pool.length > 0 && rng.chance(0.3) ? rng.pick(pool) : this.fresh(rng, st, ctx, res, node);
    // A frame number the model wrote (populate_physmap's MFNs) names another frame on a target with its own machine.
    if (this.ownFrames && typeof v === 'bigint' && machineFrames(ctx, res) && BigInt.asUintN(64, res === 'maddr' ? v >> 12n : v) < FAR_FRAME) v = this.fresh(rng, st, ctx, res, node);
    // A frame handed on as a bare number into a page-table entry (mmu_update's val): its low bits
    // become the entry's flags, which differ with the frame's number on a target with its own
    // machine; there the entry names the frame with flags of its own.
    if (this.ownFrames && res === 'mfn' && node.cname === 'uint64_t' && typeof v === 'object' && 'frame' in v && v.shl === undefined) {
      v = entryNaming(rng, v.frame);
    }
    ctx.used.push({ res, dom: ctx.scope.id, v });
    return v;
  }

  /**
   * The target numbers machine frames its own way (a real machine): frame numbers learnt from
   * the model's answers are not named again as plain numbers (fuzz/external.ts sets it).
   */
  ownFrames = false;

  /**
   * A value the last successful call named, in the form this field takes: frames travel
   * between frame numbers (mfn), page-table entries naming them (a wide mfn) and the
   * addresses of their entries (maddr).
   */
  private preferred(rng: Rng, ctx: Ctx, res: string, node: TNode): Val | undefined {
    const direct = ctx.prefer?.get(res);
    const frames = ['mfn', 'maddr'].includes(res) ? [...(ctx.prefer?.get('mfn') ?? []), ...(ctx.prefer?.get('maddr') ?? [])].filter((v) => typeof v !== 'bigint' && 'frame' in v) : [];
    if (frames.length > 0 && rng.chance(0.7)) {
      const f = rng.pick(frames) as { frame: { dom: number; page: number } };
      if (res === 'maddr') return { frame: f.frame, shl: 12, or: BigInt(rng.below(512) * 8) };
      if (node.cname === 'uint64_t') return entryNaming(rng, f.frame);
      return { frame: f.frame };
    }
    return direct && direct.length > 0 ? rng.pick(direct) : undefined;
  }

  /** A handle of a resource kind by its recipe: from the sequence, special, or invalid. */
  private fresh(rng: Rng, st: SeqState, ctx: Ctx, res: string, node: TNode): Val {
    const bits = node.size * 8;
    const scope = ctx.scope;
    const x = rng.u32() / 0x1_0000_0000;
    switch (res) {
      case 'domid': {
        if (x < 0.25) return BigInt(ctx.caller.id);
        if (x < 0.55) return BigInt(this.otherDomain(rng, ctx.caller).id);
        if (x < 0.78) return this.domidSelf;
        const sp = this.plans.specials.get('domid') ?? [];
        if (x < 0.83 && sp.length > 0) return rng.pick(sp);
        if (x < 0.93) return BigInt(this.domains.length + rng.below(8)) + (rng.chance(0.5) ? 0n : 100n);
        return rng.pick([this.domidFirstReserved - 1n, this.domidFirstReserved + 1n, 0xffffn, 0x7fffn]);
      }
      case 'vcpu_id':
        if (x < 0.7) return BigInt(rng.below(scope.vcpus));
        if (x < 0.8) return BigInt(scope.vcpus);
        return rng.pick(edges(bits));
      case 'evtchn_port': {
        const own = st.pool(res, scope.id);
        if (x < 0.55 && own.length > 0) return rng.pick(own);
        if (x < 0.7) return BigInt(1 + rng.below(8));
        if (x < 0.75) return 0n;
        return rng.pick([BigInt(scope.maxEvtchnPort), BigInt(scope.maxEvtchnPort + 1), 1023n, 1024n, 4095n, 4096n, 0xffff_ffffn, BigInt(rng.below(64))]);
      }
      case 'grant_ref': {
        const refs = st.offered.get(scope.id) ?? [];
        if (x < 0.55 && refs.length > 0) return BigInt(rng.pick(refs));
        if (x < 0.8) return BigInt(rng.below(16));
        return rng.pick([511n, 512n, 513n, 4095n, 32768n, 0xffff_ffffn]);
      }
      case 'gfn':
        return this.gfn(rng, scope, x, bits);
      case 'mfn':
        return this.mfn(rng, ctx, scope, x, bits, node.cname === 'uint64_t');
      case 'maddr': {
        if (x < 0.85) {
          const d = x < 0.7 ? scope : this.otherDomain(rng, scope);
          if (d.translated) return BigInt(payloadPage(rng, d)) * 4096n + BigInt(rng.below(512) * 8);
          const slot = rng.chance(0.5) ? rng.below(512) * 8 : rng.pick([0, 8, 4088, 1, 4095]);
          return { frame: { dom: d.id, page: payloadPage(rng, d) }, shl: 12, or: BigInt(slot) };
        }
        return scope.translated ? rng.pick(edges(bits)) : farFrame(rng, bits, 12);
      }
      case 'linear_address': {
        if (x < 0.6) return BigInt(rng.below(1024)) * 4096n + (rng.chance(0.1) ? BigInt(rng.below(4096)) : 0n);
        return rng.pick([0x7fff_ffff_f000n, 0x8000_0000_0000n, 0xffff_8000_0000_0000n, 0xffff_8800_0000_0000n, 0xffff_ffff_ffff_f000n, 0xf580_0000n, 0xc000_0000n, 0xffff_ffffn, rng.bits(bits)]);
      }
      default: {
        const own = st.pool(res, scope.id);
        if (x < 0.5 && own.length > 0) return rng.pick(own);
        if (x < 0.8) return BigInt(rng.below(8));
        return rng.pick(edges(bits));
      }
    }
  }

  /**
   * A frame number of `d` as calls name them. A translated domain's are its guest frames
   * (plain numbers). A PV domain's are machine frames: its own and another domain's pages and
   * its shared_info page (the page after its data area) as run-time operands the target
   * resolves, else numbers no machine has (far beyond any host's memory).
   */
  private gfn(rng: Rng, d: GenDomain, x: number, bits: number): Val {
    if (x < 0.65) return d.translated ? BigInt(payloadPage(rng, d)) : { frame: { dom: d.id, page: payloadPage(rng, d) } };
    if (!d.translated) {
      if (x < 0.72) {
        const o = this.otherDomain(rng, d);
        return o.translated ? { frame: { dom: d.id, page: payloadPage(rng, d) } } : { frame: { dom: o.id, page: payloadPage(rng, o) } };
      }
      if (x < 0.76) return { frame: { dom: d.id, page: d.memoryPages } };
      return farFrame(rng, bits, 0);
    }
    if (x < 0.72) return BigInt(d.memoryPages);
    if (x < 0.78) return BigInt(d.memoryPages + 1 + rng.below(4));
    if (x < 0.88) return BigInt(d.memoryPages + 64 + rng.below(1 << 16));
    return rng.pick(edges(bits));
  }

  private mfn(rng: Rng, ctx: Ctx, scope: GenDomain, x: number, bits: number, wide: boolean): Val {
    const d = x < 0.75 ? scope : this.otherDomain(rng, scope);
    // Frames a translated caller names are its guest frames.
    if (ctx.caller.translated) return this.gfn(rng, ctx.caller, x / 0.85, bits);
    if (x < 0.85) {
      const page = payloadPage(rng, d);
      if (d.translated) return BigInt(page);
      if (wide && rng.chance(0.8)) {
        // A page-table entry naming the frame: present, maybe writable, user, accessed, dirty, sometimes odd bits.
        let flags = 0x1n | (rng.chance(0.6) ? 0x2n : 0n) | (rng.chance(0.7) ? 0x4n : 0n) | (rng.chance(0.5) ? 0x60n : 0n);
        if (rng.chance(0.1)) flags = rng.bits(12);
        if (rng.chance(0.05)) flags |= 1n << 63n;
        return { frame: { dom: d.id, page }, shl: 12, or: flags };
      }
      return { frame: { dom: d.id, page } };
    }
    // Its shared_info page (Xen's, shared with the guest), or a frame no machine has.
    if (x < 0.88) return wide && rng.chance(0.8) ? { frame: { dom: scope.id, page: scope.memoryPages }, shl: 12, or: 0x25n } : { frame: { dom: scope.id, page: scope.memoryPages } };
    return farFrame(rng, bits, 0);
  }

  // ───────────────────────────── pointers ─────────────────────────────

  /** Reserves `size` bytes of the caller's scratch pages (wrapping at the end). */
  private alloc(ctx: Ctx, size: number, align: number, straddle = false): number {
    const top = ctx.caller.memoryPages * PAGE;
    const base = payloadPages(ctx.caller) * PAGE;
    let a = Math.ceil(ctx.next / Math.max(1, align)) * Math.max(1, align);
    if (straddle) {
      const boundary = Math.ceil((a + 1) / PAGE) * PAGE;
      a = boundary - Math.max(1, Math.min(size - 1, 1 + (size >> 1)));
      if (a < base) a = base + PAGE - 1;
    }
    if (a + size > top) a = base;
    if (a + size > top) a = base;
    ctx.next = a + size;
    return a;
  }

  /** A pointer with nothing behind it worth generating (void arguments of commands without one). */
  private pointerOnly(rng: Rng, ctx: Ctx, size: number): Val {
    const x = rng.u32() / 0x1_0000_0000;
    if (x < 0.5) return { place: { base: 'data', off: this.alloc(ctx, size, 8) } };
    if (x < 0.7) return this.badPlace(rng, ctx.caller);
    return this.rawPointer(rng, ctx.caller);
  }

  /**
   * A pointer given as an edge value of the caller's width. A small one would land in the
   * caller's memory or next to it, which depends on where a target lays it out: it becomes
   * the place it names when that is in the caller's scratch pages (the same address on the
   * reference VMM, whose data area starts at 0), else (64-bit callers) an address nobody maps.
   * NULL and large values stay plain numbers: no layout maps them.
   */
  private rawPointer(rng: Rng, d: GenDomain): Val {
    const v = rng.pick(edges(d.bits));
    if (v === 0n || v >= LOW_POINTERS) return v;
    const n = Number(v);
    if (n >= payloadPages(d) * PAGE && n + PLACE_TAIL <= d.memoryPages * PAGE) return { place: { base: 'data', off: n } };
    return d.bits === 64 ? { place: { base: 'unmapped', off: n & (PAGE - 1) } } : v;
  }

  /**
   * A pointer that cannot be followed: an address nobody maps, just past the caller's memory
   * (32-bit callers), Xen's range or a non-canonical one (64-bit callers: numbers no layout maps).
   */
  private badPlace(rng: Rng, d: GenDomain): Val {
    const x = rng.u32() / 0x1_0000_0000;
    if (d.bits === 64) {
      if (x < 0.6) return { place: { base: 'unmapped', off: rng.chance(0.7) ? rng.below(4) * 8 : PAGE - 8 + rng.below(8) } };
      return rng.pick([0xffff_f000n, 0x7fff_ffff_f000n, 0x8000_0000_0000n, 0xffff_8000_0000_0000n, 0x8000_0000_0000_0000n, 0xffff_ffff_ffff_fff8n]);
    }
    if (x < 0.6) return { place: { base: 'shared', off: 0x100000 + rng.below(16) * 8 } };
    return rng.pick([1n, 0xfffn, 0xffff_f000n, 0xffff_fff8n]);
  }

  private byteBuffer(rng: Rng, ctx: Ctx, path: string, n: number): Val {
    const kind = this.pointerKind(rng, ctx, path);
    if (kind === 'null') return 0n;
    if (kind === 'bad') return this.badPlace(rng, ctx.caller);
    const len = Math.max(1, Math.min(n, 2048));
    const off = this.alloc(ctx, len, 1, kind === 'straddle');
    const bytes = new Uint8Array(len);
    for (let i = 0; i < len; i++) bytes[i] = rng.chance(0.8) ? 0x20 + rng.below(95) : rng.below(256);
    const at: Place = { base: 'data', off };
    ctx.writes.push({ dom: ctx.caller.id, at, bytes, patches: [] });
    ctx.reads.push({ dom: ctx.caller.id, at, length: len });
    return { place: at };
  }

  private pointerKind(rng: Rng, ctx: Ctx, path: string): 'valid' | 'null' | 'bad' | 'misaligned' | 'straddle' | 'foreign' {
    const faulty = (ctx.plan.triggers.get(path) ?? []).some((t) => t.kind === 'fault');
    const x = rng.u32() / 0x1_0000_0000;
    const bad = faulty ? 0.1 : 0.03;
    if (x < bad) return 'bad';
    if (x < bad + 0.03) return 'null';
    if (x < bad + 0.06) return 'misaligned';
    if (x < bad + 0.1) return 'straddle';
    if (x < bad + 0.11) return 'foreign';
    return 'valid';
  }

  /**
   * A pointer to `n` elements of `node`, filled with generated values; the elements are read
   * back after the call. `path` names the elements for resources and triggers.
   */
  private pointer(rng: Rng, st: SeqState, ctx: Ctx, node: TNode, n: number, path: string, dir: string, typeName?: string): Val {
    const kind = this.pointerKind(rng, ctx, path);
    if (kind === 'null') return 0n;
    if (kind === 'bad') return this.badPlace(rng, ctx.caller);
    const count = Math.max(0, Math.min(n, 64));
    const size = Math.max(node.size * Math.max(count, 1), 1);
    let at: Place;
    // Foreign memory: a page the caller maps but does not own (Xen's shared_info, or its grant
    // table's first frame once the table is there: before, it is unmapped on Xen and its
    // twin may map it elsewhere); Xen reads what is there.
    const grant = kind === 'foreign' && st.grantReady.has(ctx.caller.id) && rng.chance(0.3);
    if (grant) return { place: { base: 'grant', off: rng.below(8) * 8 } };
    if (kind === 'foreign') {
      // Past shared_info's own fields, and far enough from the page's end that what Xen reads stays in it.
      const room = PAGE - PLACE_TAIL - size;
      at = { base: 'shared', off: room >= SHARED_FIELDS_END ? room - rng.below(2) * 8 : PAGE - Math.min(size, PAGE) - rng.below(2) * 8 };
    }
    else {
      const off = this.alloc(ctx, size + (kind === 'misaligned' ? 8 : 0), Math.max(node.align, 1), kind === 'straddle');
      at = { base: 'data', off: off + (kind === 'misaligned' ? 1 + rng.below(7) : 0) };
    }
    // (Into shared_info, only what fits in its page: what follows it is the grant table's frame.)
    if (kind !== 'foreign' || (size <= 4096 && rng.chance(0.5))) {
      const bytes = new Uint8Array(size);
      if (rng.chance(0.15)) for (let i = 0; i < size; i++) bytes[i] = rng.below(256);
      const w: WriteSpec = { dom: ctx.caller.id, at, bytes, patches: [] };
      const readIdx = ctx.reads.length;
      const read: ReadSpec = { dom: ctx.caller.id, at, length: size };
      ctx.reads.push(read);
      const elemPath = path === 'arg' ? 'arg' : elementPath(path);
      const res = ctx.plan.consumes.get(elemPath) ?? ctx.plan.consumes.get(path) ?? ctx.plan.produces.get(path);
      const produced = ctx.plan.produces.get(path);
      for (let i = 0; i < count; i++) {
        this.fill(rng, st, ctx, node, elemPath, i * node.size, w, read, readIdx, typeName, res, dir, produced);
      }
      ctx.writes.push(w);
    }
    return { place: at };
  }

  /** Generates one element at `off` of a write: an integer, or a struct through its codec. */
  private fill(rng: Rng, st: SeqState, ctx: Ctx, node: TNode, path: string, off: number, w: WriteSpec, read: ReadSpec, readIdx: number, typeName: string | undefined, res: string | undefined, dir: string, produced: string | undefined): void {
    if (node.k === 'int' || node.k === 'ptr') {
      const v = res && rng.chance(0.85) ? this.resource(rng, st, ctx, res, node) : this.int(rng, st, ctx, node, path, undefined, dir);
      putVal(w, off, node.size, v);
      if (produced) ctx.outputs.push({ read: readIdx, off, size: node.size, kind: 'produce', path, resource: produced, owner: ctx.scope.id });
      if (produced === 'mfn' || produced === 'gfn') (read.volatile ??= []).push([off, off + node.size]);
      return;
    }
    if (node.k !== 'struct' && node.k !== 'union') {
      // An array of something: its elements in a row.
      const of = node.of as TNode;
      for (let i = 0; i < (node.length ?? 0); i++) this.fill(rng, st, ctx, of, path, off + i * of.size, w, read, readIdx, undefined, res, dir, produced);
      return;
    }
    if (typeName === 'struct multicall_entry' || typeName === 'multicall_entry_t') {
      this.nestedCall(rng, st, ctx, node, off, w);
      return;
    }
    const enc = typeName ? this.codecFor(ctx.caller, typeName) : undefined;
    const saved = ctx.scope;
    if (enc) {
      const patches: Patch[] = [];
      const value = this.value(rng, st, ctx, node, enc.template, path, off, patches, readIdx);
      const view = new DataView(w.bytes.buffer, w.bytes.byteOffset, w.bytes.byteLength);
      enc.codec.encode(view, off, value);
      for (const p of patches) w.patches.push(p);
    } else {
      const patches: Patch[] = [];
      this.rawStruct(rng, st, ctx, node, path, off, w, patches, readIdx);
      for (const p of patches) w.patches.push(p);
    }
    ctx.scope = saved;
  }

  private codecFor(d: GenDomain, typeName: string): { codec: Codec<unknown>; template: unknown } | undefined {
    const key = `${d.arch.name}:${typeName}`;
    const hit = this.codecCache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const ts = TS_NAMES[typeName];
    const codec = ts ? (d.codecs as unknown as Record<string, Codec<unknown>>)[ts] : undefined;
    const out = codec && codec.size > 0 ? { codec, template: codec.decode(new DataView(new ArrayBuffer(codec.size)), 0) } : undefined;
    this.codecCache.set(key, out ?? null);
    return out;
  }

  /** The domid fields of a struct level, generated first: they scope its other handles. */
  private scopeOf(rng: Rng, st: SeqState, ctx: Ctx, node: TNode, path: string): Map<string, Val> {
    const pre = new Map<string, Val>();
    for (const f of node.fields ?? []) {
      if (f.node.k !== 'int') continue;
      const p = childPath(path, f.name);
      const res = ctx.plan.consumes.get(p) ?? (f.node.cname ? this.plans.resourceByType.get(f.node.cname) : undefined);
      if (res !== 'domid') continue;
      let v: Val | undefined;
      if (pre.size === 0 && rng.chance(0.5)) {
        // A domain that has what the struct's other handles need (ports to bind, grants to map).
        const wanted = (node.fields ?? []).map((g) => ctx.plan.consumes.get(childPath(path, g.name))).filter((r): r is string => r !== undefined && r !== 'domid');
        const having = this.domains.filter((d) => wanted.some((r) => st.pool(r, d.id).length > 0));
        if (having.length > 0) {
          const d = rng.pick(having);
          v = BigInt(d.id);
          ctx.used.push({ res: 'domid', dom: ctx.scope.id, v });
        }
      }
      v ??= this.int(rng, st, ctx, f.node, p, undefined, f.dir);
      pre.set(f.name, v);
      if (ctx.scope === ctx.caller && typeof v === 'bigint') {
        const d = v === this.domidSelf ? ctx.caller : this.domains.find((x) => BigInt(x.id) === v);
        if (d) ctx.scope = d;
      }
    }
    return pre;
  }

  /** A JS value for a codec, shaped like its template, following the spec's fields. */
  private value(rng: Rng, st: SeqState, ctx: Ctx, node: TNode, tmpl: unknown, path: string, off: number, patches: Patch[], readIdx: number): unknown {
    if (node.k === 'int' || node.k === 'ptr') return this.leaf(rng, st, ctx, node, tmpl, path, off, patches, readIdx, undefined, undefined);
    if (node.k === 'array') {
      const arr = Array.isArray(tmpl) ? tmpl : [];
      const of = node.of as TNode;
      return arr.map((t, i) => this.value(rng, st, ctx, of, t, elementPath(path), off + i * of.size, patches, readIdx));
    }
    const obj = (tmpl ?? {}) as Record<string, unknown>;
    const fields = node.fields ?? [];
    if (node.k === 'union') {
      const present = fields.filter((f) => f.name in obj);
      if (present.length === 0) return {};
      const f = this.unionMember(rng, ctx.plan, path, present);
      return { [f.name]: this.fieldValue(rng, st, ctx, f, obj[f.name], path, off, patches, readIdx, new Map(), undefined) };
    }
    const pre = this.scopeOf(rng, st, ctx, node, path);
    const lengths = new Map<string, number>();
    for (const f of fields) if (f.node.k === 'ptr' && f.count) lengths.set(f.count, this.fieldArrayLength(rng));
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      if (!(f.name in obj)) continue;
      out[f.name] = this.fieldValue(rng, st, ctx, f, obj[f.name], path, off, patches, readIdx, pre, lengths);
    }
    return out;
  }

  private fieldArrayLength(rng: Rng): number {
    const x = rng.u32() / 0x1_0000_0000;
    return x < 0.1 ? 0 : x < 0.7 ? 1 : x < 0.9 ? 2 + rng.below(3) : 5 + rng.below(12);
  }

  private fieldValue(rng: Rng, st: SeqState, ctx: Ctx, f: FNode, tmpl: unknown, path: string, off: number, patches: Patch[], readIdx: number, pre: Map<string, Val>, lengths: Map<string, number> | undefined): unknown {
    const p = childPath(path, f.name);
    const at = off + f.offset;
    if (f.node.k === 'ptr') {
      const n = f.count ? (lengths?.get(f.count) ?? 1) : 1;
      const pointee = f.node.to ? this.compile(ctx.caller, f.node.to) : undefined;
      let v: Val;
      if (!pointee || pointee.size === 0) v = this.pointerOnly(rng, ctx, 8);
      else v = this.pointer(rng, st, ctx, pointee, n, p, f.dir ?? 'inout', f.node.to?.kind === 'name' ? f.node.to.name : undefined);
      if (typeof v === 'bigint') ctx.rawPtrs.push(v);
      return this.asTemplate(v, tmpl, f.node, at, patches);
    }
    if (f.node.k === 'int') {
      const counted = lengths?.get(f.name);
      if (counted !== undefined) {
        const v = rng.chance(0.88) ? BigInt(counted) : rng.pick(edges(f.node.size * 8));
        if (v > BigInt(counted)) ctx.lie = true;
        return this.asTemplate(v, tmpl, f.node, at, patches);
      }
      const given = pre.get(f.name);
      return this.leaf(rng, st, ctx, f.node, tmpl, p, at, patches, readIdx, given, f);
    }
    const saved = ctx.scope;
    const v = this.value(rng, st, ctx, f.node, tmpl, p, at, patches, readIdx);
    ctx.scope = saved;
    return v;
  }

  private leaf(rng: Rng, st: SeqState, ctx: Ctx, node: TNode, tmpl: unknown, path: string, off: number, patches: Patch[], readIdx: number, given: Val | undefined, f: FNode | undefined): unknown {
    const status = ctx.plan.statusPaths.has(path);
    const made = ctx.plan.produces.get(path);
    if (status || made !== undefined) {
      ctx.outputs.push({ read: readIdx, off, size: node.size, kind: status ? 'status' : 'produce', path, ...(made ? { resource: made } : {}), signed: node.signed === true, owner: ctx.scope.id });
    }
    let v = given ?? (node.k === 'ptr' ? this.pointerOnly(rng, ctx, 8) : this.int(rng, st, ctx, node, path, f?.values, f?.dir));
    // A batched call's elements select their operation (uops[].cmd, the low bits of ureqs[].ptr):
    // the plan's, most often (a batch may mix in others).
    const sel = ctx.plan.elementSelector;
    if (sel && ctx.plan.op && path === sel.path && rng.chance(0.92)) v = withSelector(v, sel.mask, BigInt(ctx.plan.op.value));
    return this.asTemplate(v, tmpl, node, off, patches);
  }

  /** A value in the JS type the codec expects; run-time values become patches over a 0. */
  private asTemplate(v: Val, tmpl: unknown, node: TNode, off: number, patches: Patch[]): unknown {
    let b: bigint;
    if (typeof v === 'bigint') b = v;
    else {
      patches.push({ off, size: node.size as 1 | 2 | 4 | 8, val: v });
      b = 0n;
    }
    const bits = node.size * 8;
    if (typeof tmpl === 'bigint') return BigInt.asUintN(64, b);
    return node.signed ? Number(BigInt.asIntN(bits, b)) : Number(BigInt.asUintN(Math.min(bits, 32), b));
  }

  /** A struct without a codec (an inline or unnamed type): its integer leaves written in place. */
  private rawStruct(rng: Rng, st: SeqState, ctx: Ctx, node: TNode, path: string, off: number, w: WriteSpec, patches: Patch[], readIdx: number): void {
    const fields = node.fields ?? [];
    const list = node.k === 'union' && fields.length > 0 ? [this.unionMember(rng, ctx.plan, path, fields)] : fields;
    const pre = node.k === 'struct' ? this.scopeOf(rng, st, ctx, node, path) : new Map<string, Val>();
    for (const f of list) {
      const p = childPath(path, f.name);
      const at = off + f.offset;
      if (f.node.k === 'int') {
        const v = pre.get(f.name) ?? this.int(rng, st, ctx, f.node, p, f.values);
        putVal(w, at, f.node.size, v);
      } else if (f.node.k === 'ptr') putVal(w, at, f.node.size, this.pointerOnly(rng, ctx, 8));
      else if (f.node.k === 'array') {
        const of = f.node.of as TNode;
        for (let i = 0; i < (f.node.length ?? 0); i++) if (of.k === 'int') putVal(w, at + i * of.size, of.size, this.int(rng, st, ctx, of, elementPath(p)));
      } else this.rawStruct(rng, st, ctx, f.node, p, at, w, patches, readIdx);
    }
  }

  /**
   * The member of the union at `path` to fill: most often one the operation names (the one Xen
   * reads: MMUEXT_COPY_PAGE's arg2.src_mfn), else its pointer (a guest handle's `h`, not its
   * padding), sometimes any member (what Xen makes of another member's value).
   */
  private unionMember(rng: Rng, plan: OpPlan, path: string, members: readonly FNode[]): FNode {
    let byPath = this.unions.get(plan);
    if (!byPath) this.unions.set(plan, (byPath = new Map()));
    let u = byPath.get(path);
    if (!u) {
      const named = members.filter((f) => namesPath(plan, childPath(path, f.name)));
      byPath.set(path, (u = named.length > 0 ? named : members.filter((f) => f.node.k === 'ptr')));
    }
    return u.length > 0 && rng.chance(0.85) ? rng.pick(u) : rng.pick(members);
  }

  private readonly unions = new WeakMap<OpPlan, Map<string, readonly FNode[]>>();

  private readonly compiled = new Map<string, TNode | null>();
  private compile(d: GenDomain, to: import('../spec/model.js').TypeRef): TNode | undefined {
    const key = `${d.arch.name}:${JSON.stringify(to)}`;
    const hit = this.compiled.get(key);
    if (hit !== undefined) return hit ?? undefined;
    let n: TNode | undefined;
    try {
      if (to.kind === 'name' && to.name === 'void') n = { k: 'int', size: 1, align: 1, signed: false, cname: 'void' };
      else n = this.plans.compilers.get(d.arch.name)?.ref(to);
    } catch {
      n = undefined;
    }
    this.compiled.set(key, n ?? null);
    return n;
  }

  // ───────────────────────────── multicall entries ─────────────────────────────

  /** A multicall entry is a hypercall: a nested call of the generator, its registers in `op` and `args`. */
  private nestedCall(rng: Rng, st: SeqState, ctx: Ctx, node: TNode, off: number, w: WriteSpec): void {
    const opF = node.fields?.find((f) => f.name === 'op');
    const argsF = node.fields?.find((f) => f.name === 'args');
    if (!opF || !argsF || ctx.depth > 0) {
      putVal(w, off + (opF?.offset ?? 0), opF?.node.size ?? 8, BigInt(rng.below(64)));
      return;
    }
    const candidates = ctx.caller.plans.filter((p) => p.nestable && p.implemented);
    const plan = rng.chance(0.05) ? ctx.plan : rng.pick(candidates);
    const inner = this.call(rng, st, ctx.caller, plan, ctx.depth + 1, ctx.next);
    ctx.next = Math.max(ctx.next, ...inner.writes.map((x) => (x.at.base === 'data' ? x.at.off + x.bytes.length : 0)));
    putVal(w, off + opF.offset, opF.node.size, BigInt(inner.nr));
    const word = (argsF.node.of as TNode).size;
    inner.args.forEach((a, i) => {
      if (i < (argsF.node.length ?? 0)) putVal(w, off + argsF.offset + i * word, word, a);
    });
    ctx.writes.push(...inner.writes);
    if (inner.overrun) ctx.lie = true;
    ctx.rawPtrs.push(...(inner.rawPtrs ?? []));
    // The nested call's own reads are compared too (they follow the outer struct's).
    ctx.reads.push(...inner.reads);
  }

  // ───────────────────────────── the guest's own writes ─────────────────────────────

  /** A grant entry the guest writes in its own table (v1 layout): it offers a frame to a domain. */
  private offerGrant(rng: Rng, st: SeqState): FStep | undefined {
    const granters = this.domains.filter((d) => st.grantReady.has(d.id));
    if (granters.length === 0 || rng.chance(0.2)) {
      // A guest writes entries once its table is set up: ask for it (GNTTABOP_setup_table, generated as any call).
      const d = rng.pick(this.domains.filter((x) => !st.grantReady.has(x.id)).concat(granters));
      const setup = d.plans.find((p) => p.id === 'grant_table_op$GNTTABOP_setup_table');
      return setup ? this.call(rng, st, d, setup, 0, undefined, new Map([['domid', [this.domidSelf, BigInt(d.id)]]])) : undefined;
    }
    const d = rng.pick(granters);
    const enc = this.codecFor(d, 'struct grant_entry_v1');
    const node = this.plans.compilers.get(d.arch.name)?.named('struct grant_entry_v1');
    if (!enc || !node) return undefined;
    const ref = rng.chance(0.8) ? 8 + rng.below(24) : rng.below(8);
    const grantee = rng.chance(0.8) ? this.otherDomain(rng, d) : d;
    const flagsNode = node.fields?.find((f) => f.name === 'flags');
    const g = flagsNode?.values ? this.groupOf(flagsNode.values) : undefined;
    let flags = g ? this.fromGroup(rng, g, 16) : 1n;
    if (rng.chance(0.85)) flags = (flags & ~3n) | 1n; // permit_access, mostly
    // GTF_reading and GTF_writing are Xen's to write (the spec says so of each): a granter leaves them clear.
    for (const name of ['GTF_reading', 'GTF_writing']) flags &= ~(this.plans.constant(name, d.arch) ?? 0n);
    const page = payloadPage(rng, d);
    const frame: Val = d.translated ? BigInt(page) : { frame: { dom: d.id, page } };
    const bytes = new Uint8Array(enc.codec.size);
    const patches: Patch[] = [];
    const frameOff = node.fields?.find((f) => f.name === 'frame')?.offset ?? 4;
    enc.codec.encode(new DataView(bytes.buffer), 0, { flags: Number(flags & 0xffffn), domid: rng.chance(0.9) ? grantee.id : rng.below(0x10000), frame: typeof frame === 'bigint' ? Number(frame) : 0 });
    if (typeof frame !== 'bigint') patches.push({ off: frameOff, size: 4, val: frame });
    let list = st.offered.get(d.id);
    if (!list) st.offered.set(d.id, (list = []));
    if (!list.includes(ref)) list.push(ref);
    st.add('grant_ref', d.id, BigInt(ref));
    // The grantee is the one to use it next (map, copy).
    st.recent = [
      { res: 'grant_ref', dom: d.id, caller: grantee.id, v: BigInt(ref) },
      { res: 'domid', dom: grantee.id, caller: grantee.id, v: BigInt(d.id) },
    ];
    st.focus = 3;
    return { kind: 'write', w: { dom: d.id, at: { base: 'grant', off: ref * enc.codec.size }, bytes, patches }, offer: { dom: d.id, ref }, doc: `domain ${d.id} offers grant ${ref} to domain ${grantee.id} (flags 0x${flags.toString(16)}, page ${page})` };
  }

  /** The guest sets (mostly) or clears the bit of a port in its shared_info's `field` (at `base`). */
  private portBit(rng: Rng, st: SeqState, d: GenDomain, field: string, base: number, port: bigint): FStep {
    const set = rng.chance(0.8);
    st.recent = [{ res: 'evtchn_port', dom: d.id, caller: d.id, v: port }];
    st.focus = 3;
    return {
      kind: 'write',
      w: { dom: d.id, at: { base: 'shared', off: base + Number(port >> 3n) }, bytes: Uint8Array.of(set ? 1 << Number(port & 7n) : 0), patches: [] },
      touch: { res: 'evtchn_port', dom: d.id, v: port, what: `${set ? 'set' : 'clear'}-${field}` },
      doc: `domain ${d.id} ${set ? 'sets' : 'clears'} port ${port} in its ${field}`,
    };
  }

  /** The guest flips event bits in its shared_info (mask or clear pending). */
  private pokeSharedInfo(rng: Rng, st: SeqState): FStep | undefined {
    // Most often about a port the last call named (the guest masks the port it just bound).
    const near = st.recent.filter((x) => x.res === 'evtchn_port' && typeof x.v === 'bigint');
    if (near.length > 0 && rng.chance(0.6)) {
      const r = rng.pick(near);
      const d = this.domains.find((x) => x.id === r.dom);
      const field = rng.chance(0.6) ? 'evtchn_mask' : 'evtchn_pending';
      const at = d ? this.plans.compilers.get(d.arch.name)?.engine.named('struct shared_info').fields[field] : undefined;
      if (d && at && (r.v as bigint) < BigInt(at.size * 8)) return this.portBit(rng, st, d, field, at.offset, r.v as bigint);
    }
    const d = rng.pick(this.domains);
    const lay = this.plans.compilers.get(d.arch.name)?.engine.named('struct shared_info');
    const field = rng.chance(0.6) ? 'evtchn_mask' : 'evtchn_pending';
    const at = lay?.fields[field];
    if (!at) return undefined;
    const vi = lay?.fields['vcpu_info'];
    const eng = this.plans.compilers.get(d.arch.name)?.engine;
    if (vi && eng && rng.chance(0.3)) {
      // The guest's upcall handler: it clears evtchn_upcall_pending and the selector word of a vCPU's vcpu_info.
      const info = eng.named('struct vcpu_info');
      const up = info.fields['evtchn_upcall_pending'];
      const sel = info.fields['evtchn_pending_sel'];
      if (up && sel) {
        const v = rng.below(d.vcpus);
        const base = vi.offset + v * info.size;
        const bytes = new Uint8Array(sel.offset + sel.size - up.offset);
        return { kind: 'write', w: { dom: d.id, at: { base: 'shared', off: base + up.offset }, bytes, patches: [] }, doc: `domain ${d.id} handles its upcall on vCPU ${v} (clears evtchn_upcall_pending and the selector)` };
      }
    }
    const ports = st.pool('evtchn_port', d.id).filter((v): v is bigint => typeof v === 'bigint' && v < BigInt(at.size * 8));
    if (ports.length > 0 && rng.chance(0.7)) {
      // The guest sets (or clears) the bit of one of its ports, as its event code does; the port's operations may follow.
      const port = rng.pick(ports);
      return this.portBit(rng, st, d, field, at.offset, port);
    }
    const word = d.bits / 8;
    const bytes = new Uint8Array(word);
    for (let i = 0; i < word; i++) bytes[i] = rng.chance(0.5) ? 0 : rng.below(256);
    return { kind: 'write', w: { dom: d.id, at: { base: 'shared', off: at.offset + rng.below(2) * word }, bytes, patches: [] }, doc: `domain ${d.id} writes its ${field} word` };
  }
}

/** A page-table entry naming a frame: present, user, accessed and dirty, writable half of the time. */
function entryNaming(rng: Rng, frame: { dom: number; page: number }): Val {
  return { frame, shl: 12, or: 0x1n | (rng.chance(0.5) ? 0x2n : 0n) | 0x4n | 0x60n };
}

/** Whether an operation names the field at `path` or something inside it (a resource it consumes or produces, a trigger, a status). */
export function namesPath(plan: OpPlan, path: string): boolean {
  const inside = (k: string) => k === path || (k.startsWith(path) && (k[path.length] === '.' || k[path.length] === '['));
  for (const m of [plan.consumes, plan.produces, plan.triggers]) for (const k of m.keys()) if (inside(k)) return true;
  for (const k of plan.statusPaths) if (inside(k)) return true;
  return false;
}

/** Whether values of `res` in this call are machine frames (or addresses): a PV caller's frames and machine addresses, a PV domain's gfns. */
function machineFrames(ctx: Ctx, res: string): boolean {
  if (res === 'gfn') return !ctx.scope.translated;
  return (res === 'mfn' || res === 'maddr') && !ctx.caller.translated;
}

/**
 * Frame numbers past any machine's memory: at least 2^40 frames (a 52-bit physical address
 * space) once shifted right by `shift` (12 for a machine address). Every implementation finds
 * no frame there, whatever its layout (fuzz/external.ts compares such numbers on a target with
 * its own machine). A field too narrow to hold one gets the edge values of its width.
 */
const FAR_FRAME = 1n << 40n;
function farFrame(rng: Rng, bits: number, shift: number): bigint {
  const top = bits - shift;
  if (top <= 40) return rng.pick(edges(bits));
  const max = (1n << BigInt(bits)) - 1n;
  switch (rng.below(6)) {
    case 0:
      return FAR_FRAME << BigInt(shift);
    case 1:
      return (FAR_FRAME + BigInt(rng.below(1 << 16))) << BigInt(shift);
    case 2:
      return (1n << BigInt(40 + rng.below(top - 40))) << BigInt(shift);
    case 3:
      return max;
    case 4:
      return max >> 1n;
    default:
      return (FAR_FRAME << BigInt(shift)) | rng.bits(bits);
  }
}

function half(v: Val, which: 'lo' | 'hi'): Val {
  if (typeof v === 'bigint') return which === 'lo' ? v & 0xffff_ffffn : (v >> 32n) & 0xffff_ffffn;
  if ('place' in v) return which === 'lo' ? v : 0n;
  if (which === 'hi') return ((v.or ?? 0n) >> 32n) & 0xffff_ffffn;
  return { frame: v.frame, ...(v.shl ? { shl: v.shl } : {}), or: (v.or ?? 0n) & 0xffff_ffffn };
}

// Field paths (`arg.map.dom`, `frame_list[]`) are built once and reused: the same string object
// each time keeps its hash, so the plan's lookups by path stay cheap in the hot loop.
const childPaths = new Map<string, Map<string, string>>();
function childPath(path: string, name: string): string {
  let m = childPaths.get(path);
  if (!m) childPaths.set(path, (m = new Map()));
  let p = m.get(name);
  if (p === undefined) m.set(name, (p = `${path}.${name}`));
  return p;
}
const elementPaths = new Map<string, string>();
function elementPath(path: string): string {
  let p = elementPaths.get(path);
  if (p === undefined) elementPaths.set(path, (p = `${path}[]`));
  return p;
}
const lastNames = new Map<string, string>();
/** The last component of a path: the field's own name. */
function lastName(path: string): string {
  let n = lastNames.get(path);
  if (n === undefined) {
    const dot = path.lastIndexOf('.');
    lastNames.set(path, (n = dot < 0 ? path : path.slice(dot + 1)));
  }
  return n;
}
const NO_TRIGGERS: readonly Trigger[] = [];
const triggerLists = new WeakMap<readonly Trigger[], bigint[]>();
function triggerValuesOf(trig: readonly Trigger[]): bigint[] {
  let v = triggerLists.get(trig);
  if (!v) triggerLists.set(trig, (v = trig.flatMap(triggerValues)));
  return v;
}

/** `v` with the bits of `mask` replaced by `cmd` (a frame's entry address keeps its frame). */
function withSelector(v: Val, mask: bigint, cmd: bigint): Val {
  if (typeof v === 'bigint') return (v & ~mask) | (cmd & mask);
  if ('frame' in v) return { ...v, or: ((v.or ?? 0n) & ~mask) | (cmd & mask) };
  return v;
}

function putVal(w: WriteSpec, off: number, size: number, v: Val): void {
  if (off + size > w.bytes.length) return;
  if (typeof v === 'bigint') {
    let x = BigInt.asUintN(size * 8, v);
    for (let i = 0; i < size; i++) {
      w.bytes[off + i] = Number(x & 0xffn);
      x >>= 8n;
    }
    return;
  }
  w.patches.push({ off, size: size as 1 | 2 | 4 | 8, val: v });
}

export function showVal(v: Val): string {
  if (typeof v === 'bigint') return v < 10n ? String(v) : `0x${v.toString(16)}`;
  if ('place' in v) return `${v.place.base}+0x${v.place.off.toString(16)}`;
  return `frame(${v.frame.dom}:${v.frame.page})${v.shl ? `<<${v.shl}` : ''}${v.or ? `|0x${v.or.toString(16)}` : ''}`;
}

/** The generator's view of the machine's domains. */
export function genDomains(plans: SpecPlans, domains: readonly { id: number; abi: string; memoryPages: number; vcpus: number; privileged: boolean; maxEvtchnPort?: number }[]): GenDomain[] {
  return domains.map((d) => {
    const abi = plans.spec.abis.find((a) => a.name === d.abi);
    const arch = plans.spec.arches.find((a) => a.name === abi?.arch);
    if (!abi || !arch) throw new Error(`fuzz: unknown ABI ${d.abi}`);
    const ports = Number(plans.constant('EVTCHN_2L_NR_CHANNELS', arch) ?? 1024n);
    return {
      id: d.id,
      abi: d.abi,
      arch,
      bits: arch.wordSize * 8,
      memoryPages: d.memoryPages,
      vcpus: d.vcpus,
      privileged: d.privileged,
      maxEvtchnPort: Math.min(d.maxEvtchnPort ?? 1023, ports - 1),
      translated: !d.abi.endsWith('-pv'),
      plans: plans.byAbi.get(d.abi) ?? [],
      codecs: codecsByArch[arch.name as keyof typeof codecsByArch],
    };
  });
}
