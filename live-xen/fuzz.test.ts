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
import { elementOps, nestedCalls, plainResources } from '../fuzz/external.js';
import { clearOfReadOnly, machineFor, PAIR_MACHINE } from '../fuzz/machine.js';
import { SpecPlans } from '../fuzz/plan.js';
import type { CallStep, Val } from '../fuzz/step.js';
import { gaddr, gfn } from '../reference-vmm/addr.js';
import { constantValue, xenSpec } from '../spec/index.js';
import { scenarioOperations } from '../conformance/protocol/subset.js';
import { KERNEL_LAYOUT } from './build.js';
import { HOST_FACTS, liveFuzzExceptions } from './exceptions.js';
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
