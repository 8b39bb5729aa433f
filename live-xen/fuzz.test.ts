/**
 * Fuzzing real Xen: `hyperabi fuzz --target live-xen` compares generated sequences on Xen
 * 4.17 under QEMU with the reference twin, and reports only what the two really disagree on.
 * What they cannot agree on is left out with its reason (fuzz/external.ts, live-xen/
 * exceptions.ts); the pieces that decide it are checked here without QEMU, and a short run on
 * real Xen must find nothing. The live run needs what live.test.ts needs (skipped with the
 * reason on a developer machine without it, a failure under CI).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFiles, SCENARIO_DIR } from '../conformance/suite.js';
import type { MachineKnobs } from '../conformance/target.js';
import { fuzz } from '../fuzz/index.js';
import { ExternalFuzzer, elementOps, nestedCalls, plainResources } from '../fuzz/external.js';
import { Generator, genDomains, SeqState } from '../fuzz/gen.js';
import { Rng } from '../fuzz/rng.js';
import type { BatchTarget } from '../conformance/target.js';
import { clearOfReadOnly, machineFor, PAIR_MACHINE } from '../fuzz/machine.js';
import { SpecPlans } from '../fuzz/plan.js';
import type { CallStep, FStep, Val } from '../fuzz/step.js';
import { gaddr, gfn } from '../reference-vmm/addr.js';
import { constantValue, xenSpec } from '../spec/index.js';
import { scenarioOperations } from '../conformance/protocol/subset.js';
import { KERNEL_LAYOUT } from './build.js';
import { HOST_FACTS, liveFuzzExceptions, MODEL_LIMITS } from './exceptions.js';
import { twoDomainUnsupported } from './domu.js';
import { liveXenAvailable } from './target.js';
import { referenceTwin } from './twin.js';

const C = (n: string): bigint => BigInt(constantValue(xenSpec, n) as number);
const plans = new SpecPlans(xenSpec, ['x86_64-pv']);
const plan = (id: string) => plans.byAbi.get('x86_64-pv')!.find((p) => p.id === id)!;
const at = (off: number): Val => ({ place: { base: 'data', off } });

/** A call step of `id` from dom0 whose argument struct (at data+0xc000) holds these bytes. */
function step(id: string, args: Val[], bytes: Uint8Array, patches: CallStep['writes'][number]['patches'] = []): CallStep {
  const p = plan(id);
  return { kind: 'call', dom: 0, vcpu: 0, id, plan: p, nr: p.nr, args, writes: [{ dom: 0, at: { base: 'data', off: 0xc000 }, bytes, patches }], reads: [], outputs: [], doc: id };
}

const u64s = (...v: bigint[]): Uint8Array => {
  const b = new Uint8Array(8 * v.length);
  v.forEach((x, i) => new DataView(b.buffer).setBigUint64(8 * i, x, true));
  return b;
};

/** An external fuzzer for a target of the live target's shape (its layouts, twin and exceptions), on which nothing runs: its oracle passes and comparisons without QEMU. */
function liveShaped(): ExternalFuzzer {
  const { domains } = machineFor((d) => (d.length === 2 ? twoDomainUnsupported(d, KERNEL_LAYOUT.maxPages) : 'no'), { first: KERNEL_LAYOUT.tableFirst, count: KERNEL_LAYOUT.tablePages });
  const data = 0xffff_ffff_8003_1000n;
  // The live target's shape without QEMU: its layouts, its twin and its exceptions; nothing runs on it here.
  const target: BatchTarget & Record<string, unknown> = {
    kind: 'batch',
    name: 'live-shaped',
    layouts: (ds) => ds.map((d) => ({ id: d.id, dataBase: data, sharedInfo: data - 0x1000n, grantTable: data + 0x10_0000n, grantStatus: data + 0x20_0000n, unmapped: 0xdead_0000_0000n })),
    runAll: () => Promise.resolve([]),
    dispose: () => Promise.resolve(),
    twin: (o?: { zeroPage?: boolean }) => referenceTwin({ zeroPage: o?.zeroPage ?? true, virtualAt: { data, sharedInfo: data - 0x1000n }, hostCpus: 1 }),
    shutdownStops: true,
    eventsMasked: true,
    fuzzExceptions: () => liveFuzzExceptions(xenSpec),
  };
  return new ExternalFuzzer({ spec: xenSpec, plans, domains, seed: 1, target, targetName: 'live-shaped' }, plans, target.layouts(domains));
}

describe('fuzzing the live target: what the harness leaves out, and why', () => {
  it('a machine for a target with read-only data pages keeps its argument pages clear of them', () => {
    const ro = { first: KERNEL_LAYOUT.tableFirst, count: KERNEL_LAYOUT.tablePages };
    const m = clearOfReadOnly(PAIR_MACHINE, ro);
    // The generator puts arguments in the second half of the data area (fuzz/gen.ts payloadPages): after pages 8 to 11.
    for (const d of m) expect(d.memoryPages >> 1).toBeGreaterThanOrEqual(ro.first + ro.count);
    const { domains } = machineFor((d) => (d.length === 2 ? twoDomainUnsupported(d, KERNEL_LAYOUT.maxPages) : 'no'), ro);
    expect(domains.map((d) => [d.id, d.memoryPages, d.vcpus])).toEqual([
      [0, 24, 1],
      [1, 24, 1],
    ]);
  });

  it('frames and addresses passed as plain numbers are found where the spec says they travel, whatever the generator filled', () => {
    // pirq_eoi_gmfn: arg.gmfn is a gfn (a PV guest's frame number).
    expect(plainResources(step('physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v2', [C('PHYSDEVOP_pirq_eoi_gmfn_v2'), at(0xc000)], u64s(5n)), plans)).toEqual([{ res: 'gfn', v: 5n }]);
    // The same field as a frame the target resolves is no plain number.
    expect(plainResources(step('physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v2', [C('PHYSDEVOP_pirq_eoi_gmfn_v2'), at(0xc000)], u64s(0n), [{ off: 0, size: 8, val: { frame: { dom: 0, page: 3 } } }]), plans)).toEqual([]);
    // A cache flush's dev_bus_addr (an error trigger names it) is read even when the generator filled the union's ref.
    const flush = step('grant_table_op$GNTTABOP_cache_flush', [C('GNTTABOP_cache_flush'), at(0xc000), 1n], u64s(5n, 0x1_0000_0001n));
    expect(plainResources(flush, plans)).toEqual([{ res: 'mfn', v: 5n }]);
    // A batched call's element is read by the command it carries: a TLB flush whose element says NEW_BASEPTR of frame 11.
    const ext = step('mmuext_op$MMUEXT_TLB_FLUSH_ALL', [at(0xc000), 1n, 0n, C('DOMID_SELF')], u64s(C('MMUEXT_NEW_BASEPTR'), 11n, 0n));
    expect(elementOps(ext, plans).map((p) => p.id)).toContain('mmuext_op$MMUEXT_NEW_BASEPTR');
    expect(plainResources(ext, plans)).toEqual([{ res: 'mfn', v: 11n }]);
    // update_va_mapping's va is a linear address.
    expect(plainResources(step('update_va_mapping', [0x200n, { frame: { dom: 0, page: 3 }, shl: 12, or: 0x67n }, 0n], new Uint8Array(0)), plans)).toEqual([{ res: 'linear_address', v: 0x200n }]);
  });

  it('a union is read as the member the operation names; a struct in foreign memory the call did not write reads as zeros', () => {
    // MMUEXT_SET_LDT reads arg2 as nr_ents, MMUEXT_TLB_FLUSH_MULTI as the vcpumask pointer (the spec names each).
    const ldt = step('mmuext_op$MMUEXT_SET_LDT', [at(0xc000), 1n, 0n, C('DOMID_SELF')], u64s(C('MMUEXT_SET_LDT'), 0n, 5n));
    expect(plainResources(ldt, plans).filter((u) => u.res === 'pointer')).toEqual([]);
    const multi = step('mmuext_op$MMUEXT_TLB_FLUSH_MULTI', [at(0xc000), 1n, 0n, C('DOMID_SELF')], u64s(C('MMUEXT_TLB_FLUSH_MULTI'), 0n, 5n));
    expect(plainResources(multi, plans)).toContainEqual({ res: 'pointer', v: 5n });
    // An operation that names no member of a union: any of them may be what Xen reads.
    const clear = step('mmuext_op$MMUEXT_CLEAR_PAGE', [at(0xc000), 1n, 0n, C('DOMID_SELF')], u64s(C('MMUEXT_CLEAR_PAGE'), 0n, 5n), [{ off: 8, size: 8, val: { frame: { dom: 0, page: 3 } } }]);
    expect(plainResources(clear, plans)).toEqual([{ res: 'pointer', v: 5n }]);
    // pirq_eoi_gmfn's struct in shared_info's tail, not written: Xen reads frame 0 there, a plain number.
    const p = plan('physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v2');
    const foreign: CallStep = { kind: 'call', dom: 0, vcpu: 0, id: p.id, plan: p, nr: p.nr, args: [C('PHYSDEVOP_pirq_eoi_gmfn_v2'), { place: { base: 'shared', off: 0xdf8 } }], writes: [], reads: [], outputs: [], doc: p.id };
    expect(plainResources(foreign, plans)).toEqual([{ res: 'gfn', v: 0n }]);
  });

  it('the generator names a PV guest’s frames by run-time operands or numbers no machine has, and gives no small raw pointers', () => {
    const { domains } = machineFor((d) => (d.length === 2 ? twoDomainUnsupported(d, KERNEL_LAYOUT.maxPages) : 'no'), { first: KERNEL_LAYOUT.tableFirst, count: KERNEL_LAYOUT.tablePages });
    const doms = genDomains(plans, domains);
    const gen = new Generator(plans, doms);
    const small = (v: bigint) => BigInt.asUintN(64, v) < 1n << 40n;
    // A field that is only a frame (a gmfn): always a page of a domain, or far beyond any host's memory.
    const eoi = plan('physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v2');
    const kinds = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const s = gen.call(new Rng(i), new SeqState(), doms[i % 2]!, eoi);
      for (const u of s.used ?? []) {
        if (u.res !== 'gfn') continue;
        if (typeof u.v === 'bigint') {
          expect(small(u.v), `gmfn 0x${u.v.toString(16)}`).toBe(false);
          kinds.add('far');
        } else if ('frame' in u.v) kinds.add(u.v.frame.page === 24 ? 'shared_info' : u.v.frame.dom === s.dom ? 'own' : 'foreign');
      }
      // (Unless the struct is in foreign memory the call did not write: frame 0 is what Xen reads there, left out.)
      const arg = s.args[1];
      const unwritten = typeof arg === 'object' && 'place' in arg && !s.writes.some((w) => w.at.base === arg.place.base && w.at.off === arg.place.off);
      if (!unwritten) expect(plainResources(s, plans).filter((u) => small(u.v))).toEqual([]);
    }
    expect([...kinds].sort()).toEqual(['far', 'foreign', 'own', 'shared_info']);
    // Over every operation: calls that name frames rarely carry a small plain one (another union member's value, an
    // element whose command is another operation's); pointers given as plain numbers are NULL or far from any layout.
    let named = 0;
    let plain = 0;
    for (const d of doms) {
      for (const p of d.plans) {
        if (!p.implemented) continue;
        const frames = [...p.consumes.values()].some((r) => r === 'mfn' || r === 'gfn' || r === 'maddr');
        for (let i = 0; i < 20; i++) {
          const s = gen.call(new Rng(1000 + i), new SeqState(), d, p);
          for (const v of s.rawPtrs ?? []) expect(v === 0n || v >= 1n << 20n, `${p.id}: raw pointer 0x${v.toString(16)}`).toBe(true);
          if (!frames) continue;
          named++;
          const found = [s, ...nestedCalls(s, plans)].flatMap((c) => plainResources(c, plans)).some((u) => (u.res === 'mfn' || u.res === 'gfn' ? small(u.v) : u.res === 'maddr' && small(u.v >> 12n)));
          if (found) plain++;
        }
      }
    }
    expect(named).toBeGreaterThan(500);
    expect(plain / named).toBeLessThan(0.15);
  });

  it('a batch with an element under a “not run when it succeeds” exception is not run, whatever its later elements return', () => {
    const fz = liveShaped();
    const ext = (elements: Uint8Array, patches: CallStep['writes'][number]['patches']) => step('mmuext_op$MMUEXT_NEW_BASEPTR', [at(0xc000), BigInt(elements.length / 24), 0n, C('DOMID_SELF')], elements, patches);
    const el = (cmd: bigint) => u64s(cmd, 0n, 0n);
    const two = new Uint8Array([...el(C('MMUEXT_NEW_BASEPTR')), ...el(0x13n)]);
    const left = (s: CallStep) => {
      fz.excluded.clear();
      const run = fz.replayModel([s], true);
      return { ran: run?.steps.some((x) => x.kind === 'call') ?? false, why: [...fz.excluded.keys()] };
    };
    // NEW_BASEPTR of dom0's page 9, then a command the oracle rejects: the call fails, but may have switched the base first.
    const r = left(ext(two, [{ off: 8, size: 8, val: { frame: { dom: 0, page: 9 } } }]));
    expect(r.ran).toBe(false);
    expect(r.why).toContainEqual(expect.stringMatching(/^calls of mmuext_op\$MMUEXT_NEW_BASEPTR not run when they succeed/) as string);
    // Alone, and failing (a frame no machine has): it runs, and its error is compared.
    expect(left(ext(el(C('MMUEXT_NEW_BASEPTR')).map((b, i) => (i === 13 ? 1 : b)), [])).ran).toBe(true);
  });

  it('a struct larger than the usual margin, placed in shared_info, reaches past its page: not run', () => {
    const fz = liveShaped();
    const p = plan('vcpu_op$VCPUOP_initialise');
    expect(p.arg!.node.size).toBeGreaterThan(4096);
    const init = (off: number): CallStep => ({ kind: 'call', dom: 1, vcpu: 0, id: p.id, plan: p, nr: p.nr, args: [C('VCPUOP_initialise'), 0n, { place: { base: 'shared', off } }], writes: [], reads: [], outputs: [], doc: p.id });
    fz.excluded.clear();
    const run = fz.replayModel([init(0)], true);
    expect(run?.steps.filter((x) => x.kind === 'call')).toEqual([]);
    expect([...fz.excluded.keys()]).toContainEqual(expect.stringMatching(/^call steps not run: a pointer lands in memory that differs/) as string);
    // A small struct there (xen_version's 16 bytes) stays in the page: it runs.
    const v = plan('xen_version$XENVER_extraversion');
    const small: CallStep = { kind: 'call', dom: 1, vcpu: 0, id: v.id, plan: v, nr: v.nr, args: [C('XENVER_extraversion'), { place: { base: 'shared', off: 0xd00 } }], writes: [], reads: [], outputs: [], doc: v.id };
    expect(fz.replayModel([small], true)?.steps.filter((x) => x.kind === 'call').length).toBe(1);
  });

  it('a frame handed on into a page-table entry names it with flags of its own on a target with its own machine', () => {
    const { domains } = machineFor((d) => (d.length === 2 ? twoDomainUnsupported(d, KERNEL_LAYOUT.maxPages) : 'no'), { first: KERNEL_LAYOUT.tableFirst, count: KERNEL_LAYOUT.tablePages });
    const doms = genDomains(plans, domains);
    const upd = plan('mmu_update$MMU_NORMAL_PT_UPDATE');
    // The last call named dom0's page 8 as a frame number (MMUEXT_NEW_USER_BASEPTR): mmu_update's val may take it again.
    const prefer = new Map<string, Val[]>([['mfn', [{ frame: { dom: 0, page: 8 } }]]]);
    const vals = (own: boolean) => {
      const gen = new Generator(plans, doms);
      gen.ownFrames = own;
      const out: Val[] = [];
      for (let i = 0; i < 400; i++) {
        const s = gen.call(new Rng(i), new SeqState(), doms[0]!, upd, 0, undefined, prefer);
        for (const w of s.writes) for (const p of w.patches) if (p.off % 16 === 8 && typeof p.val === 'object' && 'frame' in p.val) out.push(p.val);
      }
      return out;
    };
    // On the model's own machine the bare frame number is a fine value (the same on both sides); on a real one it is not.
    expect(vals(false).some((v) => typeof v === 'object' && 'frame' in v && v.shl === undefined)).toBe(true);
    const live = vals(true);
    expect(live.length).toBeGreaterThan(20);
    for (const v of live) expect(v).toMatchObject({ shl: 12 });
  });

  it('on a target whose sequences share a machine: a decrease_reservation the oracle leaves short, and a grant mapping left in place, are not run', () => {
    const fz = liveShaped();
    const call = (dom: number, id: string, args: Val[], writes: CallStep['writes']): CallStep => {
      const p = plan(id);
      return { kind: 'call', dom, vcpu: 0, id, plan: p, nr: p.nr, args, writes, reads: [], outputs: [], doc: id };
    };
    const frame = (dom: number, page: number, shl?: number): Val => ({ frame: { dom, page }, ...(shl ? { shl } : {}) });
    const le = (size: number, fields: [number, number, bigint][]): Uint8Array => {
      const b = new Uint8Array(size);
      const v = new DataView(b.buffer);
      for (const [off, n, x] of fields) if (n === 2) v.setUint16(off, Number(x), true); else if (n === 4) v.setUint32(off, Number(x), true); else v.setBigUint64(off, x, true);
      return b;
    };
    const self = C('DOMID_SELF');
    const left = (steps: FStep[]) => {
      fz.excluded.clear();
      const run = fz.replayModel(steps, true);
      return { kept: run?.steps.filter((x) => x.kind === 'call').map((x) => (x as CallStep).id) ?? [], why: [...fz.excluded.keys()] };
    };

    // dom0 gives back its data page 3: the twin keeps it (the kernel's page tables map it), Xen would free it.
    const decrease = call(0, 'memory_op$XENMEM_decrease_reservation', [C('XENMEM_decrease_reservation'), at(0xc000)], [
      { dom: 0, at: { base: 'data', off: 0xc020 }, bytes: new Uint8Array(8), patches: [{ off: 0, size: 8, val: frame(0, 3) }] },
      { dom: 0, at: { base: 'data', off: 0xc000 }, bytes: le(32, [[8, 8, 1n], [24, 2, self]]), patches: [{ off: 0, size: 8, val: at(0xc020) }] },
    ]);
    expect(left([decrease])).toEqual({ kept: [], why: [expect.stringMatching(/^calls of memory_op\$XENMEM_decrease_reservation not run when they do fewer extents than asked/) as string] });

    // dom0 sets up its grant table and offers its page 3 to domain 1, which maps it for a device.
    const setup = call(0, 'grant_table_op$GNTTABOP_setup_table', [C('GNTTABOP_setup_table'), at(0xc000), 1n], [{ dom: 0, at: { base: 'data', off: 0xc000 }, bytes: le(24, [[0, 2, self], [4, 4, 1n]]), patches: [{ off: 16, size: 8, val: at(0xc100) }] }]);
    const offer: FStep = { kind: 'write', w: { dom: 0, at: { base: 'grant', off: 8 * 8 }, bytes: le(8, [[0, 2, C('GTF_permit_access')], [2, 2, 1n]]), patches: [{ off: 4, size: 4, val: frame(0, 3) }] }, offer: { dom: 0, ref: 8 }, doc: 'offer' };
    const map = call(1, 'grant_table_op$GNTTABOP_map_grant_ref', [C('GNTTABOP_map_grant_ref'), at(0xc000), 1n], [{ dom: 1, at: { base: 'data', off: 0xc000 }, bytes: le(32, [[8, 4, C('GNTMAP_device_map')], [12, 4, 8n], [16, 2, 0n]]), patches: [] }]);
    const leaks = left([setup, offer, map]);
    expect(leaks.kept).toEqual(['grant_table_op$GNTTABOP_setup_table']);
    expect(leaks.why).toContainEqual(expect.stringMatching(/^call steps not run: they make a grant mapping the sequence leaves in place/) as string);
    // Unmapped again before the end (handle 0, the frame's bus address): the mapping runs.
    const unmap = call(1, 'grant_table_op$GNTTABOP_unmap_grant_ref', [C('GNTTABOP_unmap_grant_ref'), at(0xc000), 1n], [{ dom: 1, at: { base: 'data', off: 0xc000 }, bytes: new Uint8Array(24), patches: [{ off: 8, size: 8, val: frame(0, 3, 12) }] }]);
    expect(left([setup, offer, map, unmap]).kept).toEqual(['grant_table_op$GNTTABOP_setup_table', 'grant_table_op$GNTTABOP_map_grant_ref', 'grant_table_op$GNTTABOP_unmap_grant_ref']);
  });

  it('a program that stops short is a finding at the first step after the shortfall that gives a result; one that stops at a shutdown the oracle made is none', () => {
    const fz = liveShaped();
    const layouts = fz.o.target.kind === 'batch' ? fz.o.target.layouts(fz.o.domains) : [];
    const clear = (dom: number): FStep => ({ kind: 'write', w: { dom, at: { base: 'data', off: 0xc000 }, bytes: new Uint8Array(16), patches: [] }, doc: 'clear' });
    const version = step('xen_version$XENVER_extraversion', [C('XENVER_extraversion'), at(0xc000)], new Uint8Array(16));
    // dom0 shuts itself down (SCHEDOP_remote_shutdown of domain 0, SHUTDOWN_poweroff), after the guest cleared some memory.
    const off = step('sched_op$SCHEDOP_remote_shutdown', [C('SCHEDOP_remote_shutdown'), at(0xc000)], new Uint8Array(8));
    const judge = (steps: FStep[], kept: (instrs: number) => number) => {
      const run = fz.replayModel(steps, true)!;
      const p = fz.program(run, layouts, 'fuzz')!;
      const n = kept(p.program.instrs.length);
      // What the live target reports for a program it did not finish: the results up to the last one it printed.
      const exec = { results: fz.replayModel(steps, true)!.results.flat().slice(0, n), error: 'the program did not complete on Xen' };
      return { run, p, d: fz.compare(run, p, exec) };
    };
    // Xen stopped with the domain: the writes before the call and the call itself have no results; that is what the oracle says.
    const down = judge([version, clear(0), clear(1), off], () => 0);
    expect(down.run.stops).toBe(true);
    const firstCall = down.p.lows[0]!.instrs.length;
    expect(judge([version, clear(0), clear(1), off], () => firstCall).d).toBeUndefined();
    // Results missing before the writes: a finding at the first step without its results.
    expect(judge([version, clear(0), clear(1), off], () => 0).d).toMatchObject({ kind: 'target-error', step: 0 });
    // Without the shutdown, a program that ends after the writes is a finding at the call after them (the writes give no
    // results, so they are not known to have run): the reproducer keeps that call.
    const d = judge([version, clear(0), clear(1), version], () => firstCall).d;
    expect(d).toMatchObject({ kind: 'target-error', step: 3, op: 'xen_version$XENVER_extraversion' });
  });

  it('an entry a call stores in shared_info with a run-time value (mmu_update of the shared_info page) is cleared by the guest after the call', () => {
    const fz = liveShaped();
    // dom0 writes a page-table entry naming its shared_info frame into its shared_info page, at 0x870 (event bits).
    const pte = (off: bigint, flags: bigint): Val => ({ frame: { dom: 0, page: 24 }, shl: 12, or: off | flags });
    const upd = step('mmu_update$MMU_NORMAL_PT_UPDATE', [at(0xc000), 1n, 0n, C('DOMID_SELF')], new Uint8Array(16), [
      { off: 0, size: 8, val: pte(0x870n, 0n) },
      { off: 8, size: 8, val: pte(0n, 0x67n) },
    ]);
    const run = fz.replayModel([upd], true)!;
    const call = run.results[0]!.find((r) => r.op === 'call');
    expect(call).toEqual({ op: 'call', result: 0n });
    const cleared = run.steps.filter((x): x is Extract<FStep, { kind: 'write' }> => x.kind === 'write' && x.w.at.base === 'shared');
    expect(cleared.map((x) => [x.w.dom, x.w.at.off, x.w.bytes.length])).toEqual([[0, 0x870, 8]]);
    // What the oracle's shared_info holds there at the end: zeros, as on the target.
    const pending = run.end.find((e) => e.dom === 0 && e.at.off <= 0x870 && e.at.off + e.bytes.length > 0x870)!;
    expect([...pending.bytes.subarray(0x870 - pending.at.off, 0x878 - pending.at.off)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    // A plain value stored there is the same on both sides: not cleared.
    const plain = step('mmu_update$MMU_NORMAL_PT_UPDATE', [at(0xc000), 1n, 0n, C('DOMID_SELF')], u64s(0n, 0x5n), [{ off: 0, size: 8, val: pte(0x870n, 0n) }]);
    expect(fz.replayModel([plain], true)!.steps.filter((x) => x.kind === 'write' && x.w.at.base === 'shared')).toEqual([]);
  });

  it('a multicall’s entries are read as the calls they make', () => {
    // One entry: xen_version(XENVER_changeset, data+0xc040).
    const entry = u64s(C('__HYPERVISOR_xen_version'), 0n, C('XENVER_changeset'), 0n, 0n, 0n, 0n, 0n);
    const p = plan('multicall');
    const s: CallStep = { kind: 'call', dom: 0, vcpu: 0, id: 'multicall', plan: p, nr: p.nr, args: [at(0xc000), 1n], writes: [{ dom: 0, at: { base: 'data', off: 0xc000 }, bytes: entry, patches: [{ off: 24, size: 8, val: at(0xc040) }] }], reads: [], outputs: [], doc: 'multicall' };
    const inner = nestedCalls(s, plans);
    expect(inner.map((c) => c.id)).toEqual(['xen_version$XENVER_changeset']);
    expect(inner[0]!.args.slice(0, 2)).toEqual([C('XENVER_changeset'), at(0xc040)]);
  });

  it('the exceptions come from the facts the live tier states: the spec, the derived limits, the live scenarios, the host', () => {
    const ex = liveFuzzExceptions(xenSpec);
    // Not implemented by the reference VMM (the spec says why, or it has no handler).
    expect(ex.get('event_channel_op$EVTCHNOP_expand_array')?.[0]).toMatchObject({ kind: 'skip', why: expect.stringMatching(/FIFO/) as string });
    expect(ex.get('platform_op')?.[0]).toMatchObject({ kind: 'skip', why: expect.stringMatching(/no handler/) as string });
    // conformance/derive's live limits: the path they name, on the oracle.
    expect(ex.get('sched_op$SCHEDOP_block')).toContainEqual(expect.objectContaining({ kind: 'skip', when: 'success' }));
    expect(ex.get('vcpu_op$VCPUOP_down')).toContainEqual(expect.objectContaining({ kind: 'skip', when: 'success' }));
    expect(ex.get('vcpu_op$VCPUOP_get_physid')).toContainEqual(expect.objectContaining({ kind: 'skip', when: -22 }));
    // A hand-written live scenario's limit (Debian's XSA-523 fix of grant copy).
    expect(ex.get('grant_table_op$GNTTABOP_copy')).toContainEqual(expect.objectContaining({ kind: 'value', why: expect.stringMatching(/XSA-523/) as string }));
    // The reference VMM's own limits: a decrease_reservation it does not finish (it keeps pages still mapped).
    expect(ex.get('memory_op$XENMEM_decrease_reservation')).toContainEqual(MODEL_LIMITS['memory_op$XENMEM_decrease_reservation']);
    // Operations the reference implements and nothing names run as they are.
    expect(ex.get('event_channel_op$EVTCHNOP_send')).toBeUndefined();
    for (const [id, e] of ex) for (const x of e) expect(x.why.length, id).toBeGreaterThan(20);
  });

  it('results the live scenarios check only as `ok` are host facts of the fuzzer too (one list for both)', () => {
    const live = loadScenarioFiles(join(SCENARIO_DIR, 'live'));
    const loose = new Set<string>();
    for (const s of live) {
      s.steps.forEach((st, i) => {
        if (!('expect' in st) || (st.expect !== 'ok' && st.expect !== 'anything')) return;
        for (const id of scenarioOperations(xenSpec, { ...s, id: `${s.id}-${i}`, steps: [st] })) loose.add(id);
      });
    }
    expect(loose.size).toBeGreaterThanOrEqual(3);
    for (const id of loose) expect(HOST_FACTS[id]?.kind, id).toBe('value');
  });

  it('the fuzzer’s twin: page 0 unmapped (NULL faults), page tables where the live kernel has its data, the host’s CPU count', async () => {
    const data = 0xffff_ffff_8003_1000n;
    const twin = referenceTwin({ zeroPage: false, virtualAt: { data, sharedInfo: data - 0x1000n }, hostCpus: 1 });
    const knobs: MachineKnobs = {};
    const s = twin.openSync(clearOfReadOnly(PAIR_MACHINE, { first: KERNEL_LAYOUT.tableFirst, count: KERNEL_LAYOUT.tablePages }).map((d) => ({ ...d, vcpus: 1 })), knobs);
    const nr = (n: string) => BigInt(constantValue(xenSpec, `__HYPERVISOR_${n}`) as number);
    // NULL: the struct cannot be read (on the plain reference it would be page 0 of the data area).
    expect(BigInt.asIntN(64, s.vmm.hypercall(0, 0, { rax: nr('event_channel_op'), rdi: C('EVTCHNOP_alloc_unbound'), rsi: 0n }))).toBe(-14n);
    expect(s.vmm.machine.domain(0)!.memory.read(gaddr(0x1000), new Uint8Array(8))).toBe(true);
    // A linear address at 0x1000 has no L1 (as on the live kernel); the data area's address has one.
    const pte = (page: number) => (BigInt(s.vmm.machine.domain(0)!.memory.lookup(gfn(page))!) << 12n) | 0x67n;
    expect(BigInt.asIntN(64, s.vmm.hypercall(0, 0, { rax: nr('update_va_mapping'), rdi: 0x1000n, rsi: pte(3), rdx: 0n }))).toBe(-22n);
    expect(s.vmm.hypercall(0, 0, { rax: nr('update_va_mapping'), rdi: data + 0x3000n, rsi: pte(3), rdx: 0n })).toBe(0n);
    expect(s.vmm.hostCpus).toBe(1);
  });
});

const avail = liveXenAvailable();
const skip = !avail.ok && !process.env['CI'];
const why = skip ? ` (skipped: ${avail.why})` : '';

describe('fuzzing live Xen 4.17 under QEMU', () => {
  it.skipIf(skip)(`64 sequences on real Xen and on the twin: no findings, every call left out counted with its reason${why}`, { timeout: 120_000 }, async () => {
    if (!avail.ok) throw new Error(`the live tier needs its tools under CI: ${avail.why}`);
    const t0 = performance.now();
    const r = await fuzz({ target: 'live-xen', sequences: 64, seed: 3 });
    const ms = performance.now() - t0;
    const show = r.findings.map((f) => `${f.kind} at ${f.op}: ${f.message}\n${f.yaml}`).join('\n');
    expect(r.findings, show).toEqual([]);
    expect(r.stats.sequences).toBe(64);
    expect(r.stats.calls).toBeGreaterThanOrEqual(300);
    expect(r.machine.map((d) => d.id)).toEqual([0, 1]);
    // What was left out is said, with the reasons.
    const excluded = Object.keys(r.excluded ?? {});
    expect(excluded.some((k) => k.startsWith('bytes read back not compared'))).toBe(true);
    expect(excluded.some((k) => k.includes('not run'))).toBe(true);
    console.log(`live fuzz: ${r.stats.sequences} sequences, ${r.stats.calls} calls on Xen in ${(ms / 1000).toFixed(1)} s; ${r.coverage.ops.reached}/${r.coverage.ops.total} operations`);
  });
});
