import { describe, expect, it } from 'vitest';
import { checkSpec } from '../check.js';
import { specs } from '../index.js';
import { pvopsSpec } from './index.js';

const refs = (prefix: string) =>
  [...new Set((pvopsSpec.interfaces ?? []).flatMap((g) => g.members.flatMap((m) => m.implementations.flatMap((i) => (i.calls ?? []).map((c) => c.ref)))))]
    .filter((r) => r.startsWith(`${prefix}:`))
    .sort();

/** A copy of the spec with the first call of a member's implementation replaced. */
function withRef(group: string, member: string, backend: string, ref: string) {
  const doc = structuredClone(pvopsSpec);
  const m = doc.interfaces?.find((g) => g.name === group)?.members.find((x) => x.name === member);
  const impl = m?.implementations.find((i) => i.backend === backend);
  if (!impl?.calls?.[0]) throw new Error(`${group}.${member} has no ${backend} call`);
  impl.calls[0].ref = ref;
  return doc;
}

describe('pvops spec', () => {
  it('has the eight groups of Linux 2.6.32 in paravirt_types.h order', () => {
    expect((pvopsSpec.interfaces ?? []).map((g) => g.name)).toEqual([
      'pv_info', 'pv_init_ops', 'pv_time_ops', 'pv_cpu_ops', 'pv_irq_ops', 'pv_apic_ops', 'pv_mmu_ops', 'pv_lock_ops',
    ]);
  });

  it('every member says how bare hardware implements it', () => {
    const without = (pvopsSpec.interfaces ?? []).flatMap((g) => g.members.filter((m) => !m.implementations.some((i) => i.backend === 'native')).map((m) => `${g.name}.${m.name}`));
    expect(without).toEqual([]);
  });

  it('is clean against the built-in specs: every vmi, xen and lguest reference resolves', () => {
    expect(checkSpec(pvopsSpec, 'pvops', specs)).toEqual([]);
    expect(refs('vmi').length).toBeGreaterThan(30);
    expect(refs('xen').length).toBeGreaterThan(20);
  });

  it('pv_mmu_ops.alloc_pte: a reference to a VMI call that does not exist gives unknown-reference', () => {
    const ds = checkSpec(withRef('pv_mmu_ops', 'alloc_pte', 'vmi', 'vmi:AllocatePageTable'), 'pvops', specs);
    expect(ds.map((d) => d.code)).toEqual(['unknown-reference']);
    expect(ds[0]?.message).toContain("no operation 'AllocatePageTable'");
    expect(ds[0]?.path).toBe('pvops:interfaces/pv_mmu_ops/alloc_pte/vmi#1');
  });

  it('pv_mmu_ops.write_cr3: a reference to a Xen sub-op that does not exist gives unknown-reference', () => {
    const ds = checkSpec(withRef('pv_mmu_ops', 'write_cr3', 'xen', 'xen:mmuext_op$MMUEXT_NEW_BASE'), 'pvops', specs);
    expect(ds.map((d) => d.code)).toEqual(['unknown-reference']);
  });

  it('pv_cpu_ops.clts: a reference to an lguest call or an undeclared backend gives unknown-reference', () => {
    expect(checkSpec(withRef('pv_cpu_ops', 'clts', 'lguest', 'lguest:LHCALL_NOPE'), 'pvops', specs).map((d) => d.code)).toEqual(['unknown-reference']);
    expect(checkSpec(withRef('pv_cpu_ops', 'clts', 'xen', 'kvm:hypercall'), 'pvops', specs).map((d) => d.code)).toEqual(['unknown-reference']);
  });

  it('a backend whose spec is not available is reported once, not per reference', () => {
    const ds = checkSpec(pvopsSpec, 'pvops', {});
    expect(ds.map((d) => d.code)).toEqual(['unknown-reference', 'unknown-reference']);
    expect(ds.map((d) => d.path).sort()).toEqual(['pvops:backends/vmi', 'pvops:backends/xen']);
  });

  it('an implementation naming an undeclared backend gives unknown-backend', () => {
    const doc = structuredClone(pvopsSpec);
    const m = doc.interfaces?.[3]?.members[0];
    m?.implementations.push({ backend: 'kvm', kind: 'nop', doc: 'x' });
    expect(checkSpec(doc, 'pvops', specs).map((d) => d.code)).toEqual(['unknown-backend']);
  });
});
