/**
 * A domain's view of memory: its physical-to-machine map (p2m) and access at guest
 * addresses, both for the VMM's own code (read/write) and for the generated dispatchers
 * and codecs (`locate`, the runtime's GuestMemory interface: an offset into the machine's
 * one buffer). An address outside the domain's populated frames is a fault, reported as a
 * value, never an exception of ours: the dispatchers turn it into -EFAULT.
 *
 * Guest addresses are guest-physical (pseudo-physical) here: the model of a kernel that
 * maps its memory 1:1, as the reference VMM's scripted and fuzzed guests do.
 */
import type { GuestMemory as DispatchMemory } from '../../generated/xen/runtime.js';
import { type Gfn, type GuestAddress, type Mfn, gfn, mfn, PAGE_SIZE } from '../addr.js';
import { BOUNCE_PAGES, type FrameTable } from './frames.js';

/** No machine frame behind a guest frame. */
export const INVALID_MFN = -1;

/** The highest guest address the model handles (a JavaScript number holds it exactly). */
const MAX_SAFE_ADDRESS = BigInt(Number.MAX_SAFE_INTEGER);
/** `onePage`'s answers other than a frame: the page is not there; the range is not within one page. */
const ABSENT = -1;
const SPANS = -2;
/** Copies up to this many bytes go byte by byte (creating a view costs more). */
const SMALL_COPY = 64;

/** The largest p2m the model keeps (2^24 frames = 64 GiB of guest-physical space). */
export const MAX_GFNS = 1 << 24;

/**
 * Guest frames below this (16 MiB of guest-physical space, more than the model's domains
 * populate) are kept in a dense array; those above, in a map of the populated ones: like
 * Xen's radix p2m, a mapping at a far gfn costs one entry, not the array up to it.
 */
export const DENSE_GFNS = 1 << 12;

interface Bounce {
  offset: number;
  pieces: { at: number; length: number }[];
  /** The bytes as assembled, to copy back only what was written through the bounce. */
  original: Uint8Array;
}

/** The p2m of one domain and access to its memory through the machine's frames. */
export class GuestMemory implements DispatchMemory {
  /** gfn → mfn below `maxFrames` (the dense part, at most DENSE_GFNS), INVALID_MFN where unpopulated. */
  p2m: Int32Array;
  /** gfn → mfn at and above DENSE_GFNS, populated entries only. */
  sparse = new Map<number, number>();
  readonly view: DataView;
  private bounces: Bounce[] = [];
  private bounceTop = 0;

  /** Entries of the p2m (one past the highest guest frame it can hold). */
  maxFrames: number;

  constructor(
    private readonly frames: FrameTable,
    maxFrames: number,
  ) {
    this.maxFrames = maxFrames;
    this.p2m = new Int32Array(maxFrames).fill(INVALID_MFN);
    this.view = frames.view;
  }

  /** The machine frame behind a guest frame, or undefined. */
  lookup(g: Gfn): Mfn | undefined {
    if (g >= 0 && g < this.maxFrames && Number.isInteger(g)) {
      const m = this.p2m[g] as number;
      return m === INVALID_MFN ? undefined : mfn(m);
    }
    if (this.sparse.size === 0 || !Number.isInteger(g)) return undefined;
    const m = this.sparse.get(g);
    return m === undefined ? undefined : mfn(m);
  }

  /** Maps a guest frame to a machine frame (undefined: unmap); the p2m grows as needed. */
  set(g: Gfn, m: Mfn | undefined): void {
    if (!Number.isInteger(g) || g < 0 || g >= MAX_GFNS) throw new RangeError(`gfn ${g} beyond the largest p2m (${MAX_GFNS} frames)`);
    if (g >= DENSE_GFNS) {
      if (m === undefined) this.sparse.delete(g);
      else this.sparse.set(g, m);
      return;
    }
    if (g >= this.maxFrames) {
      if (m === undefined) return;
      this.grow(g + 1);
    }
    this.p2m[g] = m === undefined ? INVALID_MFN : m;
  }

  /** Calls `f` for every populated guest frame, in gfn order within each part (dense, then sparse). */
  forEachMapped(f: (g: number, m: number) => void): void {
    const p2m = this.p2m;
    for (let g = 0; g < p2m.length; g++) {
      const m = p2m[g] as number;
      if (m !== INVALID_MFN) f(g, m);
    }
    if (this.sparse.size > 0) for (const g of [...this.sparse.keys()].sort((a, b) => a - b)) f(g, this.sparse.get(g) as number);
  }

  /** Every guest frame mapping machine frame `m` (the M2P, found the slow way). */
  gfnsOf(m: number): Gfn[] {
    const out: Gfn[] = [];
    const p2m = this.p2m;
    // indexOf is a native scan of the typed array (the dense part is up to 4096 entries).
    for (let g = p2m.indexOf(m); g >= 0; g = p2m.indexOf(m, g + 1)) out.push(gfn(g));
    if (this.sparse.size > 0) {
      for (const [g, x] of this.sparse) if (x === m) out.push(gfn(g));
      out.sort((a, b) => a - b);
    }
    return out;
  }

  /** The highest populated guest frame, or -1. */
  highestMapped(): number {
    let top = -1;
    for (const g of this.sparse.keys()) if (g > top) top = g;
    if (top >= 0) return top;
    const p2m = this.p2m;
    for (let g = p2m.length - 1; g >= 0; g--) if ((p2m[g] as number) !== INVALID_MFN) return g;
    return -1;
  }

  /** Extends the dense p2m to `frames` entries (new entries unpopulated). */
  grow(frames: number): void {
    if (frames <= this.maxFrames) return;
    if (frames > DENSE_GFNS) throw new RangeError(`the dense p2m ends at ${DENSE_GFNS} frames; frames above it are kept sparse`);
    const p = new Int32Array(frames).fill(INVALID_MFN);
    p.set(this.p2m);
    this.p2m = p;
    this.maxFrames = frames;
  }

  /** Number of populated guest frames. */
  populated(): number {
    let n = 0;
    for (const m of this.p2m) if (m !== INVALID_MFN) n++;
    return n + this.sparse.size;
  }

  /**
   * The offset in the machine buffer of `size` bytes at guest address `addr`, or -1 when
   * any of them is not the domain's memory. The pages are saved for the snapshot first,
   * since the caller may write through the view. A range over frames that are not adjacent
   * in host memory is assembled in a bounce area and copied back by `flush()`.
   */
  locate(addr: bigint, size: number): number {
    if (addr < 0n || size < 0 || addr > MAX_SAFE_ADDRESS) return -1;
    const a = Number(addr);
    const first = Math.floor(a / PAGE_SIZE);
    const off = a - first * PAGE_SIZE;
    if (off + size <= PAGE_SIZE) {
      // Within one page (the usual case): no bounce, at most one page to save.
      const m = first < this.maxFrames ? (this.p2m[first] as number) : this.sparse.size === 0 ? INVALID_MFN : (this.sparse.get(first) ?? INVALID_MFN);
      if (m === INVALID_MFN) return -1;
      if (size > 0) this.frames.touch(m);
      return m * PAGE_SIZE + off;
    }
    const last = Math.floor((a + size - 1) / PAGE_SIZE);
    const m0 = this.lookup(gfn(first));
    if (m0 === undefined) return -1;
    this.frames.touch(m0);
    let contiguous = true;
    for (let g = first + 1; g <= last; g++) {
      const m = this.lookup(gfn(g));
      if (m === undefined) return -1;
      this.frames.touch(m);
      if (m !== m0 + (g - first)) contiguous = false;
    }
    if (contiguous) return m0 * PAGE_SIZE + (a % PAGE_SIZE);
    return this.bounce(a, size);
  }

  private bounce(a: number, size: number): number {
    const base = this.frames.count * PAGE_SIZE;
    if (this.bounceTop + size > BOUNCE_PAGES * PAGE_SIZE) return -1;
    const offset = base + this.bounceTop;
    const pieces: Bounce['pieces'] = [];
    let done = 0;
    while (done < size) {
      const at = a + done;
      const m = this.lookup(gfn(Math.floor(at / PAGE_SIZE))) as Mfn;
      const n = Math.min(PAGE_SIZE - (at % PAGE_SIZE), size - done);
      const from = m * PAGE_SIZE + (at % PAGE_SIZE);
      this.frames.bytes.copyWithin(offset + done, from, from + n);
      pieces.push({ at: from, length: n });
      done += n;
    }
    this.bounces.push({ offset, pieces, original: this.frames.bytes.slice(offset, offset + size) });
    this.bounceTop += size;
    return offset;
  }

  /** Copies bounce areas back to their frames; called at the end of every hypercall. */
  flush(): void {
    if (this.bounces.length === 0) return;
    const bytes = this.frames.bytes;
    for (const b of this.bounces) {
      // Only bytes written through the bounce go back: the frames may have changed by
      // another route during the call (a page-table update), and must keep that change.
      let done = 0;
      for (const p of b.pieces) {
        for (let k = 0; k < p.length; k++) {
          const now = bytes[b.offset + done + k] as number;
          if (now !== b.original[done + k]) bytes[p.at + k] = now;
        }
        done += p.length;
      }
    }
    this.bounces = [];
    this.bounceTop = 0;
  }

  /** Copies guest bytes into `out`; false on a fault. */
  read(addr: GuestAddress, out: Uint8Array): boolean {
    const len = out.length;
    const m0 = this.onePage(addr, len);
    if (m0 >= 0) {
      // Within one page (the usual case): copied in place, small reads without a view.
      const from = m0 * PAGE_SIZE + (addr % PAGE_SIZE);
      const bytes = this.frames.bytes;
      if (len <= SMALL_COPY) for (let k = 0; k < len; k++) out[k] = bytes[from + k] as number;
      else out.set(bytes.subarray(from, from + len));
      return true;
    }
    if (m0 === ABSENT) return false;
    const o = this.locateRead(addr, out.length);
    if (o === undefined) return false;
    let done = 0;
    while (done < out.length) {
      const a = addr + done;
      const n = Math.min(PAGE_SIZE - (a % PAGE_SIZE), out.length - done);
      const m = this.lookup(gfn(Math.floor(a / PAGE_SIZE))) as Mfn;
      out.set(this.frames.read(m).subarray(a % PAGE_SIZE, (a % PAGE_SIZE) + n), done);
      done += n;
    }
    return true;
  }

  /** Copies bytes into guest memory; false (nothing written) on a fault. */
  write(addr: GuestAddress, data: Uint8Array): boolean {
    const len = data.length;
    const m0 = this.onePage(addr, len);
    if (m0 >= 0) {
      const frames = this.frames;
      frames.touch(m0);
      const to = m0 * PAGE_SIZE + (addr % PAGE_SIZE);
      const bytes = frames.bytes;
      if (len <= SMALL_COPY) for (let k = 0; k < len; k++) bytes[to + k] = data[k] as number;
      else bytes.set(data, to);
      return true;
    }
    if (m0 === ABSENT) return false;
    if (this.locateRead(addr, data.length) === undefined) return false;
    let done = 0;
    while (done < data.length) {
      const a = addr + done;
      const n = Math.min(PAGE_SIZE - (a % PAGE_SIZE), data.length - done);
      const m = this.lookup(gfn(Math.floor(a / PAGE_SIZE))) as Mfn;
      this.frames.write(m).set(data.subarray(done, done + n), a % PAGE_SIZE);
      done += n;
    }
    return true;
  }

  /**
   * The machine frame of [addr, addr+len) when it lies in one populated page; ABSENT when
   * that page is not populated (or the range is not an address range); SPANS otherwise (more
   * than one page, or nothing to copy).
   */
  private onePage(addr: number, len: number): number {
    if (!Number.isSafeInteger(addr) || addr < 0 || !Number.isSafeInteger(len) || len < 0) return ABSENT;
    const g = Math.floor(addr / PAGE_SIZE);
    if (len === 0 || addr - g * PAGE_SIZE + len > PAGE_SIZE) return SPANS;
    const m = g < this.maxFrames ? (this.p2m[g] as number) : this.sparse.size === 0 ? INVALID_MFN : (this.sparse.get(g) ?? INVALID_MFN);
    return m === INVALID_MFN ? ABSENT : m;
  }

  /** Whether [addr, addr+len) is the domain's memory (no page is touched). */
  private locateRead(addr: number, len: number): true | undefined {
    if (!Number.isSafeInteger(addr) || addr < 0 || !Number.isSafeInteger(len) || len < 0) return undefined;
    if (len === 0) return true;
    const first = Math.floor(addr / PAGE_SIZE);
    const last = Math.floor((addr + len - 1) / PAGE_SIZE);
    for (let g = first; g <= last; g++) if (this.lookup(gfn(g)) === undefined) return undefined;
    return true;
  }
}
