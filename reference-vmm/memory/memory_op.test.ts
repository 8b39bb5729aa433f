/**
 * memory_op of the reference VMM, driven only through hypercall() (the generated guest stubs
 * over an in-process transport, or the raw memory_op stub for cmd values with continuation
 * bits) and guest memory. Machine frames and ownership are read back from the host API to
 * check what Xen would have done with them.
 *
 * Declared errors the model cannot produce, and why:
 * - machphys_mfn_list / machphys_mapping EOPNOTSUPP (Xen without 32-bit PV support): this
 *   machine runs x86_32 PV guests, so opt_pv32 is on.
 * - add_to_physmap EPERM for a direct-MMIO gfn and ENOMEM for a shared page: the model has no
 *   MMIO mappings and no memory sharing. EXDEV (gmfn not at idx any more): a translated p2m
 *   here maps a frame at one gfn, so the frame found at idx is always at idx.
 * - set_memory_map ENOMEM (xmalloc failure) has no counterpart in the model.
 * - exchange E2BIG (32-bit caller, compat translation buffer too small): the compat
 *   translation buffer is not modelled.
 */
import { describe, expect, it } from 'vitest';
import { codecsByArch } from '../../generated/xen/codecs.js';
import { XenGuest } from '../../generated/xen/guest.js';
import type { Codec } from '../../generated/xen/runtime.js';
import type { XenMemoryReservation } from '../../generated/xen/types.js';
import { constantValue, findArch, LayoutEngine, xenSpec } from '../../spec/index.js';
import { expectError } from '../../test/vmm-errors.js';
import { gaddr, gfn, PAGE_SIZE } from '../addr.js';
import { VmmTransport } from '../transport.js';
import { ReferenceVmm } from '../vmm.js';

const C = (n: string): number => constantValue(xenSpec, n) as number;
const SELF = C('DOMID_SELF');
const HOST_FRAMES = 4096;
/** Guest-physical pages the tests use in every domain's RAM (gfn 0-15). */
const STRUCT = 11 * PAGE_SIZE;
const LIST = 12 * PAGE_SIZE;
const LIST2 = 13 * PAGE_SIZE;
const SCRATCH = 14 * PAGE_SIZE;
/** An address no domain has memory at. */
const UNMAPPED = 0x40000000;

function setup() {
  const vmm = new ReferenceVmm({
    hostFrames: HOST_FRAMES,
    domains: [
      { id: 0, abi: 'x86_64-pv', memoryPages: 16, maxPages: 4096, privileged: true },
      { id: 1, abi: 'x86_64-pv', memoryPages: 16, maxPages: 24 },
      { id: 2, abi: 'x86_64-hvm', memoryPages: 16, maxPages: 24 },
      { id: 3, abi: 'arm64', memoryPages: 16, maxPages: 24 },
      { id: 4, abi: 'x86_32-pv', memoryPages: 16, maxPages: 24 },
    ],
  });
  const g = (id: number) => new XenGuest(new VmmTransport(vmm, id, 0, SCRATCH));
  const d = (id: number) => vmm.machine.domain(id)!;
  const cs = (id: number) => codecsByArch[d(id).arch.name as keyof typeof codecsByArch];
  const put = <T>(id: number, codec: Codec<T>, addr: number, v: T) => {
    const b = new Uint8Array(codec.size);
    codec.encode(new DataView(b.buffer), 0, v);
    if (!d(id).memory.write(gaddr(addr), b)) throw new Error(`test setup: cannot write at ${addr}`);
  };
  const get = <T>(id: number, codec: Codec<T>, addr: number): T => {
    const b = new Uint8Array(codec.size);
    if (!d(id).memory.read(gaddr(addr), b)) throw new Error(`test setup: cannot read at ${addr}`);
    return codec.decode(new DataView(b.buffer), 0);
  };
  const putList = (id: number, addr: number, values: (number | bigint)[]) =>
    values.forEach((v, i) => put(id, cs(id).XenPfn, addr + i * cs(id).XenPfn.size, BigInt(v)));
  const getList = (id: number, addr: number, n: number) => Array.from({ length: n }, (_, i) => get(id, cs(id).XenPfn, addr + i * cs(id).XenPfn.size));
  /** memory_op with the start extent in cmd's upper bits, the argument at `addr`. */
  const raw = (id: number, op: string, addr: number | bigint, start = 0n) => g(id).memory_op(BigInt(C(op)) | (start << 6n), BigInt(addr));
  const res = (list: number, nr: number | bigint, order = 0, flags = 0, domid = SELF): XenMemoryReservation => ({
    extent_start: BigInt(list),
    nr_extents: BigInt(nr),
    extent_order: order,
    mem_flags: flags,
    domid,
  });
  const tot = (id: number) => Number(g(0).memory_op$XENMEM_current_reservation({ domid: id }).result);
  const owner = (f: number | bigint) => vmm.machine.frames.owner[Number(f)];
  const clean = () => {
    expect(vmm.internalErrors).toEqual([]);
    expect(vmm.machine.invariants()).toEqual([]);
  };
  return { vmm, g, d, cs, put, get, putList, getList, raw, res, tot, owner, clean };
}

describe('reference-vmm memory_op', () => {
  it('memory_op$XENMEM_increase_reservation: a PV domain gets each extent’s base MFN; tot_pages grows; stops at max_pages', () => {
    const { g, getList, putList, res, tot, owner, d, clean } = setup();
    expect(tot(1)).toBe(16);
    putList(1, LIST, [7, 7, 7]);
    const r = g(1).memory_op$XENMEM_increase_reservation(res(LIST, 3, 1));
    expect(r.result).toBe(3n);
    const mfns = getList(1, LIST, 3);
    for (const m of mfns) {
      expect(m % 2n).toBe(0n); // order-1 extents are 2-frame aligned
      expect(owner(m)).toBe(1);
      expect(owner(m + 1n)).toBe(1);
      expect(d(1).memory.p2m.includes(Number(m))).toBe(false); // allocated, not placed anywhere
    }
    expect(new Set(mfns).size).toBe(3);
    expect(tot(1)).toBe(22);
    // max_pages 24: one more order-1 extent fits, the second does not: a short count, not an error.
    expect(g(1).memory_op$XENMEM_increase_reservation(res(LIST, 2, 1)).result).toBe(1n);
    expect(tot(1)).toBe(24);
    expect(g(1).memory_op$XENMEM_increase_reservation(res(0, 1)).result).toBe(0n);
    clean();
  });

  it('memory_op$XENMEM_increase_reservation: NULL list allowed; translated domains get no MFNs written', () => {
    const { g, putList, getList, res, tot, clean } = setup();
    expect(g(1).memory_op$XENMEM_increase_reservation(res(0, 2)).result).toBe(2n);
    expect(tot(1)).toBe(18);
    putList(2, LIST, [5, 5]);
    expect(g(2).memory_op$XENMEM_increase_reservation(res(LIST, 2)).result).toBe(2n);
    expect(getList(2, LIST, 2)).toEqual([5n, 5n]);
    expect(tot(2)).toBe(18);
    clean();
  });

  it('memory_op$XENMEM_increase_reservation: every refusal is a count of 0, never an errno', () => {
    const { vmm, g, raw, put, cs, res, tot, clean } = setup();
    const inc = (id: number, r: XenMemoryReservation) => g(id).memory_op$XENMEM_increase_reservation(r).result;
    expect(inc(1, res(0, 1, 10))).toBe(0n); // extent_order above a domU's 9
    expect(inc(0, res(0, 1, 10))).toBe(1n); // the control domain may go to 18
    expect(inc(1, res(0, 1, 0, 12))).toBe(0n); // address width 1..12
    expect(inc(1, res(0, 1, 0, 0, 9))).toBe(0n); // no such domain
    expect(inc(1, res(0, 1, 0, 0, 2))).toBe(0n); // another domain, unprivileged
    expect(inc(0, res(0, 1, 0, 0, 2))).toBe(1n); // the control domain may
    expect(inc(1, res(0, 0x4000000))).toBe(0n); // nr_extents above UINT_MAX >> 6
    expect(inc(1, res(0, 1, 0, C('XENMEMF_exact_node_request') | (1 << 8)))).toBe(0n); // unprivileged exact node
    expect(inc(1, res(0, 1, 0, 1 << 8))).toBe(1n); // a node without exact: ignored
    expect(inc(0, res(0, 1, 0, 65 << 8))).toBe(0n); // node 64 and up does not exist
    expect(inc(0, res(0, 1, 0, C('XENMEMF_exact_node_request') | (2 << 8)))).toBe(0n); // node 1 exactly: this host has only node 0
    expect(inc(1, res(UNMAPPED, 1))).toBe(0n); // extent list not accessible
    expect(raw(1, 'XENMEM_increase_reservation', UNMAPPED)).toBe(0n); // struct not readable
    // With continuation bits the validation failures return the start extent.
    put(1, cs(1).XenMemoryReservation, STRUCT, res(0, 3));
    expect(raw(1, 'XENMEM_increase_reservation', UNMAPPED, 5n)).toBe(5n);
    expect(raw(1, 'XENMEM_increase_reservation', STRUCT, 3n)).toBe(3n); // start ≥ nr_extents
    expect(tot(1)).toBe(17);
    expect(tot(2)).toBe(17);
    expect(vmm.machine.frames.free).toBeGreaterThan(0);
    clean();
  });

  it('memory_op$XENMEM_increase_reservation: a call resumed at start extent 2 does extents 2 and 3 only', () => {
    const { raw, put, cs, putList, getList, res, tot, clean } = setup();
    putList(1, LIST, [9, 9, 9, 9]);
    put(1, cs(1).XenMemoryReservation, STRUCT, res(LIST, 4));
    expect(raw(1, 'XENMEM_increase_reservation', STRUCT, 2n)).toBe(4n);
    const l = getList(1, LIST, 4);
    expect(l.slice(0, 2)).toEqual([9n, 9n]);
    expect(l[2]).not.toBe(9n);
    expect(l[3]).not.toBe(9n);
    expect(tot(1)).toBe(18);
    clean();
  });

  it('memory_op$XENMEM_increase_reservation: an address width restricts the frames (a width below the first free frame fails)', () => {
    const { g, getList, res, clean } = setup();
    // 4096 frames: widths of 24 bits and up are unrestricted; 21 bits allows frames below 512.
    expect(g(0).memory_op$XENMEM_increase_reservation(res(LIST, 1, 0, 21)).result).toBe(1n);
    expect(Number(getList(0, LIST, 1)[0])).toBeLessThan(512);
    expect(g(0).memory_op$XENMEM_increase_reservation(res(LIST, 1, 0, 13)).result).toBe(0n); // frames 0 and 1 are taken
    clean();
  });

  it('memory_op$XENMEM_populate_physmap: PV gets the MFNs written back and the frames appear at the gpfns', () => {
    const { g, d, putList, getList, res, tot, owner, clean } = setup();
    putList(1, LIST, [20, 30]);
    const r = g(1).memory_op$XENMEM_populate_physmap(res(LIST, 2, 1));
    expect(r.result).toBe(2n);
    const [m20, m30] = getList(1, LIST, 2) as [bigint, bigint];
    expect(d(1).memory.lookup(gfn(20))).toBe(Number(m20));
    expect(d(1).memory.lookup(gfn(21))).toBe(Number(m20) + 1);
    expect(d(1).memory.lookup(gfn(31))).toBe(Number(m30) + 1);
    expect(owner(m30)).toBe(1);
    expect(tot(1)).toBe(20);
    // The new memory is the guest's: it reads zero and takes writes.
    const buf = new Uint8Array([1, 2, 3]);
    expect(d(1).memory.write(gaddr(21 * PAGE_SIZE), buf)).toBe(true);
    clean();
  });

  it('memory_op$XENMEM_populate_physmap: translated domains get no write-back; max_gpfn follows; order, PoD and max_pages limits', () => {
    const { g, d, putList, getList, res, tot, clean } = setup();
    putList(2, LIST, [40, 41, 42]);
    expect(g(2).memory_op$XENMEM_populate_physmap(res(LIST, 3)).result).toBe(3n);
    expect(getList(2, LIST, 3)).toEqual([40n, 41n, 42n]);
    expect(d(2).memory.lookup(gfn(42))).toBeDefined();
    expect(g(2).memory_op$XENMEM_maximum_gpfn({ domid: SELF }).result).toBe(42n);
    expect(g(2).memory_op$XENMEM_populate_physmap(res(LIST, 1, 10)).result).toBe(0n);
    // PoD on oneself stops at once; the control domain marking a PV domain: done, nothing allocated.
    expect(g(2).memory_op$XENMEM_populate_physmap(res(LIST, 1, 0, C('XENMEMF_populate_on_demand'))).result).toBe(0n);
    putList(0, LIST, [50, 51]);
    expect(g(0).memory_op$XENMEM_populate_physmap(res(LIST, 2, 0, C('XENMEMF_populate_on_demand'), 1)).result).toBe(2n);
    expect(tot(1)).toBe(16);
    // max_pages 24: 19 now, 5 more fit.
    putList(2, LIST, [60, 61, 62, 63, 64, 65, 66]);
    expect(g(2).memory_op$XENMEM_populate_physmap(res(LIST, 7)).result).toBe(5n);
    expect(d(2).memory.lookup(gfn(65))).toBeUndefined();
    clean();
  });

  it('memory_op$XENMEM_populate_physmap: a populated gfn is replaced, the old page stays allocated (Xen does not free it); a PV domain keeps its page', () => {
    const { g, d, putList, res, tot, owner, clean } = setup();
    const old = d(2).memory.lookup(gfn(3))!;
    putList(2, LIST, [3]);
    expect(g(2).memory_op$XENMEM_populate_physmap(res(LIST, 1)).result).toBe(1n);
    expect(d(2).memory.lookup(gfn(3))).not.toBe(old);
    expect(owner(old)).toBe(2);
    expect(tot(2)).toBe(17);
    // A PV domain's page stays where it is: Xen records only the M2P entry of the new frame
    // (xen/arch/x86/mm/physmap.c guest_physmap_add_page), the guest's page tables are its own.
    const pv = d(1).memory.lookup(gfn(3))!;
    putList(1, LIST, [3]);
    expect(g(1).memory_op$XENMEM_populate_physmap(res(LIST, 1)).result).toBe(1n);
    expect(d(1).memory.lookup(gfn(3))).toBe(pv);
    expect(tot(1)).toBe(17);
    clean();
  });

  it('memory_op$XENMEM_decrease_reservation: translated: frees the pages at the gfns; a second try on the same gfn does nothing (XSA-277)', () => {
    const { g, d, putList, res, tot, owner, clean } = setup();
    const f5 = d(2).memory.lookup(gfn(5))!;
    putList(2, LIST, [5, 6]);
    expect(g(2).memory_op$XENMEM_decrease_reservation(res(LIST, 2)).result).toBe(2n);
    expect(d(2).memory.lookup(gfn(5))).toBeUndefined();
    expect(owner(f5)).toBe(-1);
    expect(tot(2)).toBe(14);
    expect(g(2).memory_op$XENMEM_decrease_reservation(res(LIST, 1)).result).toBe(0n);
    // Stops at the first gfn without a page: 7 goes, 5 does not, 8 is not tried.
    putList(2, LIST, [7, 5, 8]);
    expect(g(2).memory_op$XENMEM_decrease_reservation(res(LIST, 3)).result).toBe(1n);
    expect(d(2).memory.lookup(gfn(8))).toBeDefined();
    // An order-1 extent with its second page missing counts as not done, though its first page went.
    putList(2, LIST, [4]);
    expect(g(2).memory_op$XENMEM_decrease_reservation(res(LIST, 1, 1)).result).toBe(0n);
    expect(d(2).memory.lookup(gfn(4))).toBeUndefined();
    expect(tot(2)).toBe(12);
    expect(g(2).memory_op$XENMEM_decrease_reservation(res(LIST, 1, 10)).result).toBe(0n);
    clean();
  });

  it('memory_op$XENMEM_decrease_reservation: PV lists MFNs; another domain’s frame or a frame past the end stops it', () => {
    const { g, d, putList, getList, res, tot, owner, clean } = setup();
    putList(1, LIST, [20]);
    expect(g(1).memory_op$XENMEM_populate_physmap(res(LIST, 1)).result).toBe(1n);
    const m = getList(1, LIST, 1)[0] as bigint;
    expect(g(1).memory_op$XENMEM_decrease_reservation(res(LIST, 1)).result).toBe(1n);
    expect(owner(m)).toBe(-1);
    expect(d(1).memory.lookup(gfn(20))).toBeUndefined();
    expect(tot(1)).toBe(16);
    putList(1, LIST, [d(0).memory.lookup(gfn(3))!, HOST_FRAMES + 5]);
    expect(g(1).memory_op$XENMEM_decrease_reservation(res(LIST, 1)).result).toBe(0n);
    expect(g(1).memory_op$XENMEM_decrease_reservation(res(LIST + 8, 1)).result).toBe(0n);
    // The shared_info MFN is Xen's page: "removed" (Xen drops only its allocation flag), still there.
    putList(1, LIST, [d(1).sharedInfoFrame]);
    expect(g(1).memory_op$XENMEM_decrease_reservation(res(LIST, 1)).result).toBe(1n);
    expect(owner(d(1).sharedInfoFrame)).toBe(1);
    expect(tot(1)).toBe(16);
    // The control domain frees a page of domain 1.
    putList(0, LIST, [d(1).memory.lookup(gfn(9))!]);
    expect(g(0).memory_op$XENMEM_decrease_reservation(res(LIST, 1, 0, 0, 1)).result).toBe(1n);
    expect(tot(1)).toBe(15);
    clean();
  });

  it('memory_op$XENMEM_exchange: PV trades two order-0 frames for one order-1 extent at a new gpfn', () => {
    const { g, d, putList, getList, tot, owner, clean } = setup();
    const a = d(1).memory.lookup(gfn(5))!;
    const b = d(1).memory.lookup(gfn(6))!;
    putList(1, LIST, [a, b]);
    putList(1, LIST2, [30]);
    const r = g(1).memory_op$XENMEM_exchange({
      in: { extent_start: BigInt(LIST), nr_extents: 2n, extent_order: 0, mem_flags: 0, domid: SELF },
      out: { extent_start: BigInt(LIST2), nr_extents: 1n, extent_order: 1, mem_flags: 0, domid: SELF },
      nr_exchanged: 0n,
    });
    expect(r.result).toBe(0n);
    expect(r.arg.nr_exchanged).toBe(2n);
    const m = getList(1, LIST2, 1)[0] as bigint;
    expect(m % 2n).toBe(0n);
    expect(d(1).memory.lookup(gfn(30))).toBe(Number(m));
    expect(d(1).memory.lookup(gfn(31))).toBe(Number(m) + 1);
    expect(d(1).memory.lookup(gfn(5))).toBeUndefined();
    expect(owner(a)).toBe(-1);
    expect(owner(b)).toBe(-1);
    expect(tot(1)).toBe(16);
    clean();
  });

  it('memory_op$XENMEM_exchange: EINVAL, EFAULT, EPERM, ESRCH, EOPNOTSUPP, ENOMEM, and nr_exchanged after a partial failure', () => {
    const { g, d, raw, put, cs, putList, tot, clean } = setup();
    type Side = { list?: number; nr?: number; order?: number; flags?: number; domid?: number };
    const x = (id: number, i: Side, o: Side, nrExchanged = 0n) =>
      g(id).memory_op$XENMEM_exchange({
        in: { extent_start: BigInt(i.list ?? LIST), nr_extents: BigInt(i.nr ?? 1), extent_order: i.order ?? 0, mem_flags: i.flags ?? 0, domid: i.domid ?? SELF },
        out: { extent_start: BigInt(o.list ?? LIST2), nr_extents: BigInt(o.nr ?? 1), extent_order: o.order ?? 0, mem_flags: o.flags ?? 0, domid: o.domid ?? SELF },
        nr_exchanged: nrExchanged,
      });
        expectError('memory_op$XENMEM_exchange', 'EINVAL', raw(1, 'XENMEM_exchange', STRUCT, 1n));
    expectError('memory_op$XENMEM_exchange', 'EFAULT', raw(1, 'XENMEM_exchange', UNMAPPED));
    expectError('memory_op$XENMEM_exchange', 'EPERM', x(1, { order: 10 }, { order: 10 }).result);
    expectError('memory_op$XENMEM_exchange', 'EINVAL', x(1, { domid: 1 }, {}).result); // SELF and 1 differ as numbers
    expectError('memory_op$XENMEM_exchange', 'EINVAL', x(1, { nr: 2 }, { nr: 1 }).result);
    expectError('memory_op$XENMEM_exchange', 'EINVAL', x(1, {}, {}, 2n).result);
    expect(x(1, {}, {}, 1n).result).toBe(0n); // everything already exchanged
    expectError('memory_op$XENMEM_exchange', 'EFAULT', x(1, { list: UNMAPPED }, {}).result);
    expectError('memory_op$XENMEM_exchange', 'EFAULT', x(1, {}, { list: UNMAPPED }).result);
    expectError('memory_op$XENMEM_exchange', 'EINVAL', x(1, {}, { flags: C('XENMEMF_exact_node_request') | (1 << 8) }).result);
    expectError('memory_op$XENMEM_exchange', 'ESRCH', x(1, { domid: 9 }, { domid: 9 }).result);
    expectError('memory_op$XENMEM_exchange', 'EPERM', x(1, { domid: 2 }, { domid: 2 }).result);
    // An input frame the domain does not own; reported progress stays 0.
    putList(1, LIST, [d(0).memory.lookup(gfn(2))!]);
    const bad = x(1, {}, {});
    expectError('memory_op$XENMEM_exchange', 'EINVAL', bad.result);
    expect(bad.arg.nr_exchanged).toBe(0n);
    // Translated domains: no frame at the gfn is EINVAL, a frame there cannot be stolen.
    putList(2, LIST, [40]);
    expectError('memory_op$XENMEM_exchange', 'EINVAL', x(2, {}, {}).result);
    putList(2, LIST, [4]);
    expectError('memory_op$XENMEM_exchange', 'EOPNOTSUPP', x(2, {}, {}).result);
    // No frame below 2^13 bytes is free: the new pages cannot be had.
    putList(1, LIST, [d(1).memory.lookup(gfn(4))!]);
    expectError('memory_op$XENMEM_exchange', 'ENOMEM', x(1, {}, { flags: 13 }).result);
    expect(d(1).memory.lookup(gfn(4))).toBeDefined(); // the input page is given back
    // Two chunks, the second fails: nr_exchanged says one was done.
    putList(1, LIST, [d(1).memory.lookup(gfn(4))!, d(0).memory.lookup(gfn(2))!]);
    putList(1, LIST2, [40, 41]);
    const part = x(1, { nr: 2 }, { nr: 2 });
    expectError('memory_op$XENMEM_exchange', 'EINVAL', part.result);
    expect(part.arg.nr_exchanged).toBe(1n);
    expect(d(1).memory.lookup(gfn(40))).toBeDefined();
    expect(d(1).memory.lookup(gfn(4))).toBeUndefined();
    expect(tot(1)).toBe(16);
    put(1, cs(1).XenMemoryExchange, STRUCT, { in: { extent_start: 0n, nr_extents: 0n, extent_order: 0, mem_flags: 0, domid: SELF }, out: { extent_start: 0n, nr_extents: 0n, extent_order: 0, mem_flags: 0, domid: SELF }, nr_exchanged: 0n });
    expect(raw(1, 'XENMEM_exchange', STRUCT)).toBe(0n);
    clean();
  });

  it('memory_op$XENMEM_maximum_ram_page: one past the highest machine frame; EINVAL with continuation bits', () => {
    const { g, raw, clean } = setup();
    expect(g(1).memory_op$XENMEM_maximum_ram_page()).toBe(BigInt(HOST_FRAMES));
    expect(g(4).memory_op$XENMEM_maximum_ram_page()).toBe(BigInt(HOST_FRAMES));
    expectError('memory_op$XENMEM_maximum_ram_page', 'EINVAL', raw(1, 'XENMEM_maximum_ram_page', 0, 1n));
    clean();
  });

  it('memory_op$XENMEM_current_reservation: tot_pages; EINVAL, EFAULT, ESRCH, EPERM', () => {
    const { g, raw, clean } = setup();
        expect(g(1).memory_op$XENMEM_current_reservation({ domid: SELF }).result).toBe(16n);
    expect(g(0).memory_op$XENMEM_current_reservation({ domid: 3 }).result).toBe(16n);
    expectError('memory_op$XENMEM_current_reservation', 'EINVAL', raw(1, 'XENMEM_current_reservation', SCRATCH, 2n));
    expectError('memory_op$XENMEM_current_reservation', 'EFAULT', raw(1, 'XENMEM_current_reservation', UNMAPPED));
    expectError('memory_op$XENMEM_current_reservation', 'ESRCH', g(1).memory_op$XENMEM_current_reservation({ domid: 9 }).result);
    expectError('memory_op$XENMEM_current_reservation', 'EPERM', g(1).memory_op$XENMEM_current_reservation({ domid: 2 }).result);
    clean();
  });

  it('memory_op$XENMEM_maximum_reservation: max_pages; EINVAL, EFAULT, ESRCH, EPERM', () => {
    const { g, raw, clean } = setup();
        expect(g(1).memory_op$XENMEM_maximum_reservation({ domid: SELF }).result).toBe(24n);
    expect(g(0).memory_op$XENMEM_maximum_reservation({ domid: SELF }).result).toBe(4096n);
    expectError('memory_op$XENMEM_maximum_reservation', 'EINVAL', raw(1, 'XENMEM_maximum_reservation', SCRATCH, 1n));
    expectError('memory_op$XENMEM_maximum_reservation', 'EFAULT', raw(1, 'XENMEM_maximum_reservation', UNMAPPED));
    expectError('memory_op$XENMEM_maximum_reservation', 'ESRCH', g(1).memory_op$XENMEM_maximum_reservation({ domid: 9 }).result);
    expectError('memory_op$XENMEM_maximum_reservation', 'EPERM', g(1).memory_op$XENMEM_maximum_reservation({ domid: 0 }).result);
    clean();
  });

  it('memory_op$XENMEM_maximum_gpfn: translated: highest mapped gfn; PV: shared_info max_pfn - 1; EINVAL, EFAULT, ESRCH, EPERM', () => {
    const { g, d, raw, clean } = setup();
        expect(g(2).memory_op$XENMEM_maximum_gpfn({ domid: SELF }).result).toBe(16n); // shared_info sits at gfn 16
    expect(g(3).memory_op$XENMEM_maximum_gpfn({ domid: SELF }).result).toBe(16n);
    // A PV guest keeps its own p2m; Xen reports what the guest wrote in shared_info.arch.max_pfn.
    expect(g(1).memory_op$XENMEM_maximum_gpfn({ domid: SELF }).result).toBe(0n);
    const e = new LayoutEngine(xenSpec, findArch(xenSpec, 'x86_64')!);
    const at = e.named('struct shared_info').fields['arch']!.offset + e.named('struct arch_shared_info').fields['max_pfn']!.offset;
    const v = new Uint8Array(8);
    new DataView(v.buffer).setBigUint64(0, 0x1234n, true);
    expect(d(1).memory.write(gaddr(d(1).sharedInfoGfn * PAGE_SIZE + at), v)).toBe(true);
    expect(g(1).memory_op$XENMEM_maximum_gpfn({ domid: SELF }).result).toBe(0x1233n);
    expectError('memory_op$XENMEM_maximum_gpfn', 'EINVAL', raw(1, 'XENMEM_maximum_gpfn', SCRATCH, 1n));
    expectError('memory_op$XENMEM_maximum_gpfn', 'EFAULT', raw(1, 'XENMEM_maximum_gpfn', UNMAPPED));
    expectError('memory_op$XENMEM_maximum_gpfn', 'ESRCH', g(1).memory_op$XENMEM_maximum_gpfn({ domid: 9 }).result);
    expectError('memory_op$XENMEM_maximum_gpfn', 'EPERM', g(2).memory_op$XENMEM_maximum_gpfn({ domid: 1 }).result);
    clean();
  });

  it('memory_op$XENMEM_set_memory_map / memory_map: ENOSYS until the toolstack sets a map; then up to nr_entries entries', () => {
    const { g, d, put, cs, raw, clean } = setup();
    expectError('memory_op$XENMEM_memory_map', 'ENOSYS', g(1).memory_op$XENMEM_memory_map({ nr_entries: 8, buffer: BigInt(LIST) }).result);
    const entry = (addr: bigint, size: bigint, type: number) => {
      const b = new Uint8Array(20);
      const v = new DataView(b.buffer);
      v.setBigUint64(0, addr, true);
      v.setBigUint64(8, size, true);
      v.setUint32(16, type, true);
      return b;
    };
    d(0).memory.write(gaddr(LIST), entry(0n, 0x10000n, 1));
    d(0).memory.write(gaddr(LIST + 20), entry(0x10000n, 0x1000n, 2));
    expect(g(0).memory_op$XENMEM_set_memory_map({ domid: 1, map: { nr_entries: 2, buffer: BigInt(LIST) } }).result).toBe(0n);
    const r = g(1).memory_op$XENMEM_memory_map({ nr_entries: 8, buffer: BigInt(LIST) });
    expect(r.result).toBe(0n);
    expect(r.arg.nr_entries).toBe(2);
    const got = new Uint8Array(40);
    d(1).memory.read(gaddr(LIST), got);
    expect([...got]).toEqual([...entry(0n, 0x10000n, 1), ...entry(0x10000n, 0x1000n, 2)]);
    d(1).memory.write(gaddr(LIST2), new Uint8Array(40));
    const one = g(1).memory_op$XENMEM_memory_map({ nr_entries: 1, buffer: BigInt(LIST2) });
    expect(one.arg.nr_entries).toBe(1);
    d(1).memory.read(gaddr(LIST2), got);
    expect([...got.subarray(20)]).toEqual(new Array(20).fill(0));
    // memory_map: EFAULT for the struct and for the buffer; arch commands with continuation bits are ENOSYS.
    expectError('memory_op$XENMEM_memory_map', 'EFAULT', raw(1, 'XENMEM_memory_map', UNMAPPED));
    expectError('memory_op$XENMEM_memory_map', 'EFAULT', g(1).memory_op$XENMEM_memory_map({ nr_entries: 2, buffer: BigInt(UNMAPPED) }).result);
    put(1, cs(1).XenMemoryMap, STRUCT, { nr_entries: 1, buffer: BigInt(LIST) });
    expectError('memory_op$XENMEM_memory_map', 'ENOSYS', raw(1, 'XENMEM_memory_map', STRUCT, 1n));
    expectError('memory_op$XENMEM_set_memory_map', 'ENOSYS', raw(0, 'XENMEM_set_memory_map', STRUCT, 1n));
    expectError('memory_op$XENMEM_machine_memory_map', 'ENOSYS', raw(0, 'XENMEM_machine_memory_map', STRUCT, 1n));
    expectError('memory_op$XENMEM_machphys_mapping', 'ENOSYS', raw(1, 'XENMEM_machphys_mapping', STRUCT, 1n));
    expectError('memory_op$XENMEM_machphys_mfn_list', 'ENOSYS', raw(1, 'XENMEM_machphys_mfn_list', STRUCT, 1n));
    // set_memory_map errors.
        expectError('memory_op$XENMEM_set_memory_map', 'EFAULT', raw(0, 'XENMEM_set_memory_map', UNMAPPED));
    expectError('memory_op$XENMEM_set_memory_map', 'EINVAL', g(0).memory_op$XENMEM_set_memory_map({ domid: 1, map: { nr_entries: 1025, buffer: BigInt(LIST) } }).result);
    expectError('memory_op$XENMEM_set_memory_map', 'ESRCH', g(0).memory_op$XENMEM_set_memory_map({ domid: 9, map: { nr_entries: 1, buffer: BigInt(LIST) } }).result);
    expectError('memory_op$XENMEM_set_memory_map', 'EPERM', g(1).memory_op$XENMEM_set_memory_map({ domid: 2, map: { nr_entries: 1, buffer: BigInt(LIST) } }).result);
    expectError('memory_op$XENMEM_set_memory_map', 'EFAULT', g(0).memory_op$XENMEM_set_memory_map({ domid: 1, map: { nr_entries: 1, buffer: BigInt(UNMAPPED) } }).result);
    // An empty map is no map; copying no entries never faults, whatever the buffer (live Xen, fuzz seeds 2516, 2617).
    for (const buffer of [0n, BigInt(UNMAPPED), 0xffff_ffff_ffff_fff8n, 0x8000_0000_0000_0000n]) {
      expect(g(1).memory_op$XENMEM_set_memory_map({ domid: SELF, map: { nr_entries: 0, buffer } }).result).toBe(0n);
    }
    expectError('memory_op$XENMEM_memory_map', 'ENOSYS', g(1).memory_op$XENMEM_memory_map({ nr_entries: 8, buffer: BigInt(LIST) }).result);
    clean();
  });

  it('memory_op$XENMEM_memory_map: a map from the domain configuration (as a toolstack leaves it)', () => {
    const vmm = new ReferenceVmm({ domains: [{ id: 1, abi: 'x86_64-pv', memoryPages: 16, memoryMap: [{ addr: 0n, size: 0x10000n, type: 1 }] }] });
    const r = new XenGuest(new VmmTransport(vmm, 1, 0, SCRATCH)).memory_op$XENMEM_memory_map({ nr_entries: 4, buffer: BigInt(LIST) });
    expect(r.result).toBe(0n);
    expect(r.arg.nr_entries).toBe(1);
  });

  it('memory_op$XENMEM_machine_memory_map: the host map for the control domain; ENOSYS, EPERM, EFAULT, EINVAL', () => {
    const { g, d, raw, clean } = setup();
        const count = g(0).memory_op$XENMEM_machine_memory_map({ nr_entries: 0, buffer: 0n });
    expect(count.result).toBe(0n);
    expect(count.arg.nr_entries).toBe(1);
    const r = g(0).memory_op$XENMEM_machine_memory_map({ nr_entries: 2, buffer: BigInt(LIST) });
    expect(r.result).toBe(0n);
    const b = new Uint8Array(20);
    d(0).memory.read(gaddr(LIST), b);
    const v = new DataView(b.buffer);
    expect(v.getBigUint64(0, true)).toBe(0n);
    expect(v.getBigUint64(8, true)).toBe(BigInt(HOST_FRAMES * PAGE_SIZE));
    expect(v.getUint32(16, true)).toBe(1);
    expectError('memory_op$XENMEM_machine_memory_map', 'ENOSYS', g(2).memory_op$XENMEM_machine_memory_map({ nr_entries: 2, buffer: BigInt(LIST) }).result);
    expectError('memory_op$XENMEM_machine_memory_map', 'EPERM', g(1).memory_op$XENMEM_machine_memory_map({ nr_entries: 2, buffer: BigInt(LIST) }).result);
    expectError('memory_op$XENMEM_machine_memory_map', 'EFAULT', raw(0, 'XENMEM_machine_memory_map', UNMAPPED));
    expectError('memory_op$XENMEM_machine_memory_map', 'EINVAL', g(0).memory_op$XENMEM_machine_memory_map({ nr_entries: 1, buffer: BigInt(LIST) }).result);
    expectError('memory_op$XENMEM_machine_memory_map', 'EFAULT', g(0).memory_op$XENMEM_machine_memory_map({ nr_entries: 2, buffer: BigInt(UNMAPPED) }).result);
    clean();
  });

  it('memory_op$XENMEM_machphys_mapping: the M2P range, native and compat; ENOSYS for HVM; EFAULT', () => {
    const { g, raw, clean } = setup();
        const zero = { v_start: 0n, v_end: 0n, max_mfn: 0n };
    const a64 = findArch(xenSpec, 'x86_64')!;
    const n = (name: string) => BigInt(constantValue(xenSpec, name, a64) as string | number);
    const u = g(1).memory_op$XENMEM_machphys_mapping(zero);
    expect(u.result).toBe(0n);
    expect(u.arg).toEqual({ v_start: n('MACH2PHYS_VIRT_START'), v_end: n('MACH2PHYS_VIRT_END'), max_mfn: n('MACH2PHYS_NR_ENTRIES') - 1n });
    expect(g(0).memory_op$XENMEM_machphys_mapping(zero).arg.max_mfn).toBe(BigInt(HOST_FRAMES - 1));
    const c = g(4).memory_op$XENMEM_machphys_mapping(zero).arg;
    expect(c.v_start).toBe(BigInt(constantValue(xenSpec, 'MACH2PHYS_VIRT_START', findArch(xenSpec, 'x86_32')!) as number));
    expect(c.v_end).toBe(0xffe00000n);
    expect(c.max_mfn).toBe(((0xffe00000n - c.v_start) >> 2n) - 1n);
    expectError('memory_op$XENMEM_machphys_mapping', 'ENOSYS', g(2).memory_op$XENMEM_machphys_mapping(zero).result);
    expectError('memory_op$XENMEM_machphys_mapping', 'EFAULT', raw(1, 'XENMEM_machphys_mapping', UNMAPPED));
    clean();
  });

  it('memory_op$XENMEM_machphys_mfn_list: one MFN per 2 MiB of M2P, up to max_extents; EFAULT', () => {
    const { g, getList, raw, clean } = setup();
        const r = g(1).memory_op$XENMEM_machphys_mfn_list({ max_extents: 4, extent_start: BigInt(LIST), nr_extents: 0 });
    expect(r.result).toBe(0n);
    expect(r.arg.nr_extents).toBe(1); // 4096 frames × 8 bytes fit one 2 MiB chunk
    expect(getList(1, LIST, 1)[0]).toBe(BigInt(HOST_FRAMES));
    expect(g(2).memory_op$XENMEM_machphys_mfn_list({ max_extents: 0, extent_start: BigInt(LIST), nr_extents: 7 }).arg.nr_extents).toBe(0);
    expectError('memory_op$XENMEM_machphys_mfn_list', 'EFAULT', raw(1, 'XENMEM_machphys_mfn_list', UNMAPPED));
    expectError('memory_op$XENMEM_machphys_mfn_list', 'EFAULT', g(1).memory_op$XENMEM_machphys_mfn_list({ max_extents: 1, extent_start: BigInt(UNMAPPED), nr_extents: 0 }).result);
    clean();
  });

  it('memory_op$XENMEM_add_to_physmap at a far gfn: one sparse p2m entry, moved back and undone by a restore', () => {
    const { vmm, g, d, clean } = setup();
    const si = d(2).sharedInfoFrame;
    const snap = vmm.machine.snapshot();
    const far = 0xfffff0n;
    const add = (sp: string, idx: bigint, gpfn: bigint) => g(2).memory_op$XENMEM_add_to_physmap({ domid: SELF, size: 0, space: C(sp), idx, gpfn }).result;
    const dense = d(2).memory.p2m.length;
    expect(add('XENMAPSPACE_shared_info', 0n, far)).toBe(0n);
    expect(d(2).memory.lookup(gfn(Number(far)))).toBe(si);
    expect(d(2).memory.p2m.length).toBe(dense);
    expect(g(2).memory_op$XENMEM_maximum_gpfn({ domid: SELF }).result).toBe(far);
    // A RAM page moved up there and back.
    const f5 = d(2).memory.lookup(gfn(5))!;
    expect(add('XENMAPSPACE_gmfn', 5n, far + 1n)).toBe(0n);
    expect(d(2).memory.lookup(gfn(Number(far) + 1))).toBe(f5);
    expect(add('XENMAPSPACE_gmfn', far + 1n, 5n)).toBe(0n);
    expect(d(2).memory.lookup(gfn(5))).toBe(f5);
    expect(vmm.machine.invariants()).toEqual([]);
    vmm.machine.restore(snap);
    expect(d(2).memory.sparse.size).toBe(0);
    expect(d(2).memory.lookup(gfn(16))).toBe(si);
    clean();
  });

  it('memory_op$XENMEM_add_to_physmap: moves shared_info, maps an own gfn elsewhere, frees RAM it lands on', () => {
    const { g, d, tot, owner, clean } = setup();
    const si = d(2).sharedInfoFrame;
    const space = (n: string) => C(n);
    const add = (domid: number, sp: string, idx: bigint, gpfn: bigint, size = 0) =>
      g(2).memory_op$XENMEM_add_to_physmap({ domid, size, space: space(sp), idx, gpfn }).result;
    expect(add(SELF, 'XENMAPSPACE_shared_info', 0n, 40n)).toBe(0n);
    expect(d(2).memory.lookup(gfn(40))).toBe(si);
    expect(d(2).memory.lookup(gfn(16))).toBeUndefined();
    // Onto a RAM gfn: the RAM page there is freed.
    const ram3 = d(2).memory.lookup(gfn(3))!;
    expect(add(SELF, 'XENMAPSPACE_shared_info', 0n, 3n)).toBe(0n);
    expect(owner(ram3)).toBe(-1);
    expect(tot(2)).toBe(15);
    expect(d(2).memory.lookup(gfn(40))).toBeUndefined();
    // XENMAPSPACE_gmfn moves a page; gmfn_range a run.
    const f5 = d(2).memory.lookup(gfn(5))!;
    expect(add(SELF, 'XENMAPSPACE_gmfn', 5n, 50n)).toBe(0n);
    expect(d(2).memory.lookup(gfn(50))).toBe(f5);
    expect(d(2).memory.lookup(gfn(5))).toBeUndefined();
    const f6 = d(2).memory.lookup(gfn(6))!;
    const f7 = d(2).memory.lookup(gfn(7))!;
    expect(add(SELF, 'XENMAPSPACE_gmfn_range', 6n, 60n, 2)).toBe(0n);
    expect([d(2).memory.lookup(gfn(60)), d(2).memory.lookup(gfn(61))]).toEqual([f6, f7]);
    // Resumed at 1: only the second of the run moves.
    const f8 = d(2).memory.lookup(gfn(8))!;
    const f9 = d(2).memory.lookup(gfn(9))!;
    const { put, cs, raw } = setupRaw(g, d);
    put(2, cs(2).XenAddToPhysmap, STRUCT, { domid: SELF, size: 2, space: space('XENMAPSPACE_gmfn_range'), idx: 8n, gpfn: 70n });
    expect(raw(2, 'XENMEM_add_to_physmap', STRUCT, 1n)).toBe(0n);
    expect(d(2).memory.lookup(gfn(8))).toBe(f8);
    expect(d(2).memory.lookup(gfn(71))).toBe(f9);
    expect(tot(2)).toBe(15);
    clean();
  });

  it('memory_op$XENMEM_add_to_physmap: EDOM, EFAULT, ENOSYS, ESRCH, EACCES, EPERM, EINVAL, EILSEQ, EOVERFLOW, EBUSY', () => {
    const { g, d, raw, clean } = setup();
        const add = (from: number, domid: number, sp: string | number, idx: bigint, gpfn: bigint, size = 0) =>
      g(from).memory_op$XENMEM_add_to_physmap({ domid, size, space: typeof sp === 'number' ? sp : C(sp), idx, gpfn }).result;
    expectError('memory_op$XENMEM_add_to_physmap', 'EDOM', raw(2, 'XENMEM_add_to_physmap', SCRATCH, 0x10000n));
    expectError('memory_op$XENMEM_add_to_physmap', 'EFAULT', raw(2, 'XENMEM_add_to_physmap', UNMAPPED));
    expectError('memory_op$XENMEM_add_to_physmap', 'ENOSYS', add(2, SELF, 'XENMAPSPACE_gmfn_foreign', 0n, 40n));
    expectError('memory_op$XENMEM_add_to_physmap', 'ESRCH', add(2, 9, 'XENMAPSPACE_shared_info', 0n, 40n));
    expectError('memory_op$XENMEM_add_to_physmap', 'EACCES', add(1, SELF, 'XENMAPSPACE_shared_info', 0n, 40n)); // a PV domain has no physmap
    expectError('memory_op$XENMEM_add_to_physmap', 'EACCES', add(2, SELF, 'XENMAPSPACE_dev_mmio', 0n, 40n)); // only the hardware domain, for itself
    expectError('memory_op$XENMEM_add_to_physmap', 'EPERM', add(2, 3, 'XENMAPSPACE_shared_info', 0n, 40n));
    expectError('memory_op$XENMEM_add_to_physmap', 'EINVAL', add(2, SELF, 'XENMAPSPACE_shared_info', 0n, (1n << 64n) - 1n));
    expectError('memory_op$XENMEM_add_to_physmap', 'EINVAL', add(2, SELF, 'XENMAPSPACE_shared_info', 1n, 40n));
    expectError('memory_op$XENMEM_add_to_physmap', 'EINVAL', add(2, SELF, 9, 0n, 40n)); // x86: unknown space
    expectError('memory_op$XENMEM_add_to_physmap', 'EINVAL', add(2, SELF, 'XENMAPSPACE_gmfn', 30n, 40n)); // nothing at gfn 30
    expectError('memory_op$XENMEM_add_to_physmap', 'EILSEQ', raw(2, 'XENMEM_add_to_physmap', putAtp(g, d, 2, { size: 1, space: C('XENMAPSPACE_gmfn_range'), idx: 1n, gpfn: 40n }), 2n));
    expectError('memory_op$XENMEM_add_to_physmap', 'EOVERFLOW', add(2, SELF, 'XENMAPSPACE_gmfn_range', 1n, (1n << 64n) - 2n, 4));
    // Arm: gmfn spaces do not exist; shared_info is a Xen-heap page mapped once (here already at gfn 16).
    expectError('memory_op$XENMEM_add_to_physmap', 'ENOSYS', add(3, SELF, 'XENMAPSPACE_gmfn', 1n, 40n));
    expectError('memory_op$XENMEM_add_to_physmap', 'EBUSY', add(3, SELF, 'XENMAPSPACE_shared_info', 0n, 40n));
    expect(g(3).memory_op$XENMEM_remove_from_physmap({ domid: SELF, gpfn: 16n }).result).toBe(0n);
    expect(add(3, SELF, 'XENMAPSPACE_shared_info', 0n, 40n)).toBe(0n);
    expect(d(3).memory.lookup(gfn(40))).toBe(d(3).sharedInfoFrame);
    // Arm: the hardware domain mapping device memory of its own gets 0 (no I/O memory here, nothing mapped).
    const arm0 = new ReferenceVmm({ domains: [{ id: 0, abi: 'arm64', memoryPages: 16, privileged: true }] });
    const g0 = new XenGuest(new VmmTransport(arm0, 0, 0, SCRATCH));
    expect(g0.memory_op$XENMEM_add_to_physmap({ domid: SELF, size: 0, space: C('XENMAPSPACE_dev_mmio'), idx: 0xfe000n, gpfn: 40n }).result).toBe(0n);
    clean();
  });

  it('memory_op$XENMEM_add_to_physmap: ENXIO onto a gfn that holds another domain’s page (a grant mapping): it cannot be freed', () => {
    const { g, d, clean } = setup();
    // Domain 1 grants its RAM page 3 to domain 2 at ref 8; domain 2 (translated) maps it at gfn 40.
    expect(g(1).grant_table_op$GNTTABOP_setup_table([{ dom: SELF, nr_frames: 1, status: 0, frame_list: BigInt(LIST2) }]).result).toBe(0n);
    const entry = new Uint8Array(8);
    const v = new DataView(entry.buffer);
    v.setUint16(0, C('GTF_permit_access'), true);
    v.setUint16(2, 2, true);
    v.setUint32(4, d(1).memory.lookup(gfn(3))!, true);
    expect(d(1).memory.write(gaddr((d(1).sharedInfoGfn + 1) * PAGE_SIZE + 8 * 8), entry)).toBe(true);
    const m = g(2).grant_table_op$GNTTABOP_map_grant_ref([{ host_addr: BigInt(40 * PAGE_SIZE), flags: C('GNTMAP_host_map'), ref: 8, dom: 1, status: 0, handle: 0, dev_bus_addr: 0n }]).arg[0]!;
    expect(m.status).toBe(0);
    const f5 = d(2).memory.lookup(gfn(5))!;
    expectError('memory_op$XENMEM_add_to_physmap', 'ENXIO', g(2).memory_op$XENMEM_add_to_physmap({ domid: SELF, size: 0, space: C('XENMAPSPACE_gmfn'), idx: 5n, gpfn: 40n }).result);
    // Nothing moved: the grant mapping and gfn 5 are as they were.
    expect(d(2).memory.lookup(gfn(40))).toBe(d(1).memory.lookup(gfn(3)));
    expect(d(2).memory.lookup(gfn(5))).toBe(f5);
    expect(g(2).grant_table_op$GNTTABOP_unmap_grant_ref([{ host_addr: BigInt(40 * PAGE_SIZE), dev_bus_addr: 0n, handle: m.handle, status: 0 }]).arg[0]!.status).toBe(0);
    clean();
  });

  it('memory_op$XENMEM_add_to_physmap: XENMAPSPACE_grant_table finds the frame where the grant table keeps it', () => {
    const { g, d, clean } = setup();
        const add = (idx: bigint, gpfn: bigint) => g(2).memory_op$XENMEM_add_to_physmap({ domid: SELF, size: 0, space: C('XENMAPSPACE_grant_table'), idx, gpfn }).result;
    // setup_table makes the table's frame exist, at the gfn after shared_info.
    expect(g(2).grant_table_op$GNTTABOP_setup_table([{ dom: SELF, nr_frames: 1, status: 0, frame_list: BigInt(LIST2) }]).result).toBe(0n);
    const at = BigInt(d(2).sharedInfoGfn + 1);
    const f = d(2).memory.lookup(gfn(Number(at)));
    expect(f).toBeDefined();
    expect(add(0n, at)).toBe(0n);
    expect(d(2).memory.lookup(gfn(Number(at)))).toBe(f);
    expectError('memory_op$XENMEM_add_to_physmap', 'EBUSY', add(0n, 90n)); // moving a grant frame elsewhere is not modelled
    expectError('memory_op$XENMEM_add_to_physmap', 'EINVAL', add(64n, 90n)); // beyond the table
    expectError('memory_op$XENMEM_add_to_physmap', 'EINVAL', add(BigInt(C('XENMAPIDX_grant_table_status')), 90n)); // status frames need a v2 table
    clean();
  });

  it('memory_op$XENMEM_add_to_physmap_batch: per-entry results in errs; EDOM, EFAULT, EOPNOTSUPP, ESRCH, EACCES, EPERM, EILSEQ, EINVAL', () => {
    const { g, d, cs, put, putList, get, raw, clean } = setup();
        const IDX = LIST;
    const GPFN = LIST + 64;
    const ERRS = LIST + 128;
    const batch = (from: number, o: { domid?: number; space?: number; size?: number; res0?: number; idxs?: number; gpfns?: number; errs?: number }) =>
      g(from).memory_op$XENMEM_add_to_physmap_batch({
        domid: o.domid ?? SELF,
        space: o.space ?? C('XENMAPSPACE_gmfn'),
        size: o.size ?? 2,
        u: { res0: o.res0 ?? 0 },
        idxs: BigInt(o.idxs ?? IDX),
        gpfns: BigInt(o.gpfns ?? GPFN),
        errs: BigInt(o.errs ?? ERRS),
      }).result;
    putList(2, IDX, [5, 30]);
    putList(2, GPFN, [50, 51]);
    const f5 = d(2).memory.lookup(gfn(5));
    expect(batch(2, {})).toBe(0n);
    expect(d(2).memory.lookup(gfn(50))).toBe(f5);
    const err = (i: number) => get(2, cs(2).Int, ERRS + i * 4);
    expect(err(0)).toBe(0);
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EINVAL', err(1)); // nothing at gfn 30: that entry's own result
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EDOM', raw(2, 'XENMEM_add_to_physmap_batch', SCRATCH, 0x10000n));
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EFAULT', raw(2, 'XENMEM_add_to_physmap_batch', UNMAPPED));
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EOPNOTSUPP', batch(2, { space: C('XENMAPSPACE_gmfn_range') }));
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'ESRCH', batch(2, { domid: 9 }));
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EACCES', batch(1, {}));
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EACCES', batch(2, { space: C('XENMAPSPACE_dev_mmio') }));
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EPERM', batch(2, { domid: 3 }));
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EFAULT', batch(2, { errs: UNMAPPED }));
    const arm0 = new ReferenceVmm({ domains: [{ id: 0, abi: 'arm64', memoryPages: 16, privileged: true }] });
    const ga = new XenGuest(new VmmTransport(arm0, 0, 0, SCRATCH));
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EOPNOTSUPP', ga.memory_op$XENMEM_add_to_physmap_batch({ domid: SELF, space: C('XENMAPSPACE_dev_mmio'), size: 1, u: { res0: 1 }, idxs: BigInt(IDX), gpfns: BigInt(GPFN), errs: BigInt(ERRS) }).result);
    putList(2, GPFN, [(1n << 64n) - 1n]);
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EINVAL', batch(2, { size: 1 }));
    // Continuation start past size, at size (EILSEQ unless both 0).
    put(2, cs(2).XenAddToPhysmapBatch, STRUCT, { domid: SELF, space: C('XENMAPSPACE_gmfn'), size: 1, u: { res0: 0 }, idxs: BigInt(IDX), gpfns: BigInt(GPFN), errs: BigInt(ERRS) });
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EILSEQ', raw(2, 'XENMEM_add_to_physmap_batch', STRUCT, 2n));
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EILSEQ', raw(2, 'XENMEM_add_to_physmap_batch', STRUCT, 1n));
    expect(batch(2, { size: 0 })).toBe(0n);
    clean();
  });

  it('memory_op$XENMEM_add_to_physmap_batch: XENMAPSPACE_gmfn_foreign maps another domain’s page (x86: hardware domain only; Arm: any controller)', () => {
    const vmm = new ReferenceVmm({
      domains: [
        { id: 0, abi: 'x86_64-hvm', memoryPages: 16, privileged: true },
        { id: 1, abi: 'x86_64-hvm', memoryPages: 16 },
        { id: 5, abi: 'x86_64-pv', memoryPages: 16 },
      ],
    });
    const g = (id: number) => new XenGuest(new VmmTransport(vmm, id, 0, SCRATCH));
    const d = (id: number) => vmm.machine.domain(id)!;
    const w64 = (id: number, addr: number, v: bigint[]) =>
      v.forEach((x, i) => {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigUint64(0, x, true);
        d(id).memory.write(gaddr(addr + 8 * i), b);
      });
    const err = (id: number, i: number) => {
      const b = new Uint8Array(4);
      d(id).memory.read(gaddr(LIST2 + 4 * i), b);
      return new DataView(b.buffer).getInt32(0, true);
    };
    const op = (from: number, fdom: number, idx: bigint[], gpfns: bigint[]) => {
      w64(from, LIST, idx);
      w64(from, LIST + 256, gpfns);
      return g(from).memory_op$XENMEM_add_to_physmap_batch({
        domid: SELF,
        space: C('XENMAPSPACE_gmfn_foreign'),
        size: idx.length,
        u: { foreign_domid: fdom },
        idxs: BigInt(LIST),
        gpfns: BigInt(LIST + 256),
        errs: BigInt(LIST2),
      }).result;
    };
    expect(op(0, 1, [3n, 30n], [40n, 41n])).toBe(0n);
    expect(err(0, 0)).toBe(0);
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EINVAL', err(0, 1)); // nothing at gfn 30 of domain 1
    expect(d(0).memory.lookup(gfn(40))).toBe(d(1).memory.lookup(gfn(3)));
    // The page is shared: what domain 0 writes at gfn 40, domain 1 reads at gfn 3.
    d(0).memory.write(gaddr(40 * PAGE_SIZE), new Uint8Array([0xab]));
    const b = new Uint8Array(1);
    d(1).memory.read(gaddr(3 * PAGE_SIZE), b);
    expect(b[0]).toBe(0xab);
    expect(vmm.machine.invariants()).toEqual([]);
    // A PV domain's frame is named by MFN.
    expect(op(0, 5, [BigInt(d(5).memory.lookup(gfn(2))!)], [42n])).toBe(0n);
    expect(err(0, 0)).toBe(0);
    /** The entry's result of mapping gfn 3 of `fdom` at gfn 43 of `from`. */
    const one = (from: number, fdom: number) => {
      expect(op(from, fdom, [3n], [43n])).toBe(0n);
      return err(from, 0);
    };
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'ESRCH', one(0, SELF)); // DOMID_SELF is no remote domain
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'ESRCH', one(0, 9));
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EPERM', one(0, 0)); // the caller itself by id
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EPERM', one(1, 0)); // not the hardware domain
    // The owner cannot free a page mapped elsewhere; removing the foreign mapping gives it back.
    w64(1, LIST, [3n]);
    expect(g(1).memory_op$XENMEM_decrease_reservation({ extent_start: BigInt(LIST), nr_extents: 1n, extent_order: 0, mem_flags: 0, domid: SELF }).result).toBe(0n);
    expect(g(0).memory_op$XENMEM_remove_from_physmap({ domid: SELF, gpfn: 40n }).result).toBe(0n);
    expect(d(0).memory.lookup(gfn(40))).toBeUndefined();
    expect(g(1).memory_op$XENMEM_decrease_reservation({ extent_start: BigInt(LIST), nr_extents: 1n, extent_order: 0, mem_flags: 0, domid: SELF }).result).toBe(1n);
    // Snapshots keep the mappings.
    const s = vmm.machine.snapshot();
    expect(g(0).memory_op$XENMEM_remove_from_physmap({ domid: SELF, gpfn: 42n }).result).toBe(0n);
    vmm.machine.restore(s);
    expect(d(0).memory.lookup(gfn(42))).toBe(d(5).memory.lookup(gfn(2)));
    expect(vmm.machine.invariants()).toEqual([]);
    // Arm: a controlling domain may map; naming d itself is EINVAL, its own id ESRCH.
    const arm = new ReferenceVmm({
      domains: [
        { id: 0, abi: 'arm64', memoryPages: 16, privileged: true },
        { id: 1, abi: 'arm64', memoryPages: 16 },
      ],
    });
    const ga = new XenGuest(new VmmTransport(arm, 0, 0, SCRATCH));
    const a0 = arm.machine.domain(0)!;
    const armOp = (fdom: number) => {
      const w = new Uint8Array(16);
      const v = new DataView(w.buffer);
      v.setBigUint64(0, 3n, true);
      v.setBigUint64(8, 44n, true);
      a0.memory.write(gaddr(LIST), w);
      ga.memory_op$XENMEM_add_to_physmap_batch({ domid: SELF, space: C('XENMAPSPACE_gmfn_foreign'), size: 1, u: { foreign_domid: fdom }, idxs: BigInt(LIST), gpfns: BigInt(LIST + 8), errs: BigInt(LIST2) });
      const e = new Uint8Array(4);
      a0.memory.read(gaddr(LIST2), e);
      return new DataView(e.buffer).getInt32(0, true);
    };
    expect(armOp(1)).toBe(0);
    expect(a0.memory.lookup(gfn(44))).toBe(arm.machine.domain(1)!.memory.lookup(gfn(3)));
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'EINVAL', armOp(SELF));
    expectError('memory_op$XENMEM_add_to_physmap_batch', 'ESRCH', armOp(0));
    expect(arm.machine.invariants()).toEqual([]);
    expect(vmm.internalErrors).toEqual([]);
    expect(arm.internalErrors).toEqual([]);
  });

  it('memory_op$XENMEM_remove_from_physmap: unmaps, never frees; EINVAL, EFAULT, ESRCH, EACCES, EPERM, ENOENT', () => {
    const { g, d, raw, tot, owner, clean } = setup();
        const f = d(2).memory.lookup(gfn(5))!;
    expect(g(2).memory_op$XENMEM_remove_from_physmap({ domid: SELF, gpfn: 5n }).result).toBe(0n);
    expect(d(2).memory.lookup(gfn(5))).toBeUndefined();
    expect(owner(f)).toBe(2);
    expect(tot(2)).toBe(16);
    expectError('memory_op$XENMEM_remove_from_physmap', 'ENOENT', g(2).memory_op$XENMEM_remove_from_physmap({ domid: SELF, gpfn: 5n }).result);
    expectError('memory_op$XENMEM_remove_from_physmap', 'EINVAL', raw(2, 'XENMEM_remove_from_physmap', SCRATCH, 1n));
    expectError('memory_op$XENMEM_remove_from_physmap', 'EFAULT', raw(2, 'XENMEM_remove_from_physmap', UNMAPPED));
    expectError('memory_op$XENMEM_remove_from_physmap', 'ESRCH', g(2).memory_op$XENMEM_remove_from_physmap({ domid: 9, gpfn: 5n }).result);
    expectError('memory_op$XENMEM_remove_from_physmap', 'EACCES', g(1).memory_op$XENMEM_remove_from_physmap({ domid: SELF, gpfn: 5n }).result);
    expectError('memory_op$XENMEM_remove_from_physmap', 'EPERM', g(2).memory_op$XENMEM_remove_from_physmap({ domid: 3, gpfn: 5n }).result);
    expect(g(0).memory_op$XENMEM_remove_from_physmap({ domid: 3, gpfn: 6n }).result).toBe(0n);
    clean();
  });

  it('memory_op: unknown commands and the removed command 8 are ENOSYS', () => {
    const { g, clean } = setup();
    expectError('memory_op', 'ENOSYS', g(1).memory_op(8n, 0n));
    expectError('memory_op', 'ENOSYS', g(1).memory_op(63n, 0n));
    clean();
  });

  it('memory_op$XENMEM_populate_physmap: x86_32 PV and arm64 callers use their own layouts', () => {
    const { g, d, putList, getList, res, clean } = setup();
    putList(4, LIST, [20]);
    expect(g(4).memory_op$XENMEM_populate_physmap(res(LIST, 1)).result).toBe(1n);
    expect(d(4).memory.lookup(gfn(20))).toBe(Number(getList(4, LIST, 1)[0]));
    putList(3, LIST, [20]);
    expect(g(3).memory_op$XENMEM_populate_physmap(res(LIST, 1)).result).toBe(1n);
    expect(getList(3, LIST, 1)[0]).toBe(20n);
    expect(d(3).memory.lookup(gfn(20))).toBeDefined();
    clean();
  });

  it('memory_op$XENMEM_increase_reservation: preempted after every extent, the call continues with the progress in cmd', () => {
    const vmm = new ReferenceVmm(
      {
        domains: [
          { id: 1, abi: 'x86_64-pv', memoryPages: 16, maxPages: 32 },
          { id: 2, abi: 'x86_64-hvm', memoryPages: 16, maxPages: 32 },
        ],
      },
      { preemptEvery: 1 },
    );
    const g = (id: number) => new XenGuest(new VmmTransport(vmm, id, 0, SCRATCH));
    const at = BigInt(SCRATCH + 256);
    const r = g(1).memory_op$XENMEM_increase_reservation({ extent_start: 0n, nr_extents: 4n, extent_order: 0, mem_flags: 0, domid: SELF }, at);
    expect(r.result).toBe(4n);
    // The last restart carried start extent 3 in cmd (the guest's registers after the call).
    expect(vmm.lastContinuation?.['rdi']).toBe(BigInt(C('XENMEM_increase_reservation')) | (3n << 6n));
    expect(vmm.lastContinuation?.['rsi']).toBe(at);
    expect(g(1).memory_op$XENMEM_current_reservation({ domid: SELF }).result).toBe(20n);
    // exchange: two chunks, nr_exchanged records the first before the restart; cmd stays plain.
    const d1 = vmm.machine.domain(1)!;
    const put = (addr: number, v: bigint[]) => v.forEach((x, i) => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, x, true);
      d1.memory.write(gaddr(addr + 8 * i), b);
    });
    put(LIST, [BigInt(d1.memory.lookup(gfn(4))!), BigInt(d1.memory.lookup(gfn(5))!)]);
    put(LIST2, [40n, 41n]);
    const x = g(1).memory_op$XENMEM_exchange({
      in: { extent_start: BigInt(LIST), nr_extents: 2n, extent_order: 0, mem_flags: 0, domid: SELF },
      out: { extent_start: BigInt(LIST2), nr_extents: 2n, extent_order: 0, mem_flags: 0, domid: SELF },
      nr_exchanged: 0n,
    });
    expect(x.result).toBe(0n);
    expect(x.arg.nr_exchanged).toBe(2n);
    expect(vmm.lastContinuation?.['rdi']).toBe(BigInt(C('XENMEM_exchange')));
    // add_to_physmap gmfn_range of 3: restarted at 1, then 2.
    const a = g(2).memory_op$XENMEM_add_to_physmap({ domid: SELF, size: 3, space: C('XENMAPSPACE_gmfn_range'), idx: 4n, gpfn: 60n });
    expect(a.result).toBe(0n);
    expect(vmm.machine.domain(2)!.memory.lookup(gfn(62))).toBeDefined();
    expect(vmm.lastContinuation?.['rdi']).toBe(BigInt(C('XENMEM_add_to_physmap')) | (2n << 6n));
    expect(vmm.internalErrors).toEqual([]);
    expect(vmm.machine.invariants()).toEqual([]);
  });

  it('memory_op$XENMEM_populate_physmap: a 32-bit x86 caller’s list is checked from extent 0, even when resuming', () => {
    const { g, d, raw, put, cs, putList, res, tot, clean } = setup();
    // Unmap gfn 10 of both PV domains (decrease by MFN), then place lists so that extent 0 lies in it.
    for (const id of [1, 4]) {
      putList(id, LIST, [d(id).memory.lookup(gfn(10))!]);
      expect(g(id).memory_op$XENMEM_decrease_reservation(res(LIST, 1)).result).toBe(1n);
    }
    const size = (id: number) => cs(id).XenPfn.size;
    for (const id of [1, 4]) {
      putList(id, 11 * PAGE_SIZE, [70, 71]);
      put(id, cs(id).XenMemoryReservation, STRUCT, res(11 * PAGE_SIZE - size(id), 3));
    }
    expect(raw(1, 'XENMEM_populate_physmap', STRUCT, 1n)).toBe(3n); // native: extents 1 and 2 only
    expect(raw(4, 'XENMEM_populate_physmap', STRUCT, 1n)).toBe(1n); // compat: refused, the start extent
    expect(tot(1)).toBe(17);
    expect(tot(4)).toBe(15);
    clean();
  });

  it('memory_op: snapshot and restore bring back frames, tot_pages and the memory map', () => {
    const { vmm, g, d, putList, res, tot, clean } = setup();
    const s = vmm.machine.snapshot();
    putList(2, LIST, [40]);
    expect(g(2).memory_op$XENMEM_populate_physmap(res(LIST, 1)).result).toBe(1n);
    expect(g(0).memory_op$XENMEM_set_memory_map({ domid: 2, map: { nr_entries: 0, buffer: 0n } }).result).toBe(0n);
    expect(tot(2)).toBe(17);
    vmm.machine.restore(s);
    expect(tot(2)).toBe(16);
    expect(d(2).memory.lookup(gfn(40))).toBeUndefined();
    expect(d(2).e820).toBeUndefined();
    clean();
  });
});

/** Raw helpers for a test that already has its guests. */
function setupRaw(g: (id: number) => XenGuest, d: (id: number) => ReturnType<ReferenceVmm['machine']['domain']>) {
  const cs = (id: number) => codecsByArch[d(id)!.arch.name as keyof typeof codecsByArch];
  const put = <T>(id: number, codec: Codec<T>, addr: number, v: T) => {
    const b = new Uint8Array(codec.size);
    codec.encode(new DataView(b.buffer), 0, v);
    d(id)!.memory.write(gaddr(addr), b);
  };
  const raw = (id: number, op: string, addr: number, start = 0n) => g(id).memory_op(BigInt(C(op)) | (start << 6n), BigInt(addr));
  return { cs, put, raw };
}

/** Writes an add_to_physmap struct for domain `id` at STRUCT and returns its address. */
function putAtp(g: (id: number) => XenGuest, d: (id: number) => ReturnType<ReferenceVmm['machine']['domain']>, id: number, x: { size: number; space: number; idx: bigint; gpfn: bigint }): number {
  const { cs, put } = setupRaw(g, d);
  put(id, cs(id).XenAddToPhysmap, STRUCT, { domid: SELF, ...x });
  return STRUCT;
}
