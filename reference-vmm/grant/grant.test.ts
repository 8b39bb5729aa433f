/**
 * Grant tables of the reference VMM, driven only through hypercall() (the generated guest
 * stubs over an in-process transport, or raw registers) and guest memory: the granter writes
 * its entries at the gfns where its table frames are mapped (just beyond RAM and shared_info).
 *
 * Declared errors the model cannot produce, and why:
 * - GNTST_permission_denied from XSM (every op): only the default (dummy) policy exists.
 * - GNTST_eagain for paged or shared frames (map, copy): no paging or sharing.
 * - map: granted I/O memory, IOMMU failure, unstable entry (no concurrent guest writes),
 *   unpinnable frame (needs a page-table-typed frame: the PV MMU is another subsystem).
 * - setup_table / set_version ENOMEM / out-of-memory: only when the host runs out of frames.
 * - set_version EAGAIN: v2 copies never outlive a hypercall here.
 * - transfer: address_too_big (frames here are all below 2^32) and receiver-full (no
 *   max_pages model); copy: granter-dying (domains never die).
 * - unmap: IOMMU failure (no IOMMU).
 *
 * PV host mappings are L1 entries: domain 2 runs on a pinned 4-level tree whose one L1 covers
 * linear addresses 0 to 2 MiB (gfns PT_L4..PT_L1), so its host_addr values land in real entries.
 * - dump_table EFAULT: do_grant_table_op has no case for it, so it is -ENOSYS before any access.
 */
import { describe, expect, it } from 'vitest';
import { XenGuest } from '../../generated/xen/guest.js';
import type { GnttabCopy, GnttabMapGrantRef } from '../../generated/xen/types.js';
import { constantValue, xenSpec } from '../../spec/index.js';
import { gaddr, gfn, PAGE_SIZE } from '../addr.js';
import { VmmTransport } from '../transport.js';
import { ReferenceVmm } from '../vmm.js';
import { expectError } from '../../test/vmm-errors.js';
import { grantTables } from './handlers.js';

const C = (n: string): number => constantValue(xenSpec, n) as number;
const E = (n: string): bigint => -BigInt(C(`XEN_${n}`));
const S = (n: string): number => C(n);
const SELF = C('DOMID_SELF');
const GNTTAB = BigInt(C('__HYPERVISOR_grant_table_op'));
const RAM = 16;
const SCRATCH = 12 * PAGE_SIZE;
/** Domain 2's page tables (gfns) and the page its mmuext_op arguments go to. */
const PT_L4 = 8;
const PT_L3 = 9;
const PT_L2 = 10;
const PT_L1 = 11;
const ARGS = 13;
// Hardware PTE bits (x86 architecture, not public Xen ABI).
const P = 0x1n;
const W = 0x2n;
const US = 0x4n;
const A = 0x20n;
const D = 0x40n;
const G = 0x100n;
const GUEST_KERNEL = 1n << 52n;
const NX = 1n << 63n;

function setup(opts: { maptrack1?: boolean } = {}) {
  const vmm = new ReferenceVmm({
    domains: [
      { id: 0, abi: 'x86_64-pv', memoryPages: RAM, privileged: true },
      { id: 1, abi: 'x86_64-pv', memoryPages: RAM, vcpus: 2 },
      { id: 2, abi: 'x86_64-pv', memoryPages: RAM, maxPages: RAM + 1 },
      { id: 3, abi: 'x86_64-hvm', memoryPages: RAM },
      { id: 4, abi: 'arm64', memoryPages: RAM },
      { id: 5, abi: 'x86_32-pv', memoryPages: RAM },
    ],
  });
  if (opts.maptrack1) grantTables(vmm).configure(2, { maxMaptrackFrames: 1 });
  const g = (domid: number) => new XenGuest(new VmmTransport(vmm, domid, 0, SCRATCH));
  const d = (id: number) => vmm.machine.domain(id)!;
  const mfnOf = (domid: number, gf: number) => vmm.machine.frameOf(domid, gfn(gf)) as number;
  const tableGfn = (domid: number, i = 0) => d(domid).sharedInfoGfn + 1 + i;
  const read = (domid: number, addr: number, n: number) => {
    const b = new Uint8Array(n);
    if (!d(domid).memory.read(gaddr(addr), b)) throw new Error('read fault');
    return b;
  };
  const write = (domid: number, addr: number, b: Uint8Array) => {
    if (!d(domid).memory.write(gaddr(addr), b)) throw new Error('write fault');
  };
  // Grant entry access as the granting guest does it: ordinary memory writes to its table frames.
  const entryV1 = (domid: number, ref: number, flags: number, dom: number, frame: number) => {
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setUint16(0, flags, true);
    v.setUint16(2, dom, true);
    v.setUint32(4, frame, true);
    write(domid, tableGfn(domid) * PAGE_SIZE + ref * 8, b);
  };
  const flagsV1 = (domid: number, ref: number) => new DataView(read(domid, tableGfn(domid) * PAGE_SIZE + ref * 8, 2).buffer).getUint16(0, true);
  const setup1 = (domid: number, n = 1) => g(domid).grant_table_op$GNTTABOP_setup_table([{ dom: SELF, nr_frames: n, status: 0, frame_list: BigInt(SCRATCH + 2048) }]);
  const mapOp = (over: Partial<GnttabMapGrantRef>): GnttabMapGrantRef => ({
    host_addr: 0x10000n,
    flags: C('GNTMAP_host_map'),
    ref: 8,
    dom: 1,
    status: 0,
    handle: 0,
    dev_bus_addr: 0n,
    ...over,
  });
  const map1 = (domid: number, over: Partial<GnttabMapGrantRef>) => g(domid).grant_table_op$GNTTABOP_map_grant_ref([mapOp(over)]).arg[0]!;
  const unmap1 = (domid: number, handle: number, host_addr = 0x10000n, dev_bus_addr = 0n) =>
    g(domid).grant_table_op$GNTTABOP_unmap_grant_ref([{ host_addr, dev_bus_addr, handle, status: 0 }]).arg[0]!.status;
  const pte = (domid: number, g0: number, slot: number): bigint => new DataView(read(domid, g0 * PAGE_SIZE + slot * 8, 8).buffer).getBigUint64(0, true);
  const setPte = (domid: number, g0: number, slot: number, v: bigint) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    write(domid, g0 * PAGE_SIZE + slot * 8, b);
  };
  /** The guest builds L4 -> L3 -> L2 -> an empty L1 (linear 0 to 2 MiB), pins the L4 and makes it its base pointer. */
  const paging = (domid: number) => {
    setPte(domid, PT_L2, 0, (BigInt(mfnOf(domid, PT_L1)) << 12n) | P | W);
    setPte(domid, PT_L3, 0, (BigInt(mfnOf(domid, PT_L2)) << 12n) | P | W);
    setPte(domid, PT_L4, 0, (BigInt(mfnOf(domid, PT_L3)) << 12n) | P | W);
    const ops = new Uint8Array(48);
    const v = new DataView(ops.buffer);
    v.setUint32(0, C('MMUEXT_PIN_L4_TABLE'), true);
    v.setBigUint64(8, BigInt(mfnOf(domid, PT_L4)), true);
    v.setUint32(24, C('MMUEXT_NEW_BASEPTR'), true);
    v.setBigUint64(32, BigInt(mfnOf(domid, PT_L4)), true);
    write(domid, ARGS * PAGE_SIZE, ops);
    const r = g(domid).mmuext_op(BigInt(ARGS * PAGE_SIZE), 2, 0n, SELF);
    if (r !== 0n) throw new Error(`domain ${domid}: page tables refused (${r})`);
  };
  paging(2);
  /** Domain 1 grants its RAM page `page` to `to` at `ref`. */
  const grant = (ref: number, to: number, page = 3, extra = 0) => {
    setup1(1);
    entryV1(1, ref, C('GTF_permit_access') | extra, to, mfnOf(1, page));
  };
  return { vmm, g, d, mfnOf, tableGfn, read, write, entryV1, flagsV1, setup1, map1, unmap1, grant, mapOp, pte };
}

const RW = C('GTF_reading') | C('GTF_writing');

describe('reference-vmm grant tables', () => {
  it('grant_table_op$GNTTABOP_setup_table: PV gets machine frames of its table, mapped beyond shared_info; grows on demand', () => {
    const { g, vmm, d, read, tableGfn } = setup();
    const r = g(1).grant_table_op$GNTTABOP_setup_table([{ dom: SELF, nr_frames: 3, status: 0, frame_list: BigInt(SCRATCH + 2048) }]);
    expect(r.result).toBe(0n);
    expect(r.arg[0]!.status).toBe(S('GNTST_okay'));
    const list = new BigUint64Array(read(1, SCRATCH + 2048, 24).buffer);
    for (let i = 0; i < 3; i++) expect(list[i]).toBe(BigInt(vmm.machine.frameOf(1, gfn(tableGfn(1, i)))!));
    expect(vmm.machine.frames.owner[Number(list[2])]).toBe(1);
    const q = g(1).grant_table_op$GNTTABOP_query_size([{ dom: SELF, nr_frames: 0, max_nr_frames: 0, status: 0 }]);
    expect(q.arg[0]).toMatchObject({ nr_frames: 3, max_nr_frames: 64, status: 0 });
    // A translated guest gets the guest frames instead.
    const h = g(3).grant_table_op$GNTTABOP_setup_table([{ dom: SELF, nr_frames: 1, status: 0, frame_list: BigInt(SCRATCH + 2048) }]);
    expect(h.arg[0]!.status).toBe(0);
    expect(new BigUint64Array(read(3, SCRATCH + 2048, 8).buffer)[0]).toBe(BigInt(d(3).sharedInfoGfn + 1));
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('grant_table_op$GNTTABOP_setup_table: EINVAL, EFAULT, bad_domain, permission_denied, general_error, bad_virt_addr', () => {
    const { g, vmm } = setup();
    const st = (dom: number, nr: number, list = BigInt(SCRATCH + 2048)) => g(1).grant_table_op$GNTTABOP_setup_table([{ dom, nr_frames: nr, status: 0, frame_list: list }]);
    expectError('grant_table_op$GNTTABOP_setup_table', 'EINVAL', g(1).grant_table_op$GNTTABOP_setup_table([
      { dom: SELF, nr_frames: 1, status: 0, frame_list: 0n },
      { dom: SELF, nr_frames: 1, status: 0, frame_list: 0n },
    ]).result);
    expectError('grant_table_op$GNTTABOP_setup_table', 'EFAULT', st(SELF, 1, 1n << 47n).result);
    expectError('grant_table_op$GNTTABOP_setup_table', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: GNTTAB, rdi: BigInt(C('GNTTABOP_setup_table')), rsi: 0x7fff_0000n, rdx: 1n }));
    expectError('grant_table_op$GNTTABOP_setup_table', 'GNTST_bad_domain', st(9, 1).arg[0]!.status);
    expectError('grant_table_op$GNTTABOP_setup_table', 'GNTST_permission_denied', st(2, 1).arg[0]!.status);
    expectError('grant_table_op$GNTTABOP_setup_table', 'GNTST_general_error', st(SELF, 65).arg[0]!.status);
    expectError('grant_table_op$GNTTABOP_setup_table', 'GNTST_bad_virt_addr', st(SELF, 1, 0x7fff_0000n).arg[0]!.status);
    // 32-bit PV: count 0 does nothing and returns 0.
    expect(vmm.hypercallSigned(5, 0, { ebx: BigInt(C('GNTTABOP_setup_table')), eax: GNTTAB, ecx: BigInt(SCRATCH), edx: 0n })).toBe(0n);
  });

  it('grant_table_op$GNTTABOP_query_size: dom0 may query others; EINVAL, EFAULT, bad_domain, permission_denied', () => {
    const { g, vmm } = setup();
    const q = (from: number, dom: number) => g(from).grant_table_op$GNTTABOP_query_size([{ dom, nr_frames: 0, max_nr_frames: 0, status: 0 }]).arg[0]!;
    expect(q(0, 2)).toMatchObject({ nr_frames: 1, max_nr_frames: 64, status: 0 });
    expectError('grant_table_op$GNTTABOP_query_size', 'GNTST_bad_domain', q(1, 9).status);
    expectError('grant_table_op$GNTTABOP_query_size', 'GNTST_permission_denied', q(1, 2).status);
    expectError('grant_table_op$GNTTABOP_query_size', 'EINVAL', g(1).grant_table_op$GNTTABOP_query_size([]).result);
    expectError('grant_table_op$GNTTABOP_query_size', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: GNTTAB, rdi: BigInt(C('GNTTABOP_query_size')), rsi: 0x7fff_0000n, rdx: 1n }));
  });

  it('grant_table_op$GNTTABOP_map_grant_ref: maps a v1 grant; GTF_reading/writing appear in the granter entry; unmap clears them', () => {
    const { g, vmm, grant, map1, unmap1, flagsV1, mfnOf } = setup();
    grant(8, 2);
    const ro = map1(2, { flags: C('GNTMAP_host_map') | C('GNTMAP_readonly') });
    expect(ro.status).toBe(0);
    expect(ro.handle).toBe(0);
    expect(ro.dev_bus_addr).toBe(BigInt(mfnOf(1, 3)) << 12n);
    expect(flagsV1(1, 8) & RW).toBe(C('GTF_reading'));
    const rw = map1(2, { host_addr: 0x11000n, flags: C('GNTMAP_host_map') | C('GNTMAP_device_map') });
    expect(rw.status).toBe(0);
    expect(rw.handle).toBe(1);
    expect(flagsV1(1, 8) & RW).toBe(RW);
    expect(vmm.machine.invariants()).toEqual([]);
    expect(unmap1(2, 1, 0x11000n, rw.dev_bus_addr)).toBe(0);
    expect(flagsV1(1, 8) & RW).toBe(C('GTF_reading'));
    expect(unmap1(2, 0)).toBe(0);
    expect(flagsV1(1, 8) & RW).toBe(0);
    // Freed handles go to the tail of the free list: the next map gets handle 2.
    expect(map1(2, {}).handle).toBe(2);
    expect(vmm.machine.invariants()).toEqual([]);
    expect(vmm.internalErrors).toEqual([]);
    void g;
  });

  it('grant_table_op$GNTTABOP_map_grant_ref: a PV host mapping is the L1 entry of host_addr, holding the frame (and its writable type) until unmap clears it', () => {
    const { vmm, grant, map1, unmap1, pte, mfnOf } = setup();
    grant(8, 2);
    const frame = mfnOf(1, 3);
    const fr = vmm.machine.frames;
    const refs0 = fr.refCount[frame]!;
    const types0 = fr.typeCount[frame]!;
    const at = (slot: number) => pte(2, PT_L1, slot);
    // Writable: present, accessed, dirty, Xen's grant and NX bits; a kernel mapping of a 64-bit PV guest gets USER and GUEST_KERNEL.
    const rw = map1(2, { host_addr: 0x5000n });
    expect(rw.status).toBe(0);
    expect(at(5)).toBe((BigInt(frame) << 12n) | P | W | A | D | US | GUEST_KERNEL | NX); // no _PAGE_GNTTAB (bit 62): 0 in release builds
    expect([fr.refCount[frame], fr.typeCount[frame]]).toEqual([refs0 + 1, types0 + 1]);
    // GNTMAP_readonly: no RW bit and no type reference; GNTMAP_application_map: a user (global) mapping.
    const ro = map1(2, { host_addr: 0x6000n, flags: C('GNTMAP_host_map') | C('GNTMAP_readonly') | C('GNTMAP_application_map') });
    expect(ro.status).toBe(0);
    expect(at(6)).toBe((BigInt(frame) << 12n) | P | A | D | US | G | NX); // no _PAGE_GNTTAB (bit 62): 0 in release builds
    expect([fr.refCount[frame], fr.typeCount[frame]]).toEqual([refs0 + 2, types0 + 1]);
    expect(vmm.machine.invariants()).toEqual([]);
    expect(unmap1(2, rw.handle, 0x5000n)).toBe(0);
    expect(at(5)).toBe(0n);
    expect([fr.refCount[frame], fr.typeCount[frame]]).toEqual([refs0 + 1, types0]);
    expect(unmap1(2, ro.handle, 0x6000n)).toBe(0);
    expect(at(6)).toBe(0n);
    expect([fr.refCount[frame], fr.typeCount[frame]]).toEqual([refs0, types0]);
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('grant_table_op$GNTTABOP_map_grant_ref: general_error when no L1 maps host_addr or the contains_pte frame is not an L1; the entry it would replace is dropped', () => {
    const { vmm, g, grant, map1, pte, mfnOf, flagsV1 } = setup();
    grant(8, 2);
    const frame = mfnOf(1, 3);
    const refs0 = vmm.machine.frames.refCount[frame]!;
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_general_error', map1(2, { host_addr: 0x4000_0000n }).status); // L3 slot 1 not present
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_general_error', map1(2, { host_addr: 1n << 47n }).status); // not a guest address
    const dataPte = (BigInt(mfnOf(2, 5)) << 12n) + 8n;
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_general_error', map1(2, { flags: C('GNTMAP_host_map') | C('GNTMAP_contains_pte'), host_addr: dataPte }).status);
    const foreignL1 = (BigInt(mfnOf(1, 5)) << 12n) + 8n;
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_general_error', map1(2, { flags: C('GNTMAP_host_map') | C('GNTMAP_contains_pte'), host_addr: foreignL1 }).status);
    expect(flagsV1(1, 8) & RW).toBe(0);
    expect(vmm.machine.frames.refCount[frame]).toBe(refs0);
    // A present entry at host_addr is replaced, and what it held dropped: the guest maps its page 6 at 0x7000 first.
    const own = mfnOf(2, 6);
    const ownRefs = vmm.machine.frames.refCount[own]!;
    expect(g(2).update_va_mapping(0x7000n, (BigInt(own) << 12n) | P | W, 0n)).toBe(0n);
    expect(vmm.machine.frames.refCount[own]).toBe(ownRefs + 1);
    expect(map1(2, { host_addr: 0x7000n }).status).toBe(0);
    expect(pte(2, PT_L1, 7) >> 12n & 0xffffffffffn).toBe(BigInt(frame));
    expect(vmm.machine.frames.refCount[own]).toBe(ownRefs);
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('grant_table_op$GNTTABOP_map_grant_ref: GNTMAP_contains_pte writes the entry at the machine address host_addr; unmap clears it there', () => {
    const { vmm, grant, map1, unmap1, pte, mfnOf } = setup();
    grant(8, 2);
    const frame = mfnOf(1, 3);
    const refs0 = vmm.machine.frames.refCount[frame]!;
    const flags = C('GNTMAP_host_map') | C('GNTMAP_contains_pte') | C('GNTMAP_readonly');
    const addr = (BigInt(mfnOf(2, PT_L1)) << 12n) + 9n * 8n;
    const m = map1(2, { flags, host_addr: addr });
    expect(m.status).toBe(0);
    expect(pte(2, PT_L1, 9)).toBe((BigInt(frame) << 12n) | P | A | D | US | GUEST_KERNEL | NX); // no _PAGE_GNTTAB (bit 62): 0 in release builds
    expect(vmm.machine.frames.refCount[frame]).toBe(refs0 + 1);
    expect(vmm.machine.invariants()).toEqual([]);
    // Unmapping through the linear address is the wrong space: the contains_pte flag decides how host_addr reads.
    expectError('grant_table_op$GNTTABOP_unmap_grant_ref', 'GNTST_general_error', unmap1(2, m.handle, 0x9000n));
    expect(unmap1(2, m.handle, addr)).toBe(0);
    expect(pte(2, PT_L1, 9)).toBe(0n);
    expect(vmm.machine.frames.refCount[frame]).toBe(refs0);
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('grant_table_op$GNTTABOP_unmap_grant_ref: general_error when the entry at host_addr maps another frame (XSA-234), including after the guest replaced the grant entry', () => {
    const { vmm, g, grant, map1, unmap1, pte, mfnOf, flagsV1 } = setup();
    grant(8, 2);
    const frame = mfnOf(1, 3);
    const fr = vmm.machine.frames;
    const refs0 = fr.refCount[frame]!;
    const types0 = fr.typeCount[frame]!;
    const own = mfnOf(2, 6);
    expect(g(2).update_va_mapping(0x8000n, (BigInt(own) << 12n) | P | W, 0n)).toBe(0n);
    const m = map1(2, { host_addr: 0x5000n });
    expect(m.status).toBe(0);
    expectError('grant_table_op$GNTTABOP_unmap_grant_ref', 'GNTST_general_error', unmap1(2, m.handle, 0x8000n));
    expect(pte(2, PT_L1, 8) >> 12n & 0xffffffffffn).toBe(BigInt(own)); // left alone
    expect(pte(2, PT_L1, 5) >> 12n & 0xffffffffffn).toBe(BigInt(frame));
    // The guest overwrites the grant entry itself: Xen drops what the entry held (and injects #GP);
    // the grant stays pinned and can no longer be unmapped at that address.
    expect(g(2).update_va_mapping(0x5000n, (BigInt(own) << 12n) | P, 0n)).toBe(0n);
    expect([fr.refCount[frame], fr.typeCount[frame]]).toEqual([refs0, types0]);
    expectError('grant_table_op$GNTTABOP_unmap_grant_ref', 'GNTST_general_error', unmap1(2, m.handle, 0x5000n));
    expect(flagsV1(1, 8) & RW).toBe(RW);
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('grant_table_op$GNTTABOP_map_grant_ref: bad_gntref, bad_domain, general_error, bad_page as Xen orders them', () => {
    const { grant, map1, entryV1, mfnOf, flagsV1 } = setup();
    grant(8, 2);
    grant(9, 2, 4, C('GTF_readonly'));
    grant(10, 0);
    entryV1(1, 11, C('GTF_permit_access'), 2, mfnOf(2, 3)); // a frame of another domain
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_bad_gntref', map1(2, { flags: C('GNTMAP_readonly') }).status);
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_general_error', map1(3, { flags: C('GNTMAP_host_map') | C('GNTMAP_device_map') }).status);
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_bad_domain', map1(2, { dom: 9 }).status);
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_bad_domain', map1(2, { dom: SELF }).status);
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_bad_gntref', map1(2, { ref: 512 }).status);
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_general_error', map1(2, { ref: 10 }).status);
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_general_error', map1(2, { ref: 9 }).status);
    expect(flagsV1(1, 9) & RW).toBe(0);
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_bad_page', map1(2, { ref: 11 }).status);
    expect(flagsV1(1, 11) & RW).toBe(0);
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_general_error', map1(2, { flags: C('GNTMAP_host_map') | C('GNTMAP_contains_pte'), host_addr: 0x1003n }).status);
    // Another grantee may not map an entry already pinned for domain 2.
    expect(map1(2, {}).status).toBe(0);
    entryV1(1, 8, C('GTF_permit_access') | C('GTF_reading') | C('GTF_writing'), 0, mfnOf(1, 3));
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_general_error', map1(0, {}).status);
  });

  it('grant_table_op$GNTTABOP_map_grant_ref: a pin counter stops at 128 mappings; no_space once 255 handles (one maptrack page) are in use', () => {
    const { vmm, grant } = setup({ maptrack1: true });
    grant(8, 2);
    grant(9, 2);
    grant(10, 2);
    const guest = new XenGuest(new VmmTransport(vmm, 2, 0, 0));
    const ops = (ref: number, n: number, base: number) => Array.from({ length: n }, (_, i) => ({ host_addr: BigInt(base + i * 0x1000), flags: C('GNTMAP_host_map') | C('GNTMAP_readonly'), ref, dom: 1, status: 0, handle: 0, dev_bus_addr: 0n }));
    const a = guest.grant_table_op$GNTTABOP_map_grant_ref(ops(8, 129, 0x1000), 0n);
    expect(a.result).toBe(0n);
    expect(a.arg.slice(0, 128).filter((x) => x.status !== 0)).toEqual([]);
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_general_error', a.arg[128]!.status);
    const b = guest.grant_table_op$GNTTABOP_map_grant_ref(ops(9, 126, 0x82000), 0x2000n);
    expect(b.arg.filter((x) => x.status !== 0)).toEqual([]);
    const c = guest.grant_table_op$GNTTABOP_map_grant_ref(ops(10, 2, 0x100000), 0x4000n);
    expect(c.arg[0]!.status).toBe(0);
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_no_space', c.arg[1]!.status);
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('grant_table_op$GNTTABOP_map_grant_ref: a fault copying an element ends the batch with EFAULT after earlier elements took effect', () => {
    const { vmm, g, grant, flagsV1, mapOp, d } = setup();
    grant(8, 2);
    // Two elements whose second lies in dom2's first unpopulated gfn.
    g(2).grant_table_op$GNTTABOP_query_size([{ dom: SELF, nr_frames: 0, max_nr_frames: 0, status: 0 }]);
    const edge = (d(2).memory.maxFrames) * PAGE_SIZE;
    const el = new XenGuest(new VmmTransport(vmm, 2, 0, SCRATCH));
    const codec = (el as unknown as { codecs: { GnttabMapGrantRef: { size: number; encode(v: DataView, o: number, x: GnttabMapGrantRef): void } } }).codecs.GnttabMapGrantRef;
    const buf = new Uint8Array(codec.size);
    codec.encode(new DataView(buf.buffer), 0, mapOp({}));
    d(2).memory.write(gaddr(edge - codec.size), buf);
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'EFAULT', vmm.hypercallSigned(2, 0, { rax: GNTTAB, rdi: BigInt(C('GNTTABOP_map_grant_ref')), rsi: BigInt(edge - codec.size), rdx: 2n }));
    expect(flagsV1(1, 8) & RW).toBe(RW);
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('grant_table_op$GNTTABOP_map_grant_ref: a translated guest sees the granted page at host_addr; unmap removes it', () => {
    const { vmm, g, grant, map1, d, write, read } = setup();
    grant(8, 3);
    write(1, 3 * PAGE_SIZE, new Uint8Array([1, 2, 3, 4]));
    const host = BigInt(40 * PAGE_SIZE);
    const m = map1(3, { host_addr: host });
    expect(m.status).toBe(0);
    expect([...read(3, 40 * PAGE_SIZE, 4)]).toEqual([1, 2, 3, 4]);
    expect(vmm.machine.invariants()).toEqual([]);
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_general_error', map1(3, { host_addr: host }).status); // the gfn already holds a grant
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_general_error', map1(3, { host_addr: host + 0x1000n, flags: C('GNTMAP_host_map') | 0x10000 }).status);
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'GNTST_general_error', g(3).grant_table_op$GNTTABOP_unmap_grant_ref([{ host_addr: host + 0x1000n, dev_bus_addr: 0n, handle: m.handle, status: 0 }]).arg[0]!.status);
    expect(g(3).grant_table_op$GNTTABOP_unmap_grant_ref([{ host_addr: host, dev_bus_addr: 0n, handle: m.handle, status: 0 }]).arg[0]!.status).toBe(0);
    expect(d(3).memory.lookup(gfn(40))).toBeUndefined();
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('grant_table_op$GNTTABOP_unmap_grant_ref: bad_handle, bad_dev_addr, general_error for a host_addr that does not map the frame; zeros keep the handle', () => {
    const { grant, map1, unmap1, flagsV1 } = setup();
    grant(8, 2);
    const m = map1(2, { flags: C('GNTMAP_host_map') | C('GNTMAP_device_map') });
    expectError('grant_table_op$GNTTABOP_unmap_grant_ref', 'GNTST_bad_handle', unmap1(2, 4096));
    expectError('grant_table_op$GNTTABOP_unmap_grant_ref', 'GNTST_bad_handle', unmap1(2, 5));
    expectError('grant_table_op$GNTTABOP_unmap_grant_ref', 'GNTST_bad_dev_addr', unmap1(2, m.handle, 0x10000n, m.dev_bus_addr + 0x1000n));
    expectError('grant_table_op$GNTTABOP_unmap_grant_ref', 'GNTST_general_error', unmap1(2, m.handle, 0x20000n));
    expect(unmap1(2, m.handle, 0n, 0n)).toBe(0);
    expect(flagsV1(1, 8) & RW).toBe(RW);
    expect(unmap1(2, m.handle, 0x10000n, m.dev_bus_addr)).toBe(0);
    expectError('grant_table_op$GNTTABOP_unmap_grant_ref', 'GNTST_bad_handle', unmap1(2, m.handle));
    expect(flagsV1(1, 8) & RW).toBe(0);
  });

  it('grant_table_op$GNTTABOP_unmap_and_replace: moves the PTE at new_addr into place; ENOSYS on HVM; general_error when no L1 maps new_addr', () => {
    const { vmm, g, grant, map1, flagsV1, pte, mfnOf } = setup();
    grant(8, 2);
    grant(9, 2, 4);
    const a = map1(2, { host_addr: 0x10000n });
    const b = map1(2, { host_addr: 0x20000n, ref: 9 });
    const uar = (handle: number, host_addr: bigint, new_addr: bigint) => g(2).grant_table_op$GNTTABOP_unmap_and_replace([{ host_addr, new_addr, handle, status: 0 }]).arg[0]!.status;
    expectError('grant_table_op$GNTTABOP_unmap_and_replace', 'GNTST_general_error', uar(a.handle, 0x10000n, 0x4000_0000n));
    expectError('grant_table_op$GNTTABOP_unmap_and_replace', 'GNTST_bad_handle', uar(7, 0x10000n, 0n));
    const bEntry = pte(2, PT_L1, 0x20);
    expect(bEntry >> 12n & 0xffffffffffn).toBe(BigInt(mfnOf(1, 4)));
    expect(uar(a.handle, 0x10000n, 0x20000n)).toBe(0);
    expect(flagsV1(1, 8) & RW).toBe(0);
    expect(pte(2, PT_L1, 0x10)).toBe(bEntry);
    expect(pte(2, PT_L1, 0x20)).toBe(0n);
    // b's PTE moved to 0x10000: unmapping it at its old address fails, at the new one works.
    expectError('grant_table_op$GNTTABOP_unmap_and_replace', 'GNTST_general_error', g(2).grant_table_op$GNTTABOP_unmap_grant_ref([{ host_addr: 0x20000n, dev_bus_addr: 0n, handle: b.handle, status: 0 }]).arg[0]!.status);
    expect(g(2).grant_table_op$GNTTABOP_unmap_grant_ref([{ host_addr: 0x10000n, dev_bus_addr: 0n, handle: b.handle, status: 0 }]).arg[0]!.status).toBe(0);
    expectError('grant_table_op$GNTTABOP_unmap_and_replace', 'ENOSYS', g(3).grant_table_op$GNTTABOP_unmap_and_replace([{ host_addr: 0n, new_addr: 0n, handle: 0, status: 0 }]).result);
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('grant_table_op$GNTTABOP_copy: between domains through grants and own frames, with GNTST statuses', () => {
    const { vmm, g, grant, write, read, mfnOf } = setup();
    grant(8, 2);
    grant(9, 2, 4, C('GTF_readonly'));
    write(1, 3 * PAGE_SIZE + 100, new Uint8Array([9, 8, 7]));
    const cp = (over: Partial<GnttabCopy>, domid = 2) =>
      g(domid).grant_table_op$GNTTABOP_copy([{
        source: { u: { ref: 8 }, domid: 1, offset: 100 },
        dest: { u: { gmfn: BigInt(mfnOf(2, 5)) }, domid: SELF, offset: 0 },
        len: 3,
        flags: C('GNTCOPY_source_gref'),
        status: 0,
        ...over,
      }]).arg[0]!.status;
    expect(cp({})).toBe(0);
    expect([...read(2, 5 * PAGE_SIZE, 3)]).toEqual([9, 8, 7]);
    expectError('grant_table_op$GNTTABOP_copy', 'GNTST_permission_denied', cp({ dest: { u: { gmfn: BigInt(mfnOf(2, 5)) }, domid: 2, offset: 0 } }));
    expectError('grant_table_op$GNTTABOP_copy', 'GNTST_bad_domain', cp({ source: { u: { ref: 8 }, domid: 9, offset: 0 } }));
    expectError('grant_table_op$GNTTABOP_copy', 'GNTST_bad_gntref', cp({ source: { u: { ref: 4096 }, domid: 1, offset: 0 } }));
    expectError('grant_table_op$GNTTABOP_copy', 'GNTST_general_error', cp({ source: { u: { ref: 10 }, domid: 1, offset: 0 } }));
    expectError('grant_table_op$GNTTABOP_copy', 'GNTST_general_error', cp({ dest: { u: { ref: 9 }, domid: 1, offset: 0 }, flags: C('GNTCOPY_source_gref') | C('GNTCOPY_dest_gref') }));
    expectError('grant_table_op$GNTTABOP_copy', 'GNTST_bad_page', cp({ dest: { u: { gmfn: BigInt(mfnOf(1, 5)) }, domid: SELF, offset: 0 } }));
    expectError('grant_table_op$GNTTABOP_copy', 'GNTST_bad_copy_arg', cp({ len: 4000 }));
    // Writing into a grant: domain 2 copies its own page into domain 1's writable grant.
    write(2, 6 * PAGE_SIZE, new Uint8Array([5, 5]));
    expect(cp({ source: { u: { gmfn: BigInt(mfnOf(2, 6)) }, domid: SELF, offset: 0 }, dest: { u: { ref: 8 }, domid: 1, offset: 10 }, len: 2, flags: C('GNTCOPY_dest_gref') })).toBe(0);
    expect([...read(1, 3 * PAGE_SIZE + 10, 2)]).toEqual([5, 5]);
    // Pins last only for the copy.
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('grant_table_op$GNTTABOP_copy: v2 sub-page bounds and transitive grants', () => {
    const { vmm, g, setup1, write, read, mfnOf, tableGfn } = setup();
    expect(g(1).grant_table_op$GNTTABOP_set_version([{ version: 2 }]).result).toBe(0n);
    setup1(1);
    const e2 = (ref: number, flags: number, dom: number, a: number, b: number, frame: bigint) => {
      const buf = new Uint8Array(16);
      const v = new DataView(buf.buffer);
      v.setUint16(0, flags, true);
      v.setUint16(2, dom, true);
      v.setUint16(4, a, true);
      v.setUint16(6, b, true);
      v.setBigUint64(8, frame, true);
      write(1, tableGfn(1) * PAGE_SIZE + ref * 16, buf);
    };
    // Entry 8: bytes 16..31 of page 3 for domain 2. Entry 9: transitive, passing on domain 0's entry 8.
    e2(8, C('GTF_permit_access') | C('GTF_sub_page'), 2, 16, 16, BigInt(mfnOf(1, 3)));
    write(1, 3 * PAGE_SIZE + 16, new Uint8Array([42]));
    const cp = (ref: number, off: number, len: number) =>
      g(2).grant_table_op$GNTTABOP_copy([{ source: { u: { ref }, domid: 1, offset: off }, dest: { u: { gmfn: BigInt(mfnOf(2, 5)) }, domid: SELF, offset: 0 }, len, flags: C('GNTCOPY_source_gref'), status: 0 }]).arg[0]!.status;
    expect(cp(8, 16, 16)).toBe(0);
    expect(read(2, 5 * PAGE_SIZE, 1)[0]).toBe(42);
    expectError('grant_table_op$GNTTABOP_copy', 'GNTST_general_error', cp(8, 8, 16));
    // Sub-page grants are never mappable.
    expectError('grant_table_op$GNTTABOP_copy', 'GNTST_general_error', g(2).grant_table_op$GNTTABOP_map_grant_ref([{ host_addr: 0x10000n, flags: C('GNTMAP_host_map'), ref: 8, dom: 1, status: 0, handle: 0, dev_bus_addr: 0n }]).arg[0]!.status);
    g(0).grant_table_op$GNTTABOP_setup_table([{ dom: SELF, nr_frames: 1, status: 0, frame_list: BigInt(SCRATCH + 2048) }]);
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setUint16(0, C('GTF_permit_access'), true);
    v.setUint16(2, 1, true);
    v.setUint32(4, mfnOf(0, 2), true);
    write(0, tableGfn(0) * PAGE_SIZE + 8 * 8, b);
    write(0, 2 * PAGE_SIZE + 7, new Uint8Array([77]));
    const tr = new Uint8Array(16);
    const tv = new DataView(tr.buffer);
    tv.setUint16(0, C('GTF_transitive'), true);
    tv.setUint16(2, 2, true);
    tv.setUint16(4, 0, true);
    tv.setUint32(8, 8, true);
    write(1, tableGfn(1) * PAGE_SIZE + 9 * 16, tr);
    expect(cp(9, 7, 1)).toBe(0);
    expect(read(2, 5 * PAGE_SIZE, 1)[0]).toBe(77);
    // A transitive grant pointing at its own domain is refused.
    tv.setUint16(4, 1, true);
    write(1, tableGfn(1) * PAGE_SIZE + 9 * 16, tr);
    expectError('grant_table_op$GNTTABOP_copy', 'GNTST_general_error', cp(9, 7, 1));
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('grant_table_op$GNTTABOP_set_version: v2 keeps the reserved entries, moves access bits to status frames; EINVAL, ENOSYS, EBUSY, ERANGE', () => {
    const { vmm, g, grant, map1, unmap1, entryV1, mfnOf, read, tableGfn, setup1 } = setup();
    const sv = (domid: number, version: number) => g(domid).grant_table_op$GNTTABOP_set_version([{ version }]);
    expectError('grant_table_op$GNTTABOP_set_version', 'EINVAL', sv(1, 0).result);
    expectError('grant_table_op$GNTTABOP_set_version', 'EINVAL', sv(1, 3).result);
    expect(sv(1, 3).arg[0]!.version).toBe(1);
    expectError('grant_table_op$GNTTABOP_set_version', 'ENOSYS', sv(4, 2).result);
    grant(8, 2);
    const m = map1(2, {});
    expectError('grant_table_op$GNTTABOP_set_version', 'EBUSY', sv(1, 2).result);
    expect(unmap1(2, m.handle)).toBe(0);
    grant(1, 2);
    const r = map1(2, { ref: 1 });
    expect(r.status).toBe(0);
    const ok = sv(1, 2);
    expect(ok.result).toBe(0n);
    expect(ok.arg[0]!.version).toBe(2);
    // Entry 1 is kept in v2 form (frame at offset 8), its access bits in status word 1.
    const e = new DataView(read(1, tableGfn(1) * PAGE_SIZE + 16, 16).buffer);
    expect(e.getUint16(0, true)).toBe(C('GTF_permit_access'));
    expect(e.getBigUint64(8, true)).toBe(BigInt(mfnOf(1, 3)));
    expect(new DataView(read(1, (tableGfn(1) + 64) * PAGE_SIZE + 2, 2).buffer).getUint16(0, true)).toBe(RW);
    expect(g(1).grant_table_op$GNTTABOP_get_version([{ dom: SELF, pad: 0, version: 0 }]).arg[0]!.version).toBe(2);
    expect(vmm.machine.invariants()).toEqual([]);
    // Back to v1 with a reserved entry whose frame needs more than 32 bits: ERANGE.
    expect(unmap1(2, r.handle)).toBe(0);
    const big = new Uint8Array(8);
    new DataView(big.buffer).setBigUint64(0, 1n << 32n, true);
    g(1).transport.write(BigInt(tableGfn(1) * PAGE_SIZE + 2 * 16 + 8), big);
    g(1).transport.write(BigInt(tableGfn(1) * PAGE_SIZE + 2 * 16), new Uint8Array([C('GTF_permit_access'), 0, 2, 0]));
    expectError('grant_table_op$GNTTABOP_set_version', 'ERANGE', sv(1, 1).result);
    g(1).transport.write(BigInt(tableGfn(1) * PAGE_SIZE + 2 * 16), new Uint8Array(4));
    // XSA-255: a status frame mapped by someone keeps v2 (EBUSY). Entry 0 grants status frame 0 to domain 2.
    const status0 = mfnOf(1, tableGfn(1) + 64);
    const e0 = new Uint8Array(16);
    const v0 = new DataView(e0.buffer);
    v0.setUint16(0, C('GTF_permit_access'), true);
    v0.setUint16(2, 2, true);
    v0.setBigUint64(8, BigInt(status0), true);
    g(1).transport.write(BigInt(tableGfn(1) * PAGE_SIZE), e0);
    const s = map1(2, { ref: 0, flags: C('GNTMAP_host_map') | C('GNTMAP_readonly') });
    expect(s.status).toBe(0);
    expectError('grant_table_op$GNTTABOP_set_version', 'EBUSY', sv(1, 1).result);
    expect(unmap1(2, s.handle)).toBe(0);
    expect(sv(1, 1).result).toBe(0n);
    expect(vmm.machine.frameOf(1, gfn(tableGfn(1) + 64))).toBeUndefined();
    setup1(1);
    entryV1(1, 8, 0, 0, 0);
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('grant_table_op$GNTTABOP_get_version: ESRCH, EPERM, EFAULT; dom0 reads another domain', () => {
    const { vmm, g } = setup();
    const gv = (from: number, dom: number) => g(from).grant_table_op$GNTTABOP_get_version([{ dom, pad: 0, version: 0 }]);
    expect(gv(0, 2).arg[0]!.version).toBe(1);
    expectError('grant_table_op$GNTTABOP_get_version', 'ESRCH', gv(1, 9).result);
    expectError('grant_table_op$GNTTABOP_get_version', 'EPERM', gv(1, 2).result);
    expectError('grant_table_op$GNTTABOP_get_version', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: GNTTAB, rdi: BigInt(C('GNTTABOP_get_version')), rsi: 0x7fff_0000n, rdx: 1n }));
    expectError('grant_table_op$GNTTABOP_get_version', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: GNTTAB, rdi: BigInt(C('GNTTABOP_set_version')), rsi: 0x7fff_0000n, rdx: 1n }));
  });

  it('grant_table_op$GNTTABOP_get_status_frames: v2 status frames; general_error in v1; EINVAL, EFAULT, bad_domain, permission_denied; ENOSYS on HVM', () => {
    const { vmm, g, read } = setup();
    const gs = (from: number, dom: number, nr: number, list = BigInt(SCRATCH + 2048)) =>
      g(from).grant_table_op$GNTTABOP_get_status_frames([{ nr_frames: nr, dom, status: 0, frame_list: list }]);
    expectError('grant_table_op$GNTTABOP_get_status_frames', 'GNTST_general_error', gs(1, SELF, 1).arg[0]!.status);
    expect(g(1).grant_table_op$GNTTABOP_set_version([{ version: 2 }]).result).toBe(0n);
    expect(gs(1, SELF, 1).arg[0]!.status).toBe(0);
    expect(new BigUint64Array(read(1, SCRATCH + 2048, 8).buffer)[0]).toBe(BigInt(vmm.machine.frameOf(1, gfn(vmm.machine.domain(1)!.sharedInfoGfn + 65))!));
    expectError('grant_table_op$GNTTABOP_get_status_frames', 'GNTST_general_error', gs(1, SELF, 2).arg[0]!.status);
    expectError('grant_table_op$GNTTABOP_get_status_frames', 'GNTST_bad_domain', gs(1, 9, 1).arg[0]!.status);
    expectError('grant_table_op$GNTTABOP_get_status_frames', 'GNTST_permission_denied', gs(1, 2, 1).arg[0]!.status);
    expectError('grant_table_op$GNTTABOP_get_status_frames', 'EFAULT', gs(1, SELF, 1, 1n << 47n).result);
    expectError('grant_table_op$GNTTABOP_get_status_frames', 'GNTST_bad_virt_addr', gs(1, SELF, 1, 0x7fff_0000n).arg[0]!.status);
    expectError('grant_table_op$GNTTABOP_get_status_frames', 'EINVAL', g(1).grant_table_op$GNTTABOP_get_status_frames([]).result);
    expectError('grant_table_op$GNTTABOP_get_status_frames', 'ENOSYS', gs(3, SELF, 0).result);
  });

  it('grant_table_op$GNTTABOP_swap_grant_ref: swaps entries; bad_gntref, eagain when pinned, a ref with itself is okay', () => {
    const { g, grant, map1, flagsV1, read, tableGfn } = setup();
    grant(8, 2);
    grant(20, 0);
    const sw = (a: number, b: number) => g(1).grant_table_op$GNTTABOP_swap_grant_ref([{ ref_a: a, ref_b: b, status: 0 }]).arg[0]!.status;
    expect(sw(8, 30)).toBe(0);
    expect(flagsV1(1, 8)).toBe(0);
    expect(new DataView(read(1, tableGfn(1) * PAGE_SIZE + 30 * 8, 4).buffer).getUint16(2, true)).toBe(2);
    expectError('grant_table_op$GNTTABOP_swap_grant_ref', 'GNTST_bad_gntref', sw(8, 512));
    expect(map1(2, { ref: 30 }).status).toBe(0);
    expectError('grant_table_op$GNTTABOP_swap_grant_ref', 'GNTST_eagain', sw(30, 20));
    expect(sw(30, 30)).toBe(0);
  });

  it('grant_table_op$GNTTABOP_transfer: a page moves to the receiver’s accept_transfer entry; bad_page, bad_domain, general_error; ENOSYS on HVM, EOPNOTSUPP on Arm', () => {
    const { vmm, g, setup1, entryV1, mfnOf, flagsV1, read, tableGfn, d } = setup();
    setup1(2);
    entryV1(2, 8, C('GTF_accept_transfer'), 1, 20);
    const page = mfnOf(1, 7);
    const tf = (mfn: number, domid: number, ref: number) => g(1).grant_table_op$GNTTABOP_transfer([{ mfn: BigInt(mfn), domid, ref, status: 0 }]).arg[0]!.status;
    expect(tf(page, 2, 8)).toBe(0);
    expect(vmm.machine.frames.owner[page]).toBe(2);
    expect(d(1).memory.lookup(gfn(7))).toBeUndefined();
    expect(d(2).memory.lookup(gfn(20))).toBe(page);
    expect(flagsV1(2, 8)).toBe(C('GTF_accept_transfer') | C('GTF_transfer_committed') | C('GTF_transfer_completed'));
    expect(new DataView(read(2, tableGfn(2) * PAGE_SIZE + 8 * 8 + 4, 4).buffer).getUint32(0, true)).toBe(page);
    expectError('grant_table_op$GNTTABOP_transfer', 'GNTST_bad_page', tf(mfnOf(2, 3), 2, 8));
    // The receiver is now at max_pages: the next page is lost and the entry is left alone.
    entryV1(2, 9, C('GTF_accept_transfer'), 1, 21);
    expectError('grant_table_op$GNTTABOP_transfer', 'GNTST_general_error', tf(mfnOf(1, 10), 2, 9));
    expect(flagsV1(2, 9)).toBe(C('GTF_accept_transfer'));
    const lost = mfnOf(1, 8);
    expectError('grant_table_op$GNTTABOP_transfer', 'GNTST_bad_domain', tf(lost, 9, 8));
    expect(vmm.machine.frames.owner[lost]).toBe(-1);
    expectError('grant_table_op$GNTTABOP_transfer', 'GNTST_general_error', tf(mfnOf(1, 9), 2, 9));
    expectError('grant_table_op$GNTTABOP_transfer', 'ENOSYS', g(3).grant_table_op$GNTTABOP_transfer([{ mfn: 0n, domid: 0, ref: 0, status: 0 }]).result);
    expectError('grant_table_op$GNTTABOP_transfer', 'EOPNOTSUPP', g(4).grant_table_op$GNTTABOP_transfer([{ mfn: 0n, domid: 0, ref: 0, status: 0 }]).result);
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('grant_table_op$GNTTABOP_cache_flush: x86 semantics: clean ok, invalidate alone EOPNOTSUPP; EINVAL, EILSEQ, EPERM; ENOSYS on HVM', () => {
    const { vmm, g, grant, map1, mfnOf } = setup();
    const cf = (domid: number, addr: bigint, offset: number, length: number, op: number) =>
      g(domid).grant_table_op$GNTTABOP_cache_flush([{ a: { dev_bus_addr: addr }, offset, length, op }]).result;
    const own = BigInt(mfnOf(1, 3)) << 12n;
    const CLEAN = C('GNTTAB_CACHE_CLEAN');
    const INVAL = C('GNTTAB_CACHE_INVAL');
    expect(cf(1, own, 0, 64, CLEAN)).toBe(0n);
    expect(cf(1, own, 0, 64, CLEAN | INVAL)).toBe(0n);
    expectError('grant_table_op$GNTTABOP_cache_flush', 'EOPNOTSUPP', cf(1, own, 0, 64, INVAL));
    expectError('grant_table_op$GNTTABOP_cache_flush', 'EINVAL', cf(1, own, 4096, 0, CLEAN));
    expectError('grant_table_op$GNTTABOP_cache_flush', 'EINVAL', cf(1, own, 0, 64, CLEAN | C('GNTTAB_CACHE_SOURCE_GREF')));
    expectError('grant_table_op$GNTTABOP_cache_flush', 'EINVAL', cf(1, 1n << 50n, 0, 64, CLEAN));
    const free = vmm.machine.frames.count - 1;
    expectError('grant_table_op$GNTTABOP_cache_flush', 'EPERM', cf(1, BigInt(free) << 12n, 0, 64, CLEAN));
    expectError('grant_table_op$GNTTABOP_cache_flush', 'EINVAL', cf(2, own, 0, 64, CLEAN));
    grant(8, 2);
    expect(map1(2, {}).status).toBe(0);
    expect(cf(2, own, 0, 64, CLEAN)).toBe(0n);
    // A non-zero resume position in cmd with an empty element: EILSEQ.
    const at = BigInt(SCRATCH);
    g(1).grant_table_op$GNTTABOP_cache_flush([{ a: { dev_bus_addr: own }, offset: 0, length: 0, op: CLEAN }], at);
    expectError('grant_table_op$GNTTABOP_cache_flush', 'EILSEQ', vmm.hypercallSigned(1, 0, { rax: GNTTAB, rdi: BigInt(C('GNTTABOP_cache_flush') | 0x1000), rsi: at, rdx: 1n }));
    expectError('grant_table_op$GNTTABOP_cache_flush', 'EFAULT', vmm.hypercallSigned(1, 0, { rax: GNTTAB, rdi: BigInt(C('GNTTABOP_cache_flush')), rsi: 0x7fff_0000n, rdx: 1n }));
    expectError('grant_table_op$GNTTABOP_cache_flush', 'ENOSYS', cf(3, own, 0, 64, CLEAN));
    // Arm has real cache primitives: invalidate alone is fine on its own page.
    expect(cf(4, BigInt(mfnOf(4, 3)) << 12n, 0, 64, INVAL)).toBe(0n);
  });

  it('grant_table_op$GNTTABOP_dump_table: ENOSYS (no longer implemented)', () => {
    const { g } = setup();
    expectError('grant_table_op$GNTTABOP_dump_table', 'ENOSYS', g(1).grant_table_op$GNTTABOP_dump_table([{ dom: SELF, status: 0 }]).result);
  });

  it('grant_table_op: EINVAL for reserved cmd bits and a negative count; ENOSYS for unknown and, on HVM, unaudited commands', () => {
    const { vmm } = setup();
    const call = (domid: number, cmd: number, count: bigint) => vmm.hypercallSigned(domid, 0, { rax: GNTTAB, rdi: BigInt(cmd), rsi: BigInt(SCRATCH), rdx: count });
    expectError('grant_table_op$GNTTABOP_query_size', 'EINVAL', call(1, C('GNTTABOP_query_size') | 0x1000, 1n));
    expectError('grant_table_op$GNTTABOP_dump_table', 'EINVAL', call(1, C('GNTTABOP_dump_table') | 0x1000, 1n));
    expectError('grant_table_op$GNTTABOP_map_grant_ref', 'EINVAL', call(1, C('GNTTABOP_map_grant_ref'), 0x8000_0000n));
    expect(call(1, 13, 1n)).toBe(E('ENOSYS'));
    // hvm_grant_table_op matches the whole cmd: with reserved bits even an allowed command is -ENOSYS.
    expectError('grant_table_op$GNTTABOP_query_size', 'ENOSYS', call(3, C('GNTTABOP_query_size') | 0x1000, 1n));
    expectError('grant_table_op$GNTTABOP_get_status_frames', 'ENOSYS', call(3, C('GNTTABOP_get_status_frames'), 1n));
    expect(call(1, C('GNTTABOP_map_grant_ref'), 0n)).toBe(0n);
    expect(vmm.internalErrors).toEqual([]);
  });

  it('grant_table_op: do_grant_table_op checks count (EINVAL) before the command, then EFAULT when the element cannot be read', () => {
    const { vmm } = setup();
    const call = (cmd: string, count: bigint, at = BigInt(SCRATCH)) => vmm.hypercallSigned(1, 0, { rax: GNTTAB, rdi: BigInt(C(cmd)), rsi: at, rdx: count });
    const NEG = 0x8000_0000n;
    const HOLE = 0x7fff_0000n; // beyond the domain's memory: the element cannot be copied in
    expectError('grant_table_op$GNTTABOP_unmap_grant_ref', 'EINVAL', call('GNTTABOP_unmap_grant_ref', NEG));
    expectError('grant_table_op$GNTTABOP_transfer', 'EINVAL', call('GNTTABOP_transfer', NEG));
    expectError('grant_table_op$GNTTABOP_copy', 'EINVAL', call('GNTTABOP_copy', NEG));
    expectError('grant_table_op$GNTTABOP_unmap_and_replace', 'EINVAL', call('GNTTABOP_unmap_and_replace', NEG));
    expectError('grant_table_op$GNTTABOP_get_version', 'EINVAL', call('GNTTABOP_get_version', NEG));
    expectError('grant_table_op$GNTTABOP_swap_grant_ref', 'EINVAL', call('GNTTABOP_swap_grant_ref', NEG));
    // set_version ignores count, but the dispatcher checks it first.
    expectError('grant_table_op$GNTTABOP_set_version', 'EINVAL', call('GNTTABOP_set_version', NEG));
    expectError('grant_table_op$GNTTABOP_unmap_grant_ref', 'EFAULT', call('GNTTABOP_unmap_grant_ref', 1n, HOLE));
    expectError('grant_table_op$GNTTABOP_transfer', 'EFAULT', call('GNTTABOP_transfer', 1n, HOLE));
    expectError('grant_table_op$GNTTABOP_copy', 'EFAULT', call('GNTTABOP_copy', 1n, HOLE));
    expectError('grant_table_op$GNTTABOP_unmap_and_replace', 'EFAULT', call('GNTTABOP_unmap_and_replace', 1n, HOLE));
    expectError('grant_table_op$GNTTABOP_swap_grant_ref', 'EFAULT', call('GNTTABOP_swap_grant_ref', 1n, HOLE));
    expectError('grant_table_op$GNTTABOP_set_version', 'EFAULT', call('GNTTABOP_set_version', 1n, HOLE));
    expect(vmm.internalErrors).toEqual([]);
  });

  it('grant_table_op: snapshot and restore bring back pins, handles, access bits and table frames', () => {
    const { vmm, grant, map1, unmap1, flagsV1 } = setup();
    grant(8, 2);
    const m = map1(2, {});
    const snap = vmm.machine.snapshot();
    expect(unmap1(2, m.handle)).toBe(0);
    expect(flagsV1(1, 8) & RW).toBe(0);
    vmm.machine.restore(snap);
    expect(flagsV1(1, 8) & RW).toBe(RW);
    expect(vmm.machine.invariants()).toEqual([]);
    expect(unmap1(2, m.handle)).toBe(0);
    expectError('grant_table_op$GNTTABOP_unmap_grant_ref', 'GNTST_bad_handle', unmap1(2, m.handle));
  });
});
