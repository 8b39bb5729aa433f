/**
 * A domain's view of memory: its physical-to-machine map (p2m) and byte access at guest
 * addresses. An address outside the domain's populated frames is a fault, reported as a
 * value (false / undefined), never an exception: hypercall handlers turn it into -EFAULT.
 *
 * Guest addresses are guest-physical (pseudo-physical) here: the model of a kernel that maps
 * its memory 1:1, as the reference VMM's scripted and fuzzed guests do.
 */
import { type Gfn, type GuestAddress, type Mfn, gfn, mfn, PAGE_SIZE } from '../addr.js';
import type { FrameTable } from './frames.js';

/** No machine frame behind a guest frame. */
export const INVALID_MFN = -1;

/** The p2m of one domain and access to its memory through the machine's frames. */
export class GuestMemory {
  /** gfn → mfn, INVALID_MFN where unpopulated. */
  p2m: Int32Array;

  constructor(
    private readonly frames: FrameTable,
    readonly maxFrames: number,
  ) {
    this.p2m = new Int32Array(maxFrames).fill(INVALID_MFN);
  }

  /** The machine frame behind a guest frame, or undefined. */
  lookup(g: Gfn): Mfn | undefined {
    if (!Number.isInteger(g) || g < 0 || g >= this.maxFrames) return undefined;
    const m = this.p2m[g] as number;
    return m === INVALID_MFN ? undefined : mfn(m);
  }

  /** Maps a guest frame to a machine frame (undefined: unmap). */
  set(g: Gfn, m: Mfn | undefined): void {
    if (!Number.isInteger(g) || g < 0 || g >= this.maxFrames) throw new RangeError(`gfn ${g} beyond the p2m (${this.maxFrames} frames)`);
    this.p2m[g] = m === undefined ? INVALID_MFN : m;
  }

  /** Number of populated guest frames. */
  populated(): number {
    let n = 0;
    for (const m of this.p2m) if (m !== INVALID_MFN) n++;
    return n;
  }

  /** Whether [addr, addr+len) lies in populated frames. */
  accessible(addr: GuestAddress, len: number): boolean {
    if (!Number.isSafeInteger(addr) || addr < 0 || !Number.isSafeInteger(len) || len < 0) return false;
    if (len === 0) return true;
    const first = Math.floor(addr / PAGE_SIZE);
    const last = Math.floor((addr + len - 1) / PAGE_SIZE);
    for (let f = first; f <= last; f++) if (this.lookup(gfn(f)) === undefined) return false;
    return true;
  }

  /** Copies guest bytes into `out`; false (and `out` unspecified) on a fault. */
  read(addr: GuestAddress, out: Uint8Array): boolean {
    if (!this.accessible(addr, out.length)) return false;
    let done = 0;
    while (done < out.length) {
      const a = addr + done;
      const off = a % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, out.length - done);
      const page = this.frames.read(this.lookup(gfn(Math.floor(a / PAGE_SIZE))) as Mfn);
      out.set(page.subarray(off, off + n), done);
      done += n;
    }
    return true;
  }

  /** Copies bytes into guest memory; false (nothing written) on a fault. */
  write(addr: GuestAddress, data: Uint8Array): boolean {
    if (!this.accessible(addr, data.length)) return false;
    let done = 0;
    while (done < data.length) {
      const a = addr + done;
      const off = a % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, data.length - done);
      const page = this.frames.write(this.lookup(gfn(Math.floor(a / PAGE_SIZE))) as Mfn);
      page.set(data.subarray(done, done + n), off);
      done += n;
    }
    return true;
  }

  /**
   * A DataView over the bytes at `addr` when they lie within one page (the common case for
   * a hypercall argument struct), for in-place decoding; undefined when they straddle pages or
   * fault. `forWrite` makes the page private first (copy on write).
   */
  view(addr: GuestAddress, len: number, forWrite: boolean): { view: DataView; offset: number } | undefined {
    if (!Number.isSafeInteger(addr) || addr < 0 || len <= 0) return undefined;
    const off = addr % PAGE_SIZE;
    if (off + len > PAGE_SIZE) return undefined;
    const m = this.lookup(gfn(Math.floor(addr / PAGE_SIZE)));
    if (m === undefined) return undefined;
    const page = forWrite ? this.frames.write(m) : this.frames.read(m);
    return { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: off };
  }
}
