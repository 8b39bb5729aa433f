/**
 * The x86 PV MMU of the reference VMM, driven only through hypercall() (the generated guest
 * stubs over an in-process transport) and guest memory: the guest writes its page tables into
 * its own frames, as a PV kernel does before pinning them.
 *
 * Declared errors that cannot happen in the model, and why:
 * - ENOENT / ENOMEM of the PT updates (paged-out or shared frames of a translated owner): the
 *   model has no paging or memory sharing.
 * - EBUSY "entry changed concurrently", EFAULT "L3/L4 entry changed concurrently": one vCPU runs
 *   at a time, so the compare-and-exchange never races.
 * - mmu_update EINVAL "page-table owner has no vCPU 0": every model domain has vCPU 0.
 * - mmuext_op EOPNOTSUPP (HVM caller, non-pin command) on pin/unpin ids: those commands are allowed.
 * Not claimed on further sub-op ids: EFAULT for an unreadable request (its type is never read, so it
 * is no sub-op's; PIN_L1_TABLE and NORMAL_PT_UPDATE carry it), and ENOSYS (unknown command or type).
 */
import { describe, expect, it } from 'vitest';
import { codecsByArch } from '../../generated/xen/codecs.js';
import { XenGuest } from '../../generated/xen/guest.js';
import { constantValue, xenSpec } from '../../spec/index.js';
import { expectError } from '../../test/vmm-errors.js';
import { gaddr, gfn, PAGE_SIZE } from '../addr.js';
import { VmmTransport } from '../transport.js';
import { ReferenceVmm } from '../vmm.js';
import { pvMmu } from './handlers.js';

const C = (n: string): number => constantValue(xenSpec, n) as number;
const SELF = C('DOMID_SELF');
// Hardware PTE bits (x86 architecture, not public Xen ABI).
const P = 0x1n;
const RW = 0x2n;
const US = 0x4n;
const PWT = 0x8n;
const PCD = 0x10n;
const A = 0x20n;
const PSE = 0x80n;
const GUEST_KERNEL = 1n << 52n;

/** gfns of the test guests' page tables and data (gfn 31, the last RAM page, is the transport's scratch). */
const L4 = 1;
const L3 = 2;
const L2 = 3;
const L1 = 4;
const DATA = 5;
const ARGS = 30;

function setup(abi = 'x86_64-pv', preemptEvery?: number) {
  const vmm = new ReferenceVmm({
    domains: [
      { id: 0, abi, memoryPages: 32, privileged: true },
      { id: 1, abi, memoryPages: 32, vcpus: 2 },
      { id: 2, abi, memoryPages: 32 },
      { id: 3, abi: 'x86_64-hvm', memoryPages: 8 },
      { id: 4, abi: 'x86_64-hvm', memoryPages: 8, privileged: true },
    ],
  }, preemptEvery === undefined ? {} : { preemptEvery });
  const d = (id: number) => vmm.machine.domain(id)!;
  const g = (dom: number, vcpu = 0) => new XenGuest(new VmmTransport(vmm, dom, vcpu));
  const mfn = (dom: number, g0: number) => vmm.machine.frameOf(dom, gfn(g0))!;
  const pte = (m: number, flags: bigint) => (BigInt(m) << 12n) | flags;
  const put = (dom: number, g0: number, slot: number, v: bigint) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    d(dom).memory.write(gaddr(g0 * PAGE_SIZE + slot * 8), b);
  };
  const get = (dom: number, g0: number, slot: number): bigint => {
    const b = new Uint8Array(8);
    d(dom).memory.read(gaddr(g0 * PAGE_SIZE + slot * 8), b);
    return new DataView(b.buffer).getBigUint64(0, true);
  };
  /** A 4-level tree of dom mapping va 0 (read-write) and 0x1000 (read-only) to DATA and DATA+1. */
  const tree = (dom: number) => {
    put(dom, L1, 0, pte(mfn(dom, DATA), P | RW));
    put(dom, L1, 1, pte(mfn(dom, DATA + 1), P));
    put(dom, L2, 0, pte(mfn(dom, L1), P | RW));
    put(dom, L3, 0, pte(mfn(dom, L2), P | RW));
    put(dom, L4, 0, pte(mfn(dom, L3), P | RW));
  };
  const ext = (dom: number, ops: { cmd: number; mfn?: number; linear?: bigint; nr?: number; mask?: bigint; src?: number }[], fd = SELF, vcpu = 0) => {
    const tr = new VmmTransport(vmm, dom, vcpu);
    const guest = new XenGuest(tr);
    const size = d(dom).arch.wordSize === 8 ? 24 : 12;
    const at = BigInt(ARGS * PAGE_SIZE);
    ops.forEach((o, i) => {
      const b = new Uint8Array(size);
      const v = new DataView(b.buffer);
      const w = size / 3;
      v.setUint32(0, o.cmd, true);
      const a1 = o.mfn !== undefined ? BigInt(o.mfn) : (o.linear ?? 0n);
      const a2 = o.mask ?? BigInt(o.src ?? o.nr ?? 0);
      if (w === 8) {
        v.setBigUint64(8, a1, true);
        v.setBigUint64(16, a2, true);
      } else {
        v.setUint32(4, Number(a1), true);
        v.setUint32(8, Number(a2), true);
      }
      tr.write(at + BigInt(i * size), b);
    });
    const pdone = at + 4000n;
    tr.write(pdone, new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    const r = guest.mmuext_op(at, ops.length, pdone, fd);
    return { r, done: new DataView(tr.read(pdone, 4).buffer).getUint32(0, true) };
  };
  const mmu = (dom: number, reqs: { ptr: bigint; val: bigint }[], fd = SELF) => {
    const tr = new VmmTransport(vmm, dom);
    const at = BigInt(ARGS * PAGE_SIZE);
    reqs.forEach((q, i) => {
      const b = new Uint8Array(16);
      new DataView(b.buffer).setBigUint64(0, q.ptr, true);
      new DataView(b.buffer).setBigUint64(8, q.val, true);
      tr.write(at + BigInt(i * 16), b);
    });
    const pdone = at + 4000n;
    tr.write(pdone, new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    const r = new XenGuest(tr).mmu_update(at, reqs.length, pdone, fd);
    return { r, done: new DataView(tr.read(pdone, 4).buffer).getUint32(0, true) };
  };
  /** The machine address of entry `slot` of guest frame `g0`, with request type `cmd`. */
  const ptr = (dom: number, g0: number, slot: number, cmd = 0) => BigInt(mfn(dom, g0)) * BigInt(PAGE_SIZE) + BigInt(slot * 8) + BigInt(cmd);
  const fr = vmm.machine.frames;
  const clean = () => {
    expect(vmm.machine.invariants()).toEqual([]);
    expect(vmm.internalErrors).toEqual([]);
  };
  return { vmm, d, g, mfn, pte, put, get, tree, ext, mmu, ptr, fr, clean };
}

const PIN1 = C('MMUEXT_PIN_L1_TABLE');
const PIN2 = C('MMUEXT_PIN_L2_TABLE');
const PIN3 = C('MMUEXT_PIN_L3_TABLE');
const PIN4 = C('MMUEXT_PIN_L4_TABLE');
const UNPIN = C('MMUEXT_UNPIN_TABLE');
const BASEPTR = C('MMUEXT_NEW_BASEPTR');
const NORMAL = C('MMU_NORMAL_PT_UPDATE');
const MACHPHYS = C('MMU_MACHPHYS_UPDATE');
const PRESERVE_AD = C('MMU_PT_UPDATE_PRESERVE_AD');
const NO_TRANSLATE = C('MMU_PT_UPDATE_NO_TRANSLATE');

describe('reference-vmm x86 PV MMU', () => {
  it('mmuext_op$MMUEXT_PIN_L4_TABLE: validates the whole tree, takes type and general references, adjusts entries as Xen stores them', () => {
    const { ext, tree, fr, mfn, get, clean, pte } = setup();
    tree(1);
    const r = ext(1, [{ cmd: PIN4, mfn: mfn(1, L4) }]);
    expect(r.r).toBe(0n);
    expect(r.done).toBe(1);
    expect([fr.type[mfn(1, L4)], fr.type[mfn(1, L3)], fr.type[mfn(1, L2)], fr.type[mfn(1, L1)]]).toEqual([4, 3, 2, 1]);
    expect(fr.typeCount[mfn(1, L1)]).toBe(1);
    expect(fr.pinned[mfn(1, L4)]).toBe(1);
    // The read-write data page holds one writable type reference; the read-only one none.
    expect(fr.typeCount[mfn(1, DATA)]).toBe(1);
    expect(fr.typeCount[mfn(1, DATA + 1)]).toBe(0);
    expect(fr.refCount[mfn(1, DATA + 1)]).toBe(2);
    // 64-bit PV: kernel L1 mappings gain USER and Xen's GUEST_KERNEL mark; L4 entries ACCESSED and USER.
    expect(get(1, L1, 0)).toBe(pte(mfn(1, DATA), P | RW | US) | GUEST_KERNEL);
    expect(get(1, L4, 0)).toBe(pte(mfn(1, L3), P | RW | US | A));
    clean();
    expectError('mmuext_op$MMUEXT_PIN_L4_TABLE', 'EINVAL', ext(1, [{ cmd: PIN4, mfn: mfn(1, L4) }]).r);
    expectError('mmuext_op$MMUEXT_PIN_L4_TABLE', 'EINVAL', ext(1, [{ cmd: PIN4, mfn: mfn(2, L4) }]).r);
    clean();
  });

  it('mmuext_op$MMUEXT_UNPIN_TABLE: unpinning the last holder demotes the tree and releases every reference', () => {
    const { ext, tree, fr, mfn, clean } = setup();
    tree(1);
    const before = [L4, L3, L2, L1, DATA].map((g0) => fr.refCount[mfn(1, g0)]);
    expect(ext(1, [{ cmd: PIN4, mfn: mfn(1, L4) }]).r).toBe(0n);
    expect(ext(1, [{ cmd: UNPIN, mfn: mfn(1, L4) }]).r).toBe(0n);
    expect([L4, L3, L2, L1, DATA].map((g0) => fr.refCount[mfn(1, g0)])).toEqual(before);
    expect([L4, L3, L2, L1, DATA].map((g0) => fr.typeCount[mfn(1, g0)])).toEqual([0, 0, 0, 0, 0]);
    clean();
    expectError('mmuext_op$MMUEXT_UNPIN_TABLE', 'EINVAL', ext(1, [{ cmd: UNPIN, mfn: mfn(1, L4) }]).r);
    expectError('mmuext_op$MMUEXT_UNPIN_TABLE', 'EINVAL', ext(1, [{ cmd: UNPIN, mfn: mfn(0, L4) }]).r);
  });

  it('mmuext_op$MMUEXT_PIN_L1_TABLE: a page-table frame is never writable; bad entries give EBUSY, EPERM, EINVAL, EACCES', () => {
    const { ext, put, pte, mfn, fr, clean, d } = setup();
    // An L1 mapping its own frame writable cannot validate.
    put(1, L1, 0, pte(mfn(1, L1), P | RW));
    expectError('mmuext_op$MMUEXT_PIN_L1_TABLE', 'EBUSY', ext(1, [{ cmd: PIN1, mfn: mfn(1, L1) }]).r);
    expect(fr.typeCount[mfn(1, L1)]).toBe(0);
    // Read-only it is fine.
    put(1, L1, 0, pte(mfn(1, L1), P));
    expect(ext(1, [{ cmd: PIN1, mfn: mfn(1, L1) }]).r).toBe(0n);
    clean();
    // A foreign frame (domain 2's) without permission.
    put(1, L2, 0, pte(mfn(2, DATA), P));
    expectError('mmuext_op$MMUEXT_PIN_L1_TABLE', 'EBUSY', ext(1, [{ cmd: PIN1, mfn: mfn(1, L2) }]).r);
    // I/O memory (a frame beyond RAM) without I/O capabilities.
    put(1, L2, 0, pte(vmmFrames(d(1)) + 5, P));
    expectError('mmuext_op$MMUEXT_PIN_L1_TABLE', 'EPERM', ext(1, [{ cmd: PIN1, mfn: mfn(1, L2) }]).r);
    // A cache attribute without I/O capabilities.
    put(1, L2, 0, pte(mfn(1, DATA), P | PCD));
    expectError('mmuext_op$MMUEXT_PIN_L1_TABLE', 'EINVAL', ext(1, [{ cmd: PIN1, mfn: mfn(1, L2) }]).r);
    // dom0 may use cache attributes, but not on a Xen heap page (its shared_info).
    put(0, L1, 0, pte(d(0).sharedInfoFrame, P | PCD));
    expectError('mmuext_op$MMUEXT_PIN_L1_TABLE', 'EACCES', ext(0, [{ cmd: PIN1, mfn: mfn(0, L1) }]).r);
    // dom0 maps write-back I/O memory: Xen makes it uncached.
    put(0, L1, 0, pte(vmmFrames(d(0)) + 5, P));
    expect(ext(0, [{ cmd: PIN1, mfn: mfn(0, L1) }]).r).toBe(0n);
    clean();
  });

  it('mmuext_op$MMUEXT_PIN_L1_TABLE: entry bit 62 is an available bit (release build); dom0 I/O memory ends at the host address width, less MSI and HyperTransport; the I/O APIC maps read-only', () => {
    // Xen 4.17 live, seed 11: an entry with bit 62 set naming a frame far beyond the host's
    // 40-bit physical address width gave -EPERM (dom0_setup_permissions), not -EINVAL (_PAGE_GNTTAB is 0 under NDEBUG).
    const { ext, put, get, pte, mfn, clean } = setup();
    const BIT62 = 1n << 62n;
    const pin = (dom: number) => ext(dom, [{ cmd: PIN1, mfn: mfn(dom, L1) }]).r;
    const unpin = (dom: number) => expect(ext(dom, [{ cmd: UNPIN, mfn: mfn(dom, L1) }]).r).toBe(0n);
    put(0, L1, 0, pte(mfn(0, DATA), P | BIT62));
    expect(pin(0)).toBe(0n);
    unpin(0);
    put(1, L1, 0, pte(mfn(1, DATA), P | BIT62));
    expect(pin(1)).toBe(0n);
    unpin(1);
    for (const f of [0xfcfffff, 0xfebff, 0xfef00]) {
      put(0, L1, 0, pte(f, P | BIT62));
      expect(pin(0)).toBe(0n);
      unpin(0);
    }
    // Read-only MMIO (the I/O APIC, the HPET) loses RW, as write-back MMIO becomes uncached; other MMIO keeps RW.
    for (const [f, ro] of [[0xfec00, true], [0xfed00, true], [0xfe000, false]] as const) {
      put(0, L1, 0, pte(f, P | RW));
      expect(pin(0)).toBe(0n);
      expect(get(0, L1, 0)).toBe(pte(f, P | (ro ? 0n : RW) | PWT | PCD | US | GUEST_KERNEL));
      unpin(0);
    }
    for (const f of [2 ** 28, 2 ** 28 - 1, 0xfd00000, 0x2814b4c860, 0xfee00, 0xfeeff]) {
      put(0, L1, 0, pte(f, P | BIT62));
      expectError('mmuext_op$MMUEXT_PIN_L1_TABLE', 'EPERM', pin(0));
    }
    // The all-ones frame (INVALID_MFN) stays -EINVAL.
    put(0, L1, 0, pte(2 ** 40 - 1, P));
    expectError('mmuext_op$MMUEXT_PIN_L1_TABLE', 'EINVAL', pin(0));
    clean();
  });

  it('mmuext_op$MMUEXT_PIN_L2_TABLE: the errors of the L1 below; PSE refused; read-only linear L2 accepted, writable refused', () => {
    const { ext, put, pte, mfn, clean } = setup();
    put(1, L1, 0, pte(mfn(1, L1), P | RW));
    put(1, L2, 0, pte(mfn(1, L1), P));
    expectError('mmuext_op$MMUEXT_PIN_L2_TABLE', 'EBUSY', ext(1, [{ cmd: PIN2, mfn: mfn(1, L2) }]).r);
    put(1, L1, 0, pte(1 << 20, P));
    expectError('mmuext_op$MMUEXT_PIN_L2_TABLE', 'EPERM', ext(1, [{ cmd: PIN2, mfn: mfn(1, L2) }]).r);
    put(1, L1, 0, 0n);
    put(1, L2, 0, pte(mfn(1, L1), P | PSE));
    expectError('mmuext_op$MMUEXT_PIN_L2_TABLE', 'EINVAL', ext(1, [{ cmd: PIN2, mfn: mfn(1, L2) }]).r);
    put(1, L2, 0, pte(mfn(1, L1), P));
    put(1, L2, 1, pte(mfn(1, L2), P | RW));
    expectError('mmuext_op$MMUEXT_PIN_L2_TABLE', 'EINVAL', ext(1, [{ cmd: PIN2, mfn: mfn(1, L2) }]).r);
    put(1, L2, 1, pte(mfn(1, L2), P));
    expect(ext(1, [{ cmd: PIN2, mfn: mfn(1, L2) }]).r).toBe(0n);
    clean();
  });

  it('mmuext_op$MMUEXT_PIN_L3_TABLE: errors of the levels below; a frame typed otherwise is EINVAL', () => {
    const { ext, put, pte, mfn, tree, clean, d } = setup();
    tree(1);
    put(1, L1, 2, pte(mfn(2, DATA), P));
    expectError('mmuext_op$MMUEXT_PIN_L3_TABLE', 'EBUSY', ext(1, [{ cmd: PIN3, mfn: mfn(1, L3) }]).r);
    put(1, L1, 2, pte(vmmFrames(d(1)) + 9, P));
    expectError('mmuext_op$MMUEXT_PIN_L3_TABLE', 'EPERM', ext(1, [{ cmd: PIN3, mfn: mfn(1, L3) }]).r);
    put(1, L1, 2, 0n);
    expect(ext(1, [{ cmd: PIN2, mfn: mfn(1, L2) }]).r).toBe(0n);
    expectError('mmuext_op$MMUEXT_PIN_L3_TABLE', 'EINVAL', ext(1, [{ cmd: PIN3, mfn: mfn(1, L2) }]).r);
    put(0, L1, 0, pte(d(0).sharedInfoFrame, P | PCD));
    put(0, L2, 0, pte(mfn(0, L1), P));
    put(0, L3, 0, pte(mfn(0, L2), P));
    expectError('mmuext_op$MMUEXT_PIN_L3_TABLE', 'EACCES', ext(0, [{ cmd: PIN3, mfn: mfn(0, L3) }]).r);
    put(0, L4, 0, pte(mfn(0, L3), P));
    expectError('mmuext_op$MMUEXT_PIN_L4_TABLE', 'EACCES', ext(0, [{ cmd: PIN4, mfn: mfn(0, L4) }]).r);
    put(1, L4, 0, pte(mfn(1, L3), P));
    // (The L1 must leave page-table use before its bytes change: the model's host writes bypass page protection.)
    expect(ext(1, [{ cmd: UNPIN, mfn: mfn(1, L2) }]).r).toBe(0n);
    put(1, L1, 3, pte(mfn(2, DATA), P));
    expectError('mmuext_op$MMUEXT_PIN_L4_TABLE', 'EBUSY', ext(1, [{ cmd: PIN4, mfn: mfn(1, L4) }]).r);
    put(1, L1, 3, pte(vmmFrames(d(1)) + 9, P));
    expectError('mmuext_op$MMUEXT_PIN_L4_TABLE', 'EPERM', ext(1, [{ cmd: PIN4, mfn: mfn(1, L4) }]).r);
    // A 64-bit L4 slot of Xen's range is skipped by validation (Xen fills it with its own mappings).
    put(1, L1, 3, 0n);
    put(1, L4, 256, pte(mfn(2, DATA), P));
    expect(ext(1, [{ cmd: PIN4, mfn: mfn(1, L4) }]).r).toBe(0n);
    clean();
  });

  it('mmuext_op$MMUEXT_NEW_BASEPTR: installs a validated L4, drops the old one; EPERM for another domain; errors of validation', () => {
    const { ext, tree, mfn, fr, clean, put, pte, d } = setup();
    tree(1);
    expect(ext(1, [{ cmd: BASEPTR, mfn: mfn(1, L4) }]).r).toBe(0n);
    expect(fr.typeCount[mfn(1, L4)]).toBe(1);
    clean();
    // Switching to another L4 drops the first (not pinned: it is demoted).
    put(1, 10, 0, pte(mfn(1, L3), P));
    expect(ext(1, [{ cmd: BASEPTR, mfn: mfn(1, 10) }]).r).toBe(0n);
    expect(fr.typeCount[mfn(1, L4)]).toBe(0);
    expect(fr.typeCount[mfn(1, L3)]).toBe(1);
    clean();
    expectError('mmuext_op$MMUEXT_NEW_BASEPTR', 'EPERM', ext(0, [{ cmd: BASEPTR, mfn: mfn(1, L4) }], 1).r);
    expectError('mmuext_op$MMUEXT_NEW_BASEPTR', 'EINVAL', ext(1, [{ cmd: BASEPTR, mfn: mfn(2, L4) }]).r);
    put(1, 11, 0, pte(mfn(1, 12), P));
    put(1, 12, 0, pte(mfn(1, 13), P));
    put(1, 13, 0, pte(mfn(1, 14), P));
    put(1, 14, 0, pte(mfn(1, 14), P | RW));
    expectError('mmuext_op$MMUEXT_NEW_BASEPTR', 'EBUSY', ext(1, [{ cmd: BASEPTR, mfn: mfn(1, 11) }]).r);
    put(1, 14, 0, pte(vmmFrames(d(1)) + 2, P));
    expectError('mmuext_op$MMUEXT_NEW_BASEPTR', 'EPERM', ext(1, [{ cmd: BASEPTR, mfn: mfn(1, 11) }]).r);
    put(0, 11, 0, pte(mfn(0, 12), P));
    put(0, 12, 0, pte(mfn(0, 13), P));
    put(0, 13, 0, pte(mfn(0, 14), P));
    put(0, 14, 0, pte(d(0).sharedInfoFrame, P | PCD));
    expectError('mmuext_op$MMUEXT_NEW_BASEPTR', 'EACCES', ext(0, [{ cmd: BASEPTR, mfn: mfn(0, 11) }]).r);
    clean();
  });

  it('mmuext_op$MMUEXT_NEW_USER_BASEPTR: installs and clears (0) a user L4; EPERM for another domain; EINVAL for a 32-bit guest', () => {
    const { ext, tree, mfn, fr, clean } = setup();
    const NUB = C('MMUEXT_NEW_USER_BASEPTR');
    tree(1);
    expect(ext(1, [{ cmd: NUB, mfn: mfn(1, L4) }]).r).toBe(0n);
    expect(fr.typeCount[mfn(1, L4)]).toBe(1);
    expect(ext(1, [{ cmd: NUB, mfn: 0 }]).r).toBe(0n);
    expect(fr.typeCount[mfn(1, L4)]).toBe(0);
    clean();
    expectError('mmuext_op$MMUEXT_NEW_USER_BASEPTR', 'EPERM', ext(0, [{ cmd: NUB, mfn: mfn(1, L4) }], 1).r);
    expectError('mmuext_op$MMUEXT_NEW_USER_BASEPTR', 'EINVAL', ext(1, [{ cmd: NUB, mfn: mfn(2, L4) }]).r);
    const s32 = setup('x86_32-pv');
    expectError('mmuext_op$MMUEXT_NEW_USER_BASEPTR', 'EINVAL', s32.ext(1, [{ cmd: NUB, mfn: s32.mfn(1, L3) }]).r);
  });

  it('mmuext_op$MMUEXT_TLB_FLUSH_LOCAL: flushes are checks only; EPERM for a foreign owner; MULTI needs a readable vCPU bitmap', () => {
    const { ext } = setup();
    for (const name of ['MMUEXT_TLB_FLUSH_LOCAL', 'MMUEXT_INVLPG_LOCAL', 'MMUEXT_TLB_FLUSH_ALL', 'MMUEXT_INVLPG_ALL']) {
      expect(ext(1, [{ cmd: C(name), linear: 0x1000n }]).r, name).toBe(0n);
    }
    expectError('mmuext_op$MMUEXT_TLB_FLUSH_LOCAL', 'EPERM', ext(0, [{ cmd: C('MMUEXT_TLB_FLUSH_LOCAL') }], 1).r);
    expectError('mmuext_op$MMUEXT_INVLPG_LOCAL', 'EPERM', ext(0, [{ cmd: C('MMUEXT_INVLPG_LOCAL') }], 1).r);
    expectError('mmuext_op$MMUEXT_TLB_FLUSH_ALL', 'EPERM', ext(0, [{ cmd: C('MMUEXT_TLB_FLUSH_ALL') }], 1).r);
    expectError('mmuext_op$MMUEXT_INVLPG_ALL', 'EPERM', ext(0, [{ cmd: C('MMUEXT_INVLPG_ALL') }], 1).r);
    const mask = BigInt(ARGS * PAGE_SIZE + 3000);
    expect(ext(1, [{ cmd: C('MMUEXT_TLB_FLUSH_MULTI'), mask }]).r).toBe(0n);
    expect(ext(1, [{ cmd: C('MMUEXT_INVLPG_MULTI'), mask }]).r).toBe(0n);
    expectError('mmuext_op$MMUEXT_TLB_FLUSH_MULTI', 'EINVAL', ext(1, [{ cmd: C('MMUEXT_TLB_FLUSH_MULTI'), mask: 1n << 40n }]).r);
    expectError('mmuext_op$MMUEXT_INVLPG_MULTI', 'EINVAL', ext(1, [{ cmd: C('MMUEXT_INVLPG_MULTI'), mask: 1n << 40n }]).r);
    expectError('mmuext_op$MMUEXT_TLB_FLUSH_MULTI', 'EPERM', ext(0, [{ cmd: C('MMUEXT_TLB_FLUSH_MULTI'), mask }], 1).r);
    expectError('mmuext_op$MMUEXT_INVLPG_MULTI', 'EPERM', ext(0, [{ cmd: C('MMUEXT_INVLPG_MULTI'), mask }], 1).r);
  });

  it('mmuext_op$MMUEXT_FLUSH_CACHE: only with I/O capabilities (EACCES; FLUSH_CACHE_GLOBAL answers EINVAL)', () => {
    const { ext } = setup();
    expect(ext(0, [{ cmd: C('MMUEXT_FLUSH_CACHE') }]).r).toBe(0n);
    expect(ext(0, [{ cmd: C('MMUEXT_FLUSH_CACHE_GLOBAL') }]).r).toBe(0n);
    expectError('mmuext_op$MMUEXT_FLUSH_CACHE', 'EACCES', ext(1, [{ cmd: C('MMUEXT_FLUSH_CACHE') }]).r);
    expectError('mmuext_op$MMUEXT_FLUSH_CACHE_GLOBAL', 'EINVAL', ext(1, [{ cmd: C('MMUEXT_FLUSH_CACHE_GLOBAL') }]).r);
    expectError('mmuext_op$MMUEXT_FLUSH_CACHE', 'EPERM', ext(0, [{ cmd: C('MMUEXT_FLUSH_CACHE') }], 1).r);
    expectError('mmuext_op$MMUEXT_FLUSH_CACHE_GLOBAL', 'EPERM', ext(0, [{ cmd: C('MMUEXT_FLUSH_CACHE_GLOBAL') }], 1).r);
  });

  it('mmuext_op$MMUEXT_SET_LDT: sets the vCPU LDT; EINVAL for too many entries, an unaligned or Xen-range base; EPERM for another domain', () => {
    const { ext, vmm, d } = setup();
    const LDT = C('MMUEXT_SET_LDT');
    expect(ext(1, [{ cmd: LDT, linear: 0x10000n, nr: 16 }]).r).toBe(0n);
    expect(pvMmu(vmm)!.vcpu(d(1), 0)).toMatchObject({ ldtBase: 0x10000n, ldtEnts: 16 });
    expectError('mmuext_op$MMUEXT_SET_LDT', 'EINVAL', ext(1, [{ cmd: LDT, linear: 0x10000n, nr: 8193 }]).r);
    expectError('mmuext_op$MMUEXT_SET_LDT', 'EINVAL', ext(1, [{ cmd: LDT, linear: 0x10008n, nr: 1 }]).r);
    expectError('mmuext_op$MMUEXT_SET_LDT', 'EINVAL', ext(1, [{ cmd: LDT, linear: 0xffff800000000000n, nr: 1 }]).r);
    // No entries: the base is not looked at.
    expect(ext(1, [{ cmd: LDT, linear: 0xffff800000000008n, nr: 0 }]).r).toBe(0n);
    expectError('mmuext_op$MMUEXT_SET_LDT', 'EPERM', ext(0, [{ cmd: LDT, linear: 0n, nr: 0 }], 1).r);
  });

  it('mmuext_op$MMUEXT_CLEAR_PAGE: zeroes a frame; EINVAL for a foreign frame or a page table', () => {
    const { ext, put, get, mfn, tree, clean } = setup();
    const CLEAR = C('MMUEXT_CLEAR_PAGE');
    put(1, DATA, 7, 0x1234n);
    expect(ext(1, [{ cmd: CLEAR, mfn: mfn(1, DATA) }]).r).toBe(0n);
    expect(get(1, DATA, 7)).toBe(0n);
    expectError('mmuext_op$MMUEXT_CLEAR_PAGE', 'EINVAL', ext(1, [{ cmd: CLEAR, mfn: mfn(2, DATA) }]).r);
    tree(1);
    expect(ext(1, [{ cmd: PIN4, mfn: mfn(1, L4) }]).r).toBe(0n);
    expectError('mmuext_op$MMUEXT_CLEAR_PAGE', 'EINVAL', ext(1, [{ cmd: CLEAR, mfn: mfn(1, L1) }]).r);
    clean();
  });

  it('mmuext_op$MMUEXT_COPY_PAGE: copies a frame; EINVAL for a foreign source or destination, or a page-table destination', () => {
    const { ext, put, get, mfn, tree } = setup();
    const COPY = C('MMUEXT_COPY_PAGE');
    put(1, DATA, 3, 0xabcdn);
    expect(ext(1, [{ cmd: COPY, mfn: mfn(1, DATA + 2), src: mfn(1, DATA) }]).r).toBe(0n);
    expect(get(1, DATA + 2, 3)).toBe(0xabcdn);
    expectError('mmuext_op$MMUEXT_COPY_PAGE', 'EINVAL', ext(1, [{ cmd: COPY, mfn: mfn(1, DATA + 2), src: mfn(2, DATA) }]).r);
    expectError('mmuext_op$MMUEXT_COPY_PAGE', 'EINVAL', ext(1, [{ cmd: COPY, mfn: mfn(2, DATA), src: mfn(1, DATA) }]).r);
    tree(1);
    expect(ext(1, [{ cmd: PIN1, mfn: mfn(1, L1) }]).r).toBe(0n);
    expectError('mmuext_op$MMUEXT_COPY_PAGE', 'EINVAL', ext(1, [{ cmd: COPY, mfn: mfn(1, L1), src: mfn(1, DATA) }]).r);
  });

  it('mmuext_op$MMUEXT_MARK_SUPER: EOPNOTSUPP, as UNMARK_SUPER; an unknown command is ENOSYS; batches stop at the first failure', () => {
    const { ext } = setup();
    expectError('mmuext_op$MMUEXT_MARK_SUPER', 'EOPNOTSUPP', ext(1, [{ cmd: C('MMUEXT_MARK_SUPER') }]).r);
    expectError('mmuext_op$MMUEXT_UNMARK_SUPER', 'EOPNOTSUPP', ext(1, [{ cmd: C('MMUEXT_UNMARK_SUPER') }]).r);
    const r = ext(1, [{ cmd: C('MMUEXT_TLB_FLUSH_LOCAL') }, { cmd: 14 }, { cmd: C('MMUEXT_TLB_FLUSH_LOCAL') }]);
    // The unknown command belongs to no sub-op id; the hypercall's ENOSYS is claimed on the batch's first op.
    expectError('mmuext_op$MMUEXT_TLB_FLUSH_LOCAL', 'ENOSYS', r.r);
    expect(r.done).toBe(1);
  });

  it('mmuext_op$MMUEXT_PIN_L1_TABLE: batch errors: ESRCH (unknown or own id), EPERM (unprivileged foreign), EINVAL (HVM owner), EFAULT (unreadable op), EOPNOTSUPP for HVM callers', () => {
    const { ext, vmm, mfn } = setup();
    expectError('mmuext_op$MMUEXT_PIN_L1_TABLE', 'ESRCH', ext(1, [{ cmd: PIN1, mfn: mfn(1, L1) }], 1).r);
    expectError('mmuext_op$MMUEXT_PIN_L1_TABLE', 'ESRCH', ext(1, [{ cmd: PIN1, mfn: mfn(1, L1) }], 99).r);
    expectError('mmuext_op$MMUEXT_PIN_L1_TABLE', 'EPERM', ext(1, [{ cmd: PIN1, mfn: mfn(2, L1) }], 2).r);
    expectError('mmuext_op$MMUEXT_PIN_L1_TABLE', 'EINVAL', ext(0, [{ cmd: PIN1, mfn: mfn(3, 1) }], 3).r);
    // dom0 may pin another domain's table.
    expect(ext(0, [{ cmd: PIN1, mfn: mfn(2, L1) }], 2).r).toBe(0n);
    // An array beyond the guest's memory (but in its range): the first read faults, pdone = 0.
    const g = new XenGuest(new VmmTransport(vmm, 1));
    expectError('mmuext_op$MMUEXT_PIN_L1_TABLE', 'EFAULT', g.mmuext_op(1n << 40n, 1, 0n, SELF));
    // Xen's hole: refused before anything runs.
    expectError('mmuext_op$MMUEXT_PIN_L1_TABLE', 'EFAULT', g.mmuext_op(0xffff800000000000n, 1, 0n, SELF));
    // An HVM caller may only pin and unpin, and only a PV domain's tables.
    const h = new XenGuest(new VmmTransport(vmm, 4));
    const at = BigInt(PAGE_SIZE);
    const op = (cmd: number, m = 0) => {
      const b = new Uint8Array(24);
      new DataView(b.buffer).setUint32(0, cmd, true);
      new DataView(b.buffer).setBigUint64(8, BigInt(m), true);
      vmm.machine.domain(4)!.memory.write(gaddr(PAGE_SIZE), b);
    };
    op(C('MMUEXT_TLB_FLUSH_LOCAL'));
    expectError('mmuext_op$MMUEXT_TLB_FLUSH_LOCAL', 'EOPNOTSUPP', h.mmuext_op(at, 1, 0n, 1));
    expectError('mmuext_op$MMUEXT_TLB_FLUSH_LOCAL', 'EINVAL', h.mmuext_op(at, 1, 0n, SELF));
    op(PIN1, mfn(1, L1));
    expect(h.mmuext_op(at, 1, 0n, 1)).toBe(0n);
    expect(vmm.internalErrors).toEqual([]);
  });

  it('mmuext_op$MMUEXT_UNPIN_TABLE: do_mmuext_op checks foreigndom before any command: ESRCH (unknown id), EPERM (unprivileged foreign), EINVAL (not PV)', () => {
    const { ext, mfn, clean } = setup();
    const LOCAL = C('MMUEXT_INVLPG_LOCAL');
    // ESRCH: no domain 99, whatever the command.
    expectError('mmuext_op$MMUEXT_PIN_L2_TABLE', 'ESRCH', ext(1, [{ cmd: PIN2, mfn: mfn(1, L2) }], 99).r);
    expectError('mmuext_op$MMUEXT_PIN_L3_TABLE', 'ESRCH', ext(1, [{ cmd: PIN3, mfn: mfn(1, L3) }], 99).r);
    expectError('mmuext_op$MMUEXT_PIN_L4_TABLE', 'ESRCH', ext(1, [{ cmd: PIN4, mfn: mfn(1, L4) }], 99).r);
    expectError('mmuext_op$MMUEXT_UNPIN_TABLE', 'ESRCH', ext(1, [{ cmd: UNPIN, mfn: mfn(1, L1) }], 99).r);
    expectError('mmuext_op$MMUEXT_NEW_BASEPTR', 'ESRCH', ext(1, [{ cmd: BASEPTR, mfn: mfn(1, L4) }], 99).r);
    expectError('mmuext_op$MMUEXT_TLB_FLUSH_LOCAL', 'ESRCH', ext(1, [{ cmd: C('MMUEXT_TLB_FLUSH_LOCAL') }], 99).r);
    expectError('mmuext_op$MMUEXT_INVLPG_LOCAL', 'ESRCH', ext(1, [{ cmd: LOCAL, linear: 0x1000n }], 99).r);
    expectError('mmuext_op$MMUEXT_TLB_FLUSH_MULTI', 'ESRCH', ext(1, [{ cmd: C('MMUEXT_TLB_FLUSH_MULTI') }], 99).r);
    expectError('mmuext_op$MMUEXT_INVLPG_MULTI', 'ESRCH', ext(1, [{ cmd: C('MMUEXT_INVLPG_MULTI') }], 99).r);
    expectError('mmuext_op$MMUEXT_TLB_FLUSH_ALL', 'ESRCH', ext(1, [{ cmd: C('MMUEXT_TLB_FLUSH_ALL') }], 99).r);
    expectError('mmuext_op$MMUEXT_INVLPG_ALL', 'ESRCH', ext(1, [{ cmd: C('MMUEXT_INVLPG_ALL') }], 99).r);
    expectError('mmuext_op$MMUEXT_FLUSH_CACHE', 'ESRCH', ext(1, [{ cmd: C('MMUEXT_FLUSH_CACHE') }], 99).r);
    expectError('mmuext_op$MMUEXT_SET_LDT', 'ESRCH', ext(1, [{ cmd: C('MMUEXT_SET_LDT') }], 99).r);
    expectError('mmuext_op$MMUEXT_NEW_USER_BASEPTR', 'ESRCH', ext(1, [{ cmd: C('MMUEXT_NEW_USER_BASEPTR') }], 99).r);
    expectError('mmuext_op$MMUEXT_CLEAR_PAGE', 'ESRCH', ext(1, [{ cmd: C('MMUEXT_CLEAR_PAGE'), mfn: mfn(1, DATA) }], 99).r);
    expectError('mmuext_op$MMUEXT_COPY_PAGE', 'ESRCH', ext(1, [{ cmd: C('MMUEXT_COPY_PAGE'), mfn: mfn(1, DATA), src: mfn(1, DATA + 1) }], 99).r);
    expectError('mmuext_op$MMUEXT_FLUSH_CACHE_GLOBAL', 'ESRCH', ext(1, [{ cmd: C('MMUEXT_FLUSH_CACHE_GLOBAL') }], 99).r);
    expectError('mmuext_op$MMUEXT_MARK_SUPER', 'ESRCH', ext(1, [{ cmd: C('MMUEXT_MARK_SUPER') }], 99).r);
    expectError('mmuext_op$MMUEXT_UNMARK_SUPER', 'ESRCH', ext(1, [{ cmd: C('MMUEXT_UNMARK_SUPER') }], 99).r);
    // EPERM: an unprivileged caller naming another domain (XSM_TARGET), before the command is read.
    expectError('mmuext_op$MMUEXT_UNPIN_TABLE', 'EPERM', ext(1, [{ cmd: UNPIN, mfn: mfn(2, L1) }], 2).r);
    expectError('mmuext_op$MMUEXT_CLEAR_PAGE', 'EPERM', ext(1, [{ cmd: C('MMUEXT_CLEAR_PAGE'), mfn: mfn(2, DATA) }], 2).r);
    expectError('mmuext_op$MMUEXT_COPY_PAGE', 'EPERM', ext(1, [{ cmd: C('MMUEXT_COPY_PAGE'), mfn: mfn(2, DATA), src: mfn(2, DATA + 1) }], 2).r);
    expectError('mmuext_op$MMUEXT_MARK_SUPER', 'EPERM', ext(1, [{ cmd: C('MMUEXT_MARK_SUPER') }], 2).r);
    expectError('mmuext_op$MMUEXT_UNMARK_SUPER', 'EPERM', ext(1, [{ cmd: C('MMUEXT_UNMARK_SUPER') }], 2).r);
    // EINVAL: dom0 naming an HVM domain (its pages are not PV-managed).
    expectError('mmuext_op$MMUEXT_INVLPG_LOCAL', 'EINVAL', ext(0, [{ cmd: LOCAL, linear: 0x1000n }], 3).r);
    expectError('mmuext_op$MMUEXT_TLB_FLUSH_ALL', 'EINVAL', ext(0, [{ cmd: C('MMUEXT_TLB_FLUSH_ALL') }], 3).r);
    expectError('mmuext_op$MMUEXT_INVLPG_ALL', 'EINVAL', ext(0, [{ cmd: C('MMUEXT_INVLPG_ALL') }], 3).r);
    expectError('mmuext_op$MMUEXT_FLUSH_CACHE', 'EINVAL', ext(0, [{ cmd: C('MMUEXT_FLUSH_CACHE') }], 3).r);
    expectError('mmuext_op$MMUEXT_MARK_SUPER', 'EINVAL', ext(0, [{ cmd: C('MMUEXT_MARK_SUPER') }], 3).r);
    expectError('mmuext_op$MMUEXT_UNMARK_SUPER', 'EINVAL', ext(0, [{ cmd: C('MMUEXT_UNMARK_SUPER') }], 3).r);
    clean();
  });

  it('mmuext_op$MMUEXT_NEW_BASEPTR: an HVM caller gets EOPNOTSUPP for every command but pin and unpin', () => {
    const { vmm, mfn, tree, clean } = setup();
    tree(1);
    const h = new XenGuest(new VmmTransport(vmm, 4));
    const at = BigInt(PAGE_SIZE);
    /** dom4 (HVM, privileged) issues one command on domain 1 (PV). */
    const hvm = (cmd: number, arg1 = 0n, arg2 = 0n): bigint => {
      const b = new Uint8Array(24);
      new DataView(b.buffer).setUint32(0, cmd, true);
      new DataView(b.buffer).setBigUint64(8, arg1, true);
      new DataView(b.buffer).setBigUint64(16, arg2, true);
      vmm.machine.domain(4)!.memory.write(gaddr(PAGE_SIZE), b);
      return h.mmuext_op(at, 1, 0n, 1);
    };
    const L4m = BigInt(mfn(1, L4));
    expectError('mmuext_op$MMUEXT_NEW_BASEPTR', 'EOPNOTSUPP', hvm(BASEPTR, L4m));
    expectError('mmuext_op$MMUEXT_INVLPG_LOCAL', 'EOPNOTSUPP', hvm(C('MMUEXT_INVLPG_LOCAL'), 0x1000n));
    expectError('mmuext_op$MMUEXT_TLB_FLUSH_MULTI', 'EOPNOTSUPP', hvm(C('MMUEXT_TLB_FLUSH_MULTI'), 0n, 0x800n));
    expectError('mmuext_op$MMUEXT_INVLPG_MULTI', 'EOPNOTSUPP', hvm(C('MMUEXT_INVLPG_MULTI'), 0x1000n, 0x800n));
    expectError('mmuext_op$MMUEXT_TLB_FLUSH_ALL', 'EOPNOTSUPP', hvm(C('MMUEXT_TLB_FLUSH_ALL')));
    expectError('mmuext_op$MMUEXT_INVLPG_ALL', 'EOPNOTSUPP', hvm(C('MMUEXT_INVLPG_ALL'), 0x1000n));
    expectError('mmuext_op$MMUEXT_FLUSH_CACHE', 'EOPNOTSUPP', hvm(C('MMUEXT_FLUSH_CACHE')));
    expectError('mmuext_op$MMUEXT_SET_LDT', 'EOPNOTSUPP', hvm(C('MMUEXT_SET_LDT'), 0x10000n, 1n));
    expectError('mmuext_op$MMUEXT_NEW_USER_BASEPTR', 'EOPNOTSUPP', hvm(C('MMUEXT_NEW_USER_BASEPTR'), L4m));
    expectError('mmuext_op$MMUEXT_CLEAR_PAGE', 'EOPNOTSUPP', hvm(C('MMUEXT_CLEAR_PAGE'), BigInt(mfn(1, DATA))));
    expectError('mmuext_op$MMUEXT_COPY_PAGE', 'EOPNOTSUPP', hvm(C('MMUEXT_COPY_PAGE'), BigInt(mfn(1, DATA)), BigInt(mfn(1, DATA + 1))));
    expectError('mmuext_op$MMUEXT_FLUSH_CACHE_GLOBAL', 'EOPNOTSUPP', hvm(C('MMUEXT_FLUSH_CACHE_GLOBAL')));
    // Pin and unpin are the HVM caller's to use: the L4 tree validates and is pinned, then unpinned.
    expect(hvm(PIN4, L4m)).toBe(0n);
    expect(hvm(UNPIN, L4m)).toBe(0n);
    clean();
  });

  it('mmuext_op$MMUEXT_NEW_USER_BASEPTR: the errors of validating the L4 tree (EBUSY, EACCES); PIN_L2: EACCES from its L1', () => {
    const { ext, mfn, put, pte, d, clean } = setup();
    const NUB = C('MMUEXT_NEW_USER_BASEPTR');
    put(1, 11, 0, pte(mfn(1, 12), P));
    put(1, 12, 0, pte(mfn(1, 13), P));
    put(1, 13, 0, pte(mfn(1, 14), P));
    put(1, 14, 0, pte(mfn(1, 14), P | RW));
    expectError('mmuext_op$MMUEXT_NEW_USER_BASEPTR', 'EBUSY', ext(1, [{ cmd: NUB, mfn: mfn(1, 11) }]).r);
    put(0, 11, 0, pte(mfn(0, 12), P));
    put(0, 12, 0, pte(mfn(0, 13), P));
    put(0, 13, 0, pte(mfn(0, 14), P));
    put(0, 14, 0, pte(d(0).sharedInfoFrame, P | PCD));
    expectError('mmuext_op$MMUEXT_PIN_L2_TABLE', 'EACCES', ext(0, [{ cmd: PIN2, mfn: mfn(0, 13) }]).r);
    expectError('mmuext_op$MMUEXT_NEW_USER_BASEPTR', 'EACCES', ext(0, [{ cmd: NUB, mfn: mfn(0, 11) }]).r);
    clean();
  });

  it('mmu_update$MMU_NORMAL_PT_UPDATE: checked L1 writes through the whole tree; a plain store into an ordinary page; pdone', () => {
    const { ext, mmu, tree, mfn, ptr, pte, get, fr, clean } = setup();
    tree(1);
    expect(ext(1, [{ cmd: PIN4, mfn: mfn(1, L4) }]).r).toBe(0n);
    const r = mmu(1, [
      { ptr: ptr(1, L1, 5), val: pte(mfn(1, DATA + 3), P | RW) },
      { ptr: ptr(1, DATA + 4, 9), val: 0x5555n },
    ]);
    expect(r.r).toBe(0n);
    expect(r.done).toBe(2);
    expect(get(1, L1, 5)).toBe(pte(mfn(1, DATA + 3), P | RW | US) | GUEST_KERNEL);
    expect(get(1, DATA + 4, 9)).toBe(0x5555n);
    expect(fr.typeCount[mfn(1, DATA + 3)]).toBe(1);
    clean();
    // Replacing the entry drops the old mapping's references.
    expect(mmu(1, [{ ptr: ptr(1, L1, 5), val: 0n }]).r).toBe(0n);
    expect(fr.typeCount[mfn(1, DATA + 3)]).toBe(0);
    clean();
    // Stops at the first failure: a writable mapping of a page table.
    const bad = mmu(1, [
      { ptr: ptr(1, L1, 6), val: pte(mfn(1, DATA), P) },
      { ptr: ptr(1, L1, 7), val: pte(mfn(1, L2), P | RW) },
      { ptr: ptr(1, L1, 8), val: pte(mfn(1, DATA), P) },
    ]);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EBUSY', bad.r);
    expect(bad.done).toBe(1);
    expect(get(1, L1, 8)).toBe(0n);
    clean();
    // Upper levels: an L2 entry must name an L1 (PSE refused); an L4 Xen slot is refused.
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EINVAL', mmu(1, [{ ptr: ptr(1, L2, 1), val: pte(mfn(1, DATA + 5), P | PSE) }]).r);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EINVAL', mmu(1, [{ ptr: ptr(1, L4, 260), val: 0n }]).r);
    expect(mmu(1, [{ ptr: ptr(1, L2, 1), val: pte(mfn(1, DATA + 5), P) }]).r).toBe(0n);
    expect(fr.type[mfn(1, DATA + 5)]).toBe(1);
    // XSA-182: a read-only self-map of the L4 is fine, making it writable is not.
    expect(mmu(1, [{ ptr: ptr(1, L4, 5), val: pte(mfn(1, L4), P) }]).r).toBe(0n);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EINVAL', mmu(1, [{ ptr: ptr(1, L4, 5), val: pte(mfn(1, L4), P | RW) }]).r);
    clean();
  });

  it('mmu_update$MMU_NORMAL_PT_UPDATE: errors: foreign frame at ptr, wrong type, I/O memory, foreign target, cache attributes, owners, ENOSYS', () => {
    const { ext, mmu, tree, mfn, ptr, pte, d, clean, put } = setup();
    tree(1);
    expect(ext(1, [{ cmd: PIN4, mfn: mfn(1, L4) }]).r).toBe(0n);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EINVAL', mmu(1, [{ ptr: ptr(2, DATA, 0), val: 0n }]).r);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EPERM', mmu(1, [{ ptr: ptr(1, L1, 9), val: pte(vmmFrames(d(1)) + 1, P) }]).r);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EBUSY', mmu(1, [{ ptr: ptr(1, L1, 9), val: pte(mfn(2, DATA), P) }]).r);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'ESRCH', mmu(1, [{ ptr: ptr(1, L1, 9), val: 0n }], 1).r);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'ESRCH', mmu(1, [{ ptr: ptr(1, L1, 9), val: 0n }], (99 + 1) << 16 | SELF).r);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EPERM', mmu(1, [{ ptr: ptr(1, L1, 9), val: pte(mfn(2, DATA), P) }], 2).r);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'ENOSYS', mmu(1, [{ ptr: ptr(1, L1, 9) | 4n, val: 0n }]).r);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EOPNOTSUPP', mmu(0, [{ ptr: ptr(3, 1, 0), val: 0n }], (3 + 1) << 16 | SELF).r);
    // dom0 maps domain 2's frame naming it as the data owner; with an own-id data owner that is ESRCH.
    put(0, L1, 0, 0n);
    expect(ext(0, [{ cmd: PIN1, mfn: mfn(0, L1) }]).r).toBe(0n);
    expect(mmu(0, [{ ptr: ptr(0, L1, 1), val: pte(mfn(2, DATA), P | RW) }], 2).r).toBe(0n);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EACCES', mmu(0, [{ ptr: ptr(0, L1, 2), val: pte(d(0).sharedInfoFrame, P | PCD) }]).r);
    // An L2 update whose data-page owner (dom0) differs from the page-table owner (domain 2), after a request that succeeds.
    expect(ext(0, [{ cmd: PIN2, mfn: mfn(2, L2) }], 2).r).toBe(0n);
    const mixed = mmu(0, [{ ptr: ptr(2, DATA, 0), val: 1n }, { ptr: ptr(2, L2, 0), val: 0n }], ((2 + 1) << 16) | SELF);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EINVAL', mixed.r);
    expect(mixed.done).toBe(1);
    clean();
  });

  it('mmu_update$MMU_PT_UPDATE_PRESERVE_AD: keeps the accessed and dirty bits of the old entry; the same errors', () => {
    const { ext, mmu, tree, mfn, ptr, pte, get, d, put } = setup();
    tree(1);
    put(1, L1, 4, pte(mfn(1, DATA), P | 0x60n));
    expect(ext(1, [{ cmd: PIN4, mfn: mfn(1, L4) }]).r).toBe(0n);
    expect(mmu(1, [{ ptr: ptr(1, L1, 4, PRESERVE_AD), val: pte(mfn(1, DATA + 1), P) }]).r).toBe(0n);
    expect(get(1, L1, 4) & 0x60n).toBe(0x60n);
    expect(mmu(1, [{ ptr: ptr(1, L1, 4, NORMAL), val: pte(mfn(1, DATA + 1), P) }]).r).toBe(0n);
    expect(get(1, L1, 4) & 0x60n).toBe(0n);
    expectError('mmu_update$MMU_PT_UPDATE_PRESERVE_AD', 'EINVAL', mmu(1, [{ ptr: ptr(2, DATA, 0, PRESERVE_AD), val: 0n }]).r);
    expectError('mmu_update$MMU_PT_UPDATE_PRESERVE_AD', 'EPERM', mmu(1, [{ ptr: ptr(1, L1, 9, PRESERVE_AD), val: pte(vmmFrames(d(1)) + 1, P) }]).r);
    expectError('mmu_update$MMU_PT_UPDATE_PRESERVE_AD', 'EBUSY', mmu(1, [{ ptr: ptr(1, L1, 9, PRESERVE_AD), val: pte(mfn(2, DATA), P) }]).r);
    expectError('mmu_update$MMU_PT_UPDATE_PRESERVE_AD', 'ESRCH', mmu(1, [{ ptr: ptr(1, L1, 9, PRESERVE_AD), val: 0n }], 1).r);
    expectError('mmu_update$MMU_PT_UPDATE_PRESERVE_AD', 'EOPNOTSUPP', mmu(0, [{ ptr: ptr(3, 1, 0, PRESERVE_AD), val: 0n }], (3 + 1) << 16 | SELF).r);
    expect(ext(0, [{ cmd: PIN1, mfn: mfn(0, L1) }]).r).toBe(0n);
    expectError('mmu_update$MMU_PT_UPDATE_PRESERVE_AD', 'EACCES', mmu(0, [{ ptr: ptr(0, L1, 2, PRESERVE_AD), val: pte(d(0).sharedInfoFrame, P | PCD) }]).r);
  });

  it('mmu_update$MMU_PT_UPDATE_NO_TRANSLATE: as a normal update for PV owners; the same errors', () => {
    const { ext, mmu, tree, mfn, ptr, pte, get, d } = setup();
    tree(1);
    expect(ext(1, [{ cmd: PIN4, mfn: mfn(1, L4) }]).r).toBe(0n);
    expect(mmu(1, [{ ptr: ptr(1, L1, 4, NO_TRANSLATE), val: pte(mfn(1, DATA + 1), P) }]).r).toBe(0n);
    expect(get(1, L1, 4)).toBe(pte(mfn(1, DATA + 1), P | US) | GUEST_KERNEL);
    expectError('mmu_update$MMU_PT_UPDATE_NO_TRANSLATE', 'EINVAL', mmu(1, [{ ptr: ptr(2, DATA, 0, NO_TRANSLATE), val: 0n }]).r);
    expectError('mmu_update$MMU_PT_UPDATE_NO_TRANSLATE', 'EPERM', mmu(1, [{ ptr: ptr(1, L1, 9, NO_TRANSLATE), val: pte(vmmFrames(d(1)) + 1, P) }]).r);
    expectError('mmu_update$MMU_PT_UPDATE_NO_TRANSLATE', 'EBUSY', mmu(1, [{ ptr: ptr(1, L1, 9, NO_TRANSLATE), val: pte(mfn(2, DATA), P) }]).r);
    expectError('mmu_update$MMU_PT_UPDATE_NO_TRANSLATE', 'ESRCH', mmu(1, [{ ptr: ptr(1, L1, 9, NO_TRANSLATE), val: 0n }], 99).r);
    expectError('mmu_update$MMU_PT_UPDATE_NO_TRANSLATE', 'EOPNOTSUPP', mmu(0, [{ ptr: ptr(3, 1, 0, NO_TRANSLATE), val: 0n }], (3 + 1) << 16 | SELF).r);
    expect(ext(0, [{ cmd: PIN1, mfn: mfn(0, L1) }]).r).toBe(0n);
    expectError('mmu_update$MMU_PT_UPDATE_NO_TRANSLATE', 'EACCES', mmu(0, [{ ptr: ptr(0, L1, 2, NO_TRANSLATE), val: pte(d(0).sharedInfoFrame, P | PCD) }]).r);
  });

  it('mmu_update$MMU_MACHPHYS_UPDATE: records the m2p entry; EPERM for a foreign page-table owner; EINVAL for a foreign frame or a translated owner', () => {
    const { mmu, mfn, vmm } = setup();
    const at = (dom: number, g0: number) => BigInt(mfn(dom, g0)) * BigInt(PAGE_SIZE) + BigInt(MACHPHYS);
    expect(mmu(1, [{ ptr: at(1, DATA), val: 77n }]).r).toBe(0n);
    expect(pvMmu(vmm)!.m2p(mfn(1, DATA))).toBe(77n);
    expectError('mmu_update$MMU_MACHPHYS_UPDATE', 'EINVAL', mmu(1, [{ ptr: at(2, DATA), val: 1n }]).r);
    expectError('mmu_update$MMU_MACHPHYS_UPDATE', 'EPERM', mmu(0, [{ ptr: at(2, DATA), val: 1n }], (2 + 1) << 16 | 2).r);
    expectError('mmu_update$MMU_MACHPHYS_UPDATE', 'EINVAL', mmu(1, [{ ptr: at(3, 1), val: 1n }], 3).r);
    expectError('mmu_update$MMU_MACHPHYS_UPDATE', 'EPERM', mmu(1, [{ ptr: at(2, DATA), val: 1n }], 2).r);
    expectError('mmu_update$MMU_MACHPHYS_UPDATE', 'ESRCH', mmu(1, [{ ptr: at(1, DATA), val: 1n }], 1).r);
    // dom0 may set another domain's entries.
    expect(mmu(0, [{ ptr: at(2, DATA), val: 5n }], 2).r).toBe(0n);
    expect(pvMmu(vmm)!.m2p(mfn(2, DATA))).toBe(5n);
  });

  it('mmu_update$MMU_NORMAL_PT_UPDATE: EFAULT for an unreadable request (pdone reports the work done) and for Xen’s hole', () => {
    const { vmm } = setup();
    const g = new XenGuest(new VmmTransport(vmm, 1));
    const pdone = BigInt(ARGS * PAGE_SIZE + 4000);
    // The array straddles the end of RAM: the first request (a plain store into gfn 31) works, the second faults.
    // (gfn 32 is the shared_info page; gfn 33 is unpopulated.)
    const last = 33 * PAGE_SIZE - 16;
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigUint64(0, BigInt(vmm.machine.frameOf(1, gfn(20))!) * BigInt(PAGE_SIZE), true);
    vmm.machine.domain(1)!.memory.write(gaddr(last), b);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EFAULT', g.mmu_update(BigInt(last), 2, pdone, SELF));
    const out = new Uint8Array(4);
    vmm.machine.domain(1)!.memory.read(gaddr(Number(pdone)), out);
    expect(new DataView(out.buffer).getUint32(0, true)).toBe(1);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EFAULT', g.mmu_update(0xffff800000000000n, 1, 0n, SELF));
    // Xen's continuation tail: a null array with the marker count returns foreigndom.
    expect(g.mmu_update(0n, 0x80000000, 0n, 5)).toBe(5n);
  });

  it('update_va_mapping: walks the base pointer to the L1 entry of va, updates it with the L1 checks, flushes as asked', () => {
    const { ext, g, tree, mfn, pte, get, fr, clean, d } = setup();
    tree(1);
    // No base pointer: nothing maps va.
    expectError('update_va_mapping', 'EINVAL', g(1).update_va_mapping(0x2000n, pte(mfn(1, DATA + 2), P), 0n));
    expect(ext(1, [{ cmd: BASEPTR, mfn: mfn(1, L4) }]).r).toBe(0n);
    expect(g(1).update_va_mapping(0x2000n, pte(mfn(1, DATA + 2), P | RW), BigInt(C('UVMF_INVLPG') | C('UVMF_ALL'))).toString()).toBe('0');
    expect(get(1, L1, 2)).toBe(pte(mfn(1, DATA + 2), P | RW | US) | GUEST_KERNEL);
    expect(fr.typeCount[mfn(1, DATA + 2)]).toBe(1);
    clean();
    expectError('update_va_mapping', 'EINVAL', g(1).update_va_mapping(0x40000000n, 0n, 0n));
    expectError('update_va_mapping', 'EINVAL', g(1).update_va_mapping(0xffff800000000000n, 0n, 0n));
    expectError('update_va_mapping', 'EBUSY', g(1).update_va_mapping(0x2000n, pte(mfn(1, L1), P | RW), 0n));
    expectError('update_va_mapping', 'EBUSY', g(1).update_va_mapping(0x2000n, pte(mfn(2, DATA), P), 0n));
    expectError('update_va_mapping', 'EPERM', g(1).update_va_mapping(0x2000n, pte(vmmFrames(d(1)), P), 0n));
    // A bitmap address that faults: the entry is written, then -EFAULT.
    const r = g(1).update_va_mapping(0x3000n, pte(mfn(1, DATA + 3), P), BigInt(C('UVMF_TLB_FLUSH')) | (1n << 40n));
    expectError('update_va_mapping', 'EFAULT', r);
    expect(get(1, L1, 3)).not.toBe(0n);
    clean();
  });

  it('update_va_mapping: the second vCPU has its own base pointer; dom0 cache attributes on shared_info are EACCES', () => {
    const { ext, g, tree, mfn, pte, d } = setup();
    tree(1);
    expect(ext(1, [{ cmd: BASEPTR, mfn: mfn(1, L4) }]).r).toBe(0n);
    expectError('update_va_mapping', 'EINVAL', g(1, 1).update_va_mapping(0x2000n, 0n, 0n));
    expect(ext(1, [{ cmd: BASEPTR, mfn: mfn(1, L4) }], SELF, 1).r).toBe(0n);
    expect(g(1, 1).update_va_mapping(0x2000n, 0n, 0n)).toBe(0n);
    tree(0);
    expect(ext(0, [{ cmd: BASEPTR, mfn: mfn(0, L4) }]).r).toBe(0n);
    expectError('update_va_mapping', 'EACCES', g(0).update_va_mapping(0x2000n, pte(d(0).sharedInfoFrame, P | PCD), 0n));
  });

  it('update_va_mapping_otherdomain: maps a frame of domid; ESRCH for an unknown or own id; EPERM without privilege', () => {
    const { ext, g, tree, mfn, pte, get, clean } = setup();
    tree(0);
    tree(1);
    expect(ext(0, [{ cmd: BASEPTR, mfn: mfn(0, L4) }]).r).toBe(0n);
    expect(ext(1, [{ cmd: BASEPTR, mfn: mfn(1, L4) }]).r).toBe(0n);
    expect(g(0).update_va_mapping_otherdomain(0x2000n, pte(mfn(2, DATA), P | RW), 0n, 2)).toBe(0n);
    expect(get(0, L1, 2)).toBe(pte(mfn(2, DATA), P | RW | US) | GUEST_KERNEL);
    clean();
    expectError('update_va_mapping_otherdomain', 'ESRCH', g(0).update_va_mapping_otherdomain(0x2000n, 0n, 0n, 0));
    expectError('update_va_mapping_otherdomain', 'ESRCH', g(0).update_va_mapping_otherdomain(0x2000n, 0n, 0n, 99));
    expectError('update_va_mapping_otherdomain', 'EPERM', g(1).update_va_mapping_otherdomain(0x2000n, pte(mfn(2, DATA), P), 0n, 2));
    expectError('update_va_mapping_otherdomain', 'EINVAL', g(0).update_va_mapping_otherdomain(0x40000000n, 0n, 0n, 2));
    expectError('update_va_mapping_otherdomain', 'EBUSY', g(0).update_va_mapping_otherdomain(0x2000n, pte(mfn(1, DATA), P), 0n, 2));
    expectError('update_va_mapping_otherdomain', 'EFAULT', g(0).update_va_mapping_otherdomain(0x3000n, 0n, BigInt(C('UVMF_INVLPG')) | (1n << 40n), 2));
    clean();
  });

  it('mmuext_op$MMUEXT_PIN_L3_TABLE: 32-bit PV (PAE): slot 3 needs its own L2; L3 slots 4 and up are cleared; NEW_BASEPTR takes the L3; PIN_L4 is ignored', () => {
    const { ext, put, get, pte, mfn, fr, g, clean, mmu, ptr } = setup('x86_32-pv');
    put(1, L1, 0, pte(mfn(1, DATA), P | RW));
    put(1, L2, 0, pte(mfn(1, L1), P));
    put(1, L3, 0, pte(mfn(1, L2), P));
    put(1, L3, 9, 0x1234n);
    expectError('mmuext_op$MMUEXT_PIN_L3_TABLE', 'EINVAL', ext(1, [{ cmd: PIN3, mfn: mfn(1, L3) }]).r);
    put(1, 6, 0, 0n);
    put(1, L3, 3, pte(mfn(1, 6), P));
    expect(ext(1, [{ cmd: PIN3, mfn: mfn(1, L3) }]).r).toBe(0n);
    expect(get(1, L3, 9)).toBe(0n);
    // 32-bit: L1 entries are stored as given, L3 entries gain USER and RW.
    expect(get(1, L1, 0)).toBe(pte(mfn(1, DATA), P | RW));
    expect(get(1, L3, 0)).toBe(pte(mfn(1, L2), P | RW | US));
    expect(ext(1, [{ cmd: PIN4, mfn: mfn(1, L4) }]).r).toBe(0n);
    expect(fr.typeCount[mfn(1, L4)]).toBe(0);
    expect(ext(1, [{ cmd: BASEPTR, mfn: mfn(1, L3) }]).r).toBe(0n);
    expect(g(1).update_va_mapping(0x1000n, pte(mfn(1, DATA + 1), P), 0n)).toBe(0n);
    expect(get(1, L1, 1)).toBe(pte(mfn(1, DATA + 1), P));
    // Slot 3 of a PAE L3 and Xen's slots of its L2 are not the guest's to change.
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EINVAL', mmu(1, [{ ptr: ptr(1, L3, 3), val: 0n }]).r);
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EPERM', mmu(1, [{ ptr: ptr(1, 6, 500), val: 0n }]).r);
    clean();
  });

  it('mmuext_op$MMUEXT_PIN_L4_TABLE: snapshot and restore bring back types, counts, pins and base pointers', () => {
    const { vmm, ext, tree, mfn, fr, clean } = setup();
    tree(1);
    const snap = vmm.machine.snapshot();
    expect(ext(1, [{ cmd: PIN4, mfn: mfn(1, L4) }, { cmd: BASEPTR, mfn: mfn(1, L4) }]).r).toBe(0n);
    expect(fr.typeCount[mfn(1, L4)]).toBe(2);
    vmm.machine.restore(snap);
    expect(fr.typeCount[mfn(1, L4)]).toBe(0);
    expect(fr.pinned[mfn(1, L4)]).toBe(0);
    clean();
    expect(ext(1, [{ cmd: PIN4, mfn: mfn(1, L4) }]).r).toBe(0n);
    clean();
  });
});

/** A frame number beyond the machine's RAM: I/O memory to the MMU. */
function vmmFrames(d: { memory: { view: DataView } }): number {
  return d.memory.view.byteLength / PAGE_SIZE;
}

describe('reference-vmm x86 PV MMU: preempted batches continue as Xen’s continuation rewrites them', () => {
  const PREEMPTED = 0x80000000n;
  const LIST = 10 * PAGE_SIZE;
  const PDONE = 14 * PAGE_SIZE;
  type Setup = ReturnType<typeof setup>;
  const hc = (name: string) => BigInt(xenSpec.hypercalls.find((h) => h.name === name)!.number);

  /**
   * Issues one mmu_update or mmuext_op of `count` elements (the bytes in `list`, at gfn 10)
   * with raw registers, pdone at gfn 14; returns the result, pdone, and the hypercall number
   * and four argument registers the guest held after the last continuation (if any).
   */
  const batch = (s: Setup, name: 'mmu_update' | 'mmuext_op', list: Uint8Array, count: number, dom = 1) => {
    const d = s.d(dom);
    const conv = d.abi.convention;
    d.memory.write(gaddr(LIST), list);
    d.memory.write(gaddr(PDONE), new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    const [a0, a1, a2, a3] = conv.args as [string, string, string, string];
    const r = s.vmm.hypercallSigned(dom, 0, { [conv.number]: hc(name), [a0]: BigInt(LIST), [a1]: BigInt(count), [a2]: BigInt(PDONE), [a3]: BigInt(SELF) });
    const out = new Uint8Array(4);
    d.memory.read(gaddr(PDONE), out);
    const c = s.vmm.lastContinuation;
    return { r, done: new DataView(out.buffer).getUint32(0, true), cont: c && [c[conv.number], c[a0], c[a1], c[a2], c[a3]] };
  };
  /** mmu_update requests as guest bytes. */
  const reqs = (rs: { ptr: bigint; val: bigint }[]) => {
    const b = new Uint8Array(rs.length * 16);
    const v = new DataView(b.buffer);
    rs.forEach((q, i) => {
      v.setBigUint64(i * 16, q.ptr, true);
      v.setBigUint64(i * 16 + 8, q.val, true);
    });
    return b;
  };
  /** mmuext_op operations as 64-bit (24-byte) or 32-bit (12-byte) guest bytes. */
  const ops = (os: { cmd: number; a1?: bigint; a2?: bigint }[], size = 24) => {
    const b = new Uint8Array(os.length * size);
    const v = new DataView(b.buffer);
    os.forEach((o, i) => {
      v.setUint32(i * size, o.cmd, true);
      if (size === 24) {
        v.setBigUint64(i * size + 8, o.a1 ?? 0n, true);
        v.setBigUint64(i * size + 16, o.a2 ?? 0n, true);
      } else {
        v.setUint32(i * size + 4, Number(o.a1 ?? 0n), true);
        v.setUint32(i * size + 8, Number(o.a2 ?? 0n), true);
      }
    });
    return b;
  };
  /** Everything the batches change: domain 1's frames (bytes, type, counts, pin), its vCPU 0 MMU registers, the m2p. */
  const state = (s: Setup) => {
    const page = new Uint8Array(PAGE_SIZE);
    const frames = Array.from({ length: 32 }, (_, g0) => {
      const m = s.mfn(1, g0);
      s.d(1).memory.read(gaddr(g0 * PAGE_SIZE), page);
      return [Buffer.from(page).toString('base64'), s.fr.type[m], s.fr.typeCount[m], s.fr.refCount[m], s.fr.pinned[m], pvMmu(s.vmm)!.m2p(m)];
    });
    const v = pvMmu(s.vmm)!.vcpu(s.d(1), 0);
    return { frames, vcpu: { ...v } };
  };
  /** The same scenario without preemption and preempted at every `every`-th check. */
  const both = (every: number, abi: string, scenario: (s: Setup) => ReturnType<typeof batch>) => {
    const plain = setup(abi);
    const pre = setup(abi, every);
    const a = scenario(plain);
    const b = scenario(pre);
    expect(a.cont).toBeUndefined();
    expect(b.r).toBe(a.r);
    expect(b.done).toBe(a.done);
    expect(state(pre)).toEqual(state(plain));
    plain.clean();
    pre.clean();
    return b;
  };

  const updates = (s: Setup, failAt?: number) => {
    s.tree(1);
    expect(s.ext(1, [{ cmd: PIN4, mfn: s.mfn(1, L4) }]).r).toBe(0n);
    // Ten requests: read-only mappings into slots 2.. of the pinned L1, one m2p update, one plain store.
    const rs = Array.from({ length: 10 }, (_, k) => ({ ptr: s.ptr(1, L1, 2 + k), val: s.pte(s.mfn(1, 7 + k), P) }));
    rs[4] = { ptr: s.ptr(1, 20, 0, MACHPHYS), val: 0x1234n };
    rs[5] = { ptr: s.ptr(1, 21, 3), val: 0xabcdn };
    // A frame of another domain: EINVAL.
    if (failAt !== undefined) rs[failAt] = { ptr: s.ptr(2, DATA, 0), val: 0n };
    return batch(s, 'mmu_update', reqs(rs), rs.length);
  };

  it('mmu_update$MMU_NORMAL_PT_UPDATE: a preempted batch ends with the same page tables, pdone = N and 0; the guest holds ureqs + done, (N - done) | PREEMPTED, pdone, foreigndom', () => {
    const r = both(3, 'x86_64-pv', (s) => updates(s));
    expect(r.r).toBe(0n);
    expect(r.done).toBe(10);
    // Preempted at the third check of each run: after 3, 6 and 9 requests.
    expect(r.cont).toEqual([hc('mmu_update'), BigInt(LIST + 9 * 16), PREEMPTED | 1n, BigInt(PDONE), BigInt(SELF)]);
    // Preempted after every request.
    expect(both(1, 'x86_64-pv', (s) => updates(s)).cont).toEqual([hc('mmu_update'), BigInt(LIST + 9 * 16), PREEMPTED | 1n, BigInt(PDONE), BigInt(SELF)]);
  });

  it('mmu_update$MMU_NORMAL_PT_UPDATE: a failure in a preempted batch reports pdone = its index and its errno', () => {
    const r = both(3, 'x86_64-pv', (s) => updates(s, 7));
    expectError('mmu_update$MMU_NORMAL_PT_UPDATE', 'EINVAL', r.r);
    expect(r.done).toBe(7);
    // The last continuation before the failure: after 6 requests, 4 left.
    expect(r.cont).toEqual([hc('mmu_update'), BigInt(LIST + 6 * 16), PREEMPTED | 4n, BigInt(PDONE), BigInt(SELF)]);
  });

  it('mmu_update$MMU_NORMAL_PT_UPDATE: 32-bit PV continues with its own registers, as the 64-bit guest', () => {
    const scenario = (s: Setup) => {
      const rs = Array.from({ length: 5 }, (_, k) => ({ ptr: s.ptr(1, 21, k), val: BigInt(k + 1) }));
      return batch(s, 'mmu_update', reqs(rs), rs.length);
    };
    const r = both(2, 'x86_32-pv', scenario);
    expect([r.r, r.done]).toEqual([0n, 5]);
    expect(r.cont).toEqual([hc('mmu_update'), BigInt(LIST + 4 * 16), PREEMPTED | 1n, BigInt(PDONE), BigInt(SELF)]);
  });

  it('mmu_update$MMU_NORMAL_PT_UPDATE: preempted inside a multicall, the entry keeps the rewritten arguments and the multicall restarts at it', () => {
    const MC = 13 * PAGE_SIZE;
    const r = both(3, 'x86_64-pv', (s) => {
      // The batch of `updates`, issued as entry 0 of a multicall instead.
      const plain = setup();
      updates(plain);
      const list = new Uint8Array(10 * 16);
      plain.d(1).memory.read(gaddr(LIST), list);
      s.tree(1);
      expect(s.ext(1, [{ cmd: PIN4, mfn: s.mfn(1, L4) }]).r).toBe(0n);
      const d = s.d(1);
      d.memory.write(gaddr(LIST), list);
      d.memory.write(gaddr(PDONE), new Uint8Array([0xff, 0xff, 0xff, 0xff]));
      const codec = codecsByArch.x86_64.MulticallEntry;
      const buf = new Uint8Array(codec.size);
      codec.encode(new DataView(buf.buffer), 0, { op: hc('mmu_update'), result: 0x5a5an, args: [BigInt(LIST), 10n, BigInt(PDONE), BigInt(SELF), 0n, 0n] });
      d.memory.write(gaddr(MC), buf);
      const conv = d.abi.convention;
      const rc = s.vmm.hypercallSigned(1, 0, { [conv.number]: hc('multicall'), [conv.args[0]!]: BigInt(MC), [conv.args[1]!]: 1n });
      expect(rc).toBe(0n);
      d.memory.read(gaddr(MC), buf);
      const e = codec.decode(new DataView(buf.buffer), 0);
      // The entry differs between the runs (rewritten arguments): checked below, left out of the state compared.
      d.memory.write(gaddr(MC), new Uint8Array(codec.size));
      const out = new Uint8Array(4);
      d.memory.read(gaddr(PDONE), out);
      const c = s.vmm.lastContinuation;
      return { r: e.result, done: new DataView(out.buffer).getUint32(0, true), cont: c && [c[conv.number], c[conv.args[0]!], c[conv.args[1]!], ...e.args.slice(0, 4)] };
    });
    expect([r.r, r.done]).toEqual([0n, 10]);
    expect(r.cont).toEqual([hc('multicall'), BigInt(13 * PAGE_SIZE), 1n, BigInt(LIST + 9 * 16), PREEMPTED | 1n, BigInt(PDONE), BigInt(SELF)]);
  });

  const extOps = (s: Setup, failAt?: number) => {
    s.tree(1);
    s.put(1, DATA + 2, 7, 0x5555n);
    const os = [
      { cmd: PIN4, a1: BigInt(s.mfn(1, L4)) },
      { cmd: C('MMUEXT_TLB_FLUSH_LOCAL') },
      { cmd: BASEPTR, a1: BigInt(s.mfn(1, L4)) },
      { cmd: C('MMUEXT_SET_LDT'), a1: 0x10000n, a2: 16n },
      { cmd: C('MMUEXT_CLEAR_PAGE'), a1: BigInt(s.mfn(1, DATA + 2)) },
      { cmd: C('MMUEXT_INVLPG_LOCAL'), a1: 0n },
      { cmd: PIN1, a1: BigInt(s.mfn(1, 9)) },
      { cmd: UNPIN, a1: BigInt(s.mfn(1, 9)) },
    ];
    // Unpinning a frame that is not pinned: EINVAL.
    if (failAt !== undefined) os[failAt] = { cmd: UNPIN, a1: BigInt(s.mfn(1, 10 + 5)) };
    return batch(s, 'mmuext_op', ops(os), os.length);
  };

  it('mmuext_op$MMUEXT_PIN_L4_TABLE: a preempted batch ends with the same pins, base pointer and LDT, pdone = N and 0; the guest holds uops + done, (N - done) | PREEMPTED, pdone, foreigndom', () => {
    const r = both(2, 'x86_64-pv', (s) => extOps(s));
    expect(r.r).toBe(0n);
    expect(r.done).toBe(8);
    // Preempted at the second check of each run: after 2, 4 and 6 operations.
    expect(r.cont).toEqual([hc('mmuext_op'), BigInt(LIST + 6 * 24), PREEMPTED | 2n, BigInt(PDONE), BigInt(SELF)]);
  });

  it('mmuext_op$MMUEXT_UNPIN_TABLE: a failure in a preempted batch reports pdone = its index and its errno', () => {
    const r = both(2, 'x86_64-pv', (s) => extOps(s, 5));
    expectError('mmuext_op$MMUEXT_UNPIN_TABLE', 'EINVAL', r.r);
    expect(r.done).toBe(5);
    expect(r.cont).toEqual([hc('mmuext_op'), BigInt(LIST + 4 * 24), PREEMPTED | 4n, BigInt(PDONE), BigInt(SELF)]);
  });

  it('mmuext_op$MMUEXT_TLB_FLUSH_LOCAL: 32-bit PV goes through compat_mmuext_op, whose chunks of 341 skip the check at each chunk start', () => {
    const flushes = (size: number) => (s: Setup) => batch(s, 'mmuext_op', ops(Array.from({ length: 400 }, () => ({ cmd: C('MMUEXT_TLB_FLUSH_LOCAL') })), size), 400);
    // 64-bit: the 341st check is before operation 341.
    const r64 = both(341, 'x86_64-pv', flushes(24));
    expect([r64.r, r64.done]).toEqual([0n, 400]);
    expect(r64.cont).toEqual([hc('mmuext_op'), BigInt(LIST + 341 * 24), PREEMPTED | 59n, BigInt(PDONE), BigInt(SELF)]);
    // 32-bit: operation 341 starts a chunk (no check), so the 341st check is before operation 342.
    const r32 = both(341, 'x86_32-pv', flushes(12));
    expect([r32.r, r32.done]).toEqual([0n, 400]);
    expect(r32.cont).toEqual([hc('mmuext_op'), BigInt(LIST + 342 * 12), PREEMPTED | 58n, BigInt(PDONE), BigInt(SELF)]);
  });
});
