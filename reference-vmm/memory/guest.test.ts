/**
 * Guest memory access for the generated codecs: ranges over non-adjacent machine frames are
 * assembled in a bounce area and only the bytes written through it go back at the end of a
 * call; faults are values (-1), and snapshots restore exactly the pages that changed.
 */
import { describe, expect, it } from 'vitest';
import { gaddr, gfn, mfn, PAGE_SIZE } from '../addr.js';
import { FrameTable } from './frames.js';
import { DENSE_GFNS, GuestMemory, MAX_GFNS } from './guest.js';

function twoFramesApart() {
  const frames = new FrameTable(8);
  const mem = new GuestMemory(frames, 4);
  const a = frames.alloc(1)!;
  frames.alloc(1); // a frame in between, so gfn 0 and 1 are not adjacent in host memory
  const b = frames.alloc(1)!;
  mem.set(gfn(0), a);
  mem.set(gfn(1), b);
  return { frames, mem, a, b };
}

describe('reference-vmm guest memory', () => {
  it('locate: a range within one page is an offset into the frame; outside the domain it is -1', () => {
    const { mem, a } = twoFramesApart();
    expect(mem.locate(16n, 8)).toBe(a * PAGE_SIZE + 16);
    expect(mem.locate(BigInt(2 * PAGE_SIZE), 1)).toBe(-1);
    expect(mem.locate(BigInt(2 * PAGE_SIZE) - 4n, 8)).toBe(-1);
    expect(mem.locate(-1n, 1)).toBe(-1);
  });

  it('locate: a range over non-adjacent frames goes through a bounce area written back by flush', () => {
    const { frames, mem, a, b } = twoFramesApart();
    const at = BigInt(PAGE_SIZE - 4);
    const o = mem.locate(at, 8);
    expect(o).toBeGreaterThanOrEqual(frames.count * PAGE_SIZE);
    mem.view.setBigUint64(o, 0x1122334455667788n, true);
    mem.flush();
    expect([...frames.read(a).subarray(PAGE_SIZE - 4)]).toEqual([0x88, 0x77, 0x66, 0x55]);
    expect([...frames.read(b).subarray(0, 4)]).toEqual([0x44, 0x33, 0x22, 0x11]);
  });

  it('flush: bytes changed in the frames by another route during the call are kept', () => {
    const { frames, mem, b } = twoFramesApart();
    const o = mem.locate(BigInt(PAGE_SIZE - 4), 8);
    frames.write(b)[2] = 0xee; // e.g. a page-table update of the second frame
    mem.view.setUint8(o, 0x5a); // the guest struct's first byte, written through the bounce
    mem.flush();
    expect(frames.read(b)[2]).toBe(0xee);
    expect(frames.read(mfn(0))[PAGE_SIZE - 4]).toBe(0x5a);
  });

  it('snapshot: a restore puts back exactly the pages written since', () => {
    const { frames, mem, a } = twoFramesApart();
    frames.write(a)[0] = 1;
    const s = frames.snapshot();
    frames.write(a)[0] = 2;
    mem.view.setUint8(mem.locate(BigInt(PAGE_SIZE + 5), 1), 9);
    frames.restore(s);
    expect(frames.read(a)[0]).toBe(1);
    expect(frames.read(mfn(2))[5]).toBe(0);
    expect(frames.pagesRestored).toBe(2);
  });

  it('read and write: small and large copies within a page, copies over two pages, faults that copy nothing, and writes saved for the snapshot', () => {
    const { frames, mem, a, b } = twoFramesApart();
    const s = frames.snapshot();
    const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
    // Within one page: a few bytes (copied one by one) and a larger block (copied as a view).
    for (const [addr, n] of [[8, 8], [100, 64], [200, 65], [0, PAGE_SIZE]] as const) {
      const data = pattern(n, addr);
      expect(mem.write(gaddr(addr), data)).toBe(true);
      expect([...frames.read(a).subarray(addr, addr + n)]).toEqual([...data]);
      const back = new Uint8Array(n);
      expect(mem.read(gaddr(addr), back)).toBe(true);
      expect([...back]).toEqual([...data]);
    }
    // Over the two pages (not adjacent in host memory).
    const over = pattern(16, 3);
    expect(mem.write(gaddr(PAGE_SIZE - 8), over)).toBe(true);
    expect([...frames.read(a).subarray(PAGE_SIZE - 8)]).toEqual([...over.subarray(0, 8)]);
    expect([...frames.read(b).subarray(0, 8)]).toEqual([...over.subarray(8)]);
    const back = new Uint8Array(16);
    expect(mem.read(gaddr(PAGE_SIZE - 8), back)).toBe(true);
    expect([...back]).toEqual([...over]);
    // A range reaching an unpopulated page, or not an address: false, nothing copied.
    const before = frames.read(b).slice();
    expect(mem.write(gaddr(2 * PAGE_SIZE - 4), pattern(8, 1))).toBe(false);
    expect(mem.write(gaddr(2 * PAGE_SIZE), pattern(1, 1))).toBe(false);
    expect(mem.write(gaddr(-1), pattern(1, 1))).toBe(false);
    expect(mem.write(gaddr(0.5), pattern(1, 1))).toBe(false);
    expect([...frames.read(b)]).toEqual([...before]);
    const out = new Uint8Array(4).fill(0xee);
    expect(mem.read(gaddr(2 * PAGE_SIZE - 2), out)).toBe(false);
    expect(mem.read(gaddr(2 * PAGE_SIZE), out)).toBe(false);
    expect([...out]).toEqual([0xee, 0xee, 0xee, 0xee]);
    // Zero bytes: nothing to copy, true where the address is the domain's.
    expect(mem.write(gaddr(16), new Uint8Array(0))).toBe(true);
    expect(mem.read(gaddr(16), new Uint8Array(0))).toBe(true);
    // Every write went into the snapshot's undo log: a restore puts both pages back.
    frames.restore(s);
    expect(frames.read(a).every((x) => x === 0)).toBe(true);
    expect(frames.read(b).every((x) => x === 0)).toBe(true);
  });

  it('a mapping at a far gfn is one sparse entry: lookup, locate, the M2P and unmapping see it, the dense p2m does not grow', () => {
    const { frames, mem, a, b } = twoFramesApart();
    const far = gfn(MAX_GFNS - 2);
    mem.set(far, b);
    expect(mem.p2m.length).toBe(4);
    expect(mem.sparse.size).toBe(1);
    expect(mem.lookup(far)).toBe(b);
    expect(mem.lookup(gfn(DENSE_GFNS + 5))).toBeUndefined();
    expect(mem.locate(BigInt(far) * BigInt(PAGE_SIZE) + 8n, 8)).toBe(b * PAGE_SIZE + 8);
    expect(mem.gfnsOf(b)).toEqual([1, far]);
    expect(mem.populated()).toBe(3);
    expect(mem.highestMapped()).toBe(far);
    const seen: number[] = [];
    mem.forEachMapped((g) => seen.push(g));
    expect(seen).toEqual([0, 1, far]);
    mem.set(far, undefined);
    expect(mem.sparse.size).toBe(0);
    expect(mem.highestMapped()).toBe(1);
    // Below DENSE_GFNS the dense part grows as before; unmapping beyond it changes nothing.
    mem.set(gfn(9), a);
    expect(mem.p2m.length).toBe(10);
    mem.set(gfn(20), undefined);
    expect(mem.p2m.length).toBe(10);
    expect(() => mem.set(gfn(MAX_GFNS), a)).toThrow(RangeError);
    expect(frames.count).toBe(8);
  });
});
