/**
 * The fuzzer's drop rules (fuzz/engine.ts, docs/fuzz.md "Invariants"): a step after which the
 * model and the target break the reference VMM's invariants only in ways the guest itself may
 * (its grant entries' GTF_reading/GTF_writing bits, written over by a call it pointed at its own
 * grant table) is dropped, counted in `discarded`. The same breakage on the target alone is a
 * finding, and any other invariant both sides break is the model's own error.
 */
import { describe, expect, it } from 'vitest';
import type { VmmFactory } from '../conformance/targets/reference.js';
import type { Mfn } from '../reference-vmm/addr.js';
import { grantTables } from '../reference-vmm/grant/handlers.js';
import { ReferenceVmm } from '../reference-vmm/vmm.js';
import { constantValue, xenSpec } from '../spec/index.js';
import { LocalFuzzer } from './engine.js';
import { PAIR_MACHINE } from './machine.js';
import { SpecPlans } from './plan.js';
import type { CallStep, FStep, Patch, Place, Val } from './step.js';

const C = (n: string): bigint => BigInt(constantValue(xenSpec, n) as number);
const plans = new SpecPlans(xenSpec, ['x86_64-pv']);
const plan = (id: string) => {
  const p = plans.byAbi.get('x86_64-pv')!.find((x) => x.id === id);
  if (!p) throw new Error(`no plan ${id}`);
  return p;
};
const data = (off: number): Place => ({ base: 'data', off });

/** Little-endian bytes of [offset, size, value] fields. */
function le(size: number, fields: [number, number, bigint][]): Uint8Array {
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  for (const [off, n, x] of fields) {
    if (n === 2) v.setUint16(off, Number(x), true);
    else if (n === 4) v.setUint32(off, Number(x), true);
    else v.setBigUint64(off, x, true);
  }
  return b;
}

/** A call of `id` by `dom` (vCPU 0) whose struct at data+0x8000 holds `bytes` (with run-time `patches`). */
function call(dom: number, id: string, args: Val[], bytes: Uint8Array, patches: Patch[] = [], at: Place = data(0x8000)): CallStep {
  const p = plan(id);
  return { kind: 'call', dom, vcpu: 0, id, plan: p, nr: p.nr, args, writes: [{ dom, at, bytes, patches }], reads: [], outputs: [], doc: id };
}

const SELF = C('DOMID_SELF');

/** Domain 0 offers its page 2 to domain 1 as grant 8, which maps it for a device (pinning the entry: GTF_reading, GTF_writing). */
function mapped(): FStep[] {
  const setup = call(0, 'grant_table_op$GNTTABOP_setup_table', [C('GNTTABOP_setup_table'), { place: data(0x8000) }, 1n], le(24, [[0, 2, SELF], [4, 4, 1n]]), [{ off: 16, size: 8, val: { place: data(0x8100) } }]);
  const offer: FStep = {
    kind: 'write',
    w: { dom: 0, at: { base: 'grant', off: 8 * 8 }, bytes: le(8, [[0, 2, C('GTF_permit_access')], [2, 2, 1n]]), patches: [{ off: 4, size: 4, val: { frame: { dom: 0, page: 2 } } }] },
    offer: { dom: 0, ref: 8 },
    doc: 'domain 0 offers grant 8 to domain 1',
  };
  const map = call(1, 'grant_table_op$GNTTABOP_map_grant_ref', [C('GNTTABOP_map_grant_ref'), { place: data(0x8000) }, 1n], le(32, [[8, 4, C('GNTMAP_device_map')], [12, 4, 8n], [16, 2, 0n]]));
  return [setup, offer, map];
}

/** Domain 0 clears its grant table's first frame (MMUEXT_CLEAR_PAGE of it, named by its frame: a PV guest's gfn is its mfn). */
function clearGrantFrame(vmm: ReferenceVmm): CallStep {
  const t = grantTables(vmm).state.tables.get(0)!;
  const mfn = BigInt(t.shared[0]!);
  return call(0, 'mmuext_op$MMUEXT_CLEAR_PAGE', [{ place: data(0x8000) }, 1n, 0n, SELF], le(24, [[0, 4, C('MMUEXT_CLEAR_PAGE')], [8, 8, mfn]]));
}

/** A harmless call: xen_version(XENVER_version). */
const version = (): CallStep => {
  const p = plan('xen_version$XENVER_version');
  return { kind: 'call', dom: 0, vcpu: 0, id: p.id, plan: p, nr: p.nr, args: [C('XENVER_version'), 0n], writes: [], reads: [], outputs: [], doc: p.id };
};

/** Runs steps on a fuzzer (both sides from a fresh machine); returns what each step came to. */
function runAll(fz: LocalFuzzer, steps: FStep[]): ReturnType<LocalFuzzer['runStep']>[] {
  fz.model.reset();
  fz.target.reset();
  return steps.map((s, i) => fz.runStep(s, i, undefined, false));
}

const fuzzer = (factory?: VmmFactory) => new LocalFuzzer({ spec: xenSpec, plans, domains: PAIR_MACHINE, seed: 1, ...(factory ? { factory } : {}) });

/** A target whose grant code forgets to set GTF_reading/GTF_writing on the entries it pins (after each call, the bits are cleared). */
const forgetsPinBits: VmmFactory = (config, options) => {
  const vmm = new ReferenceVmm(config, options);
  const hypercall = vmm.hypercall.bind(vmm);
  vmm.hypercall = (domid, vcpu, regs) => {
    const r = hypercall(domid, vcpu, regs);
    const g = grantTables(vmm).state;
    for (const t of g.tables.values()) {
      for (const [ref, a] of t.active) {
        if (a.pin === 0 || t.shared.length === 0) continue;
        const page = vmm.machine.frames.write(t.shared[0] as Mfn);
        const flags = (page[ref * 8] as number) | ((page[ref * 8 + 1] as number) << 8);
        const cleared = flags & ~Number(C('GTF_reading') | C('GTF_writing'));
        page[ref * 8] = cleared & 0xff;
        page[ref * 8 + 1] = cleared >> 8;
      }
    }
    return r;
  };
  return vmm;
};

describe('fuzz drop rules: what the guest may break itself', () => {
  it('a call that writes over the guest’s own pinned grant entries, on both sides alike, is dropped, not a model error', () => {
    const fz = fuzzer();
    const setup = runAll(fz, mapped());
    expect(setup).toEqual([undefined, undefined, undefined]);
    expect(grantTables(fz.model.vmm).state.tables.get(0)!.active.get(8)?.pin).toBeGreaterThan(0);
    const before = fz.stats.discarded;
    expect(fz.runStep(clearGrantFrame(fz.model.vmm), 3, undefined, false)).toBe('discard');
    expect(fz.stats.discarded).toBe(before + 1);
    // What both broke: only the entry-flag invariants the guest's own writes can break.
    expect(fz.model.vmm.machine.invariants().every((b) => /entry 8 is (write-)?pinned without GTF_(reading|writing)/.test(b))).toBe(true);
  });

  it('the same entry flags lost on the target alone are a finding', () => {
    const fz = fuzzer(forgetsPinBits);
    const r = runAll(fz, [...mapped(), version()]);
    const found = r.find((x) => x !== undefined);
    expect(found).toMatchObject({ kind: 'target-error', op: 'grant_table_op$GNTTABOP_map_grant_ref' });
    expect((found as { message: string }).message).toMatch(/entry 8 is pinned without GTF_reading/);
  });

  it('another invariant broken on both sides is the reference VMM’s own error, not dropped', () => {
    // Both sides count one pin too many on every pinned entry after each call (the reference VMM broken the same way
    // on the model and on the target): an invariant no guest write can break.
    const extraPin = (vmm: ReferenceVmm): ReferenceVmm => {
      const hypercall = vmm.hypercall.bind(vmm);
      vmm.hypercall = (domid, vcpu, regs) => {
        const r = hypercall(domid, vcpu, regs);
        for (const t of grantTables(vmm).state.tables.values()) for (const a of t.active.values()) if (a.pin !== 0) a.pin += 1;
        return r;
      };
      return vmm;
    };
    const fz = fuzzer((config, options) => extraPin(new ReferenceVmm(config, options)));
    extraPin(fz.model.vmm);
    const r = runAll(fz, mapped());
    expect(r[2]).toMatchObject({ kind: 'model-error', op: 'grant_table_op$GNTTABOP_map_grant_ref' });
    expect((r[2] as { message: string }).message).toMatch(/entry 8 has pin/);
  });

  it('a call handed a pointer into the caller’s grant table is dropped when both sides break, and the same call elsewhere is not', () => {
    // Both sides break the pin count at XENVER_extraversion (which writes 16 bytes at its pointer).
    const breaksAtVersion = (vmm: ReferenceVmm): ReferenceVmm => {
      const hypercall = vmm.hypercall.bind(vmm);
      vmm.hypercall = (domid, vcpu, regs) => {
        const r = hypercall(domid, vcpu, regs);
        if (regs.rax === C('__HYPERVISOR_xen_version') && regs.rdi === C('XENVER_extraversion')) for (const t of grantTables(vmm).state.tables.values()) for (const a of t.active.values()) if (a.pin !== 0) a.pin += 1;
        return r;
      };
      return vmm;
    };
    const extraversion = (at: Place): CallStep => {
      const p = plan('xen_version$XENVER_extraversion');
      return { kind: 'call', dom: 0, vcpu: 0, id: p.id, plan: p, nr: p.nr, args: [C('XENVER_extraversion'), { place: at }], writes: [], reads: [], outputs: [], doc: p.id };
    };
    for (const [at, expected] of [
      [{ base: 'grant', off: 32 * 8 }, 'discard'],
      [data(0x8200), { kind: 'model-error' }],
    ] as const) {
      const fz = fuzzer((config, options) => breaksAtVersion(new ReferenceVmm(config, options)));
      breaksAtVersion(fz.model.vmm);
      const r = runAll(fz, [...mapped(), extraversion(at)]);
      expect(r.slice(0, 3)).toEqual([undefined, undefined, undefined]);
      if (expected === 'discard') expect(r[3]).toBe('discard');
      else expect(r[3]).toMatchObject(expected);
    }
  });
});
