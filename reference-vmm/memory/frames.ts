/**
 * Host memory: machine frames of 4 KiB in one contiguous buffer, with Xen's frame-table
 * metadata (owner, page type, type count, reference count, pinned), and snapshots whose
 * restore costs what changed since: the first write to a page after a snapshot saves the
 * page (an undo log), and a restore copies back only the saved pages.
 *
 * Every write to page contents must go through `write()` or `touch()`; the generated codecs
 * reach guest memory through `GuestMemory.locate`, which touches the pages it hands out.
 */
import { type Mfn, mfn, PAGE_SIZE } from '../addr.js';

/** Xen's page types (the PGT_* of xen/arch/x86/mm.c), as guest-observable states of a frame. */
export enum PageType {
  None = 0,
  L1 = 1,
  L2 = 2,
  L3 = 3,
  L4 = 4,
  SegDesc = 5,
  Writable = 7,
}

/** No owner: a free frame. */
export const NO_OWNER = -1;

/** Pages after the last frame used to assemble guest ranges that straddle non-adjacent frames. */
export const BOUNCE_PAGES = 4;

/** A saved frame table. Only the latest snapshot of a table can be restored. */
export interface FramesSnapshot {
  /** owner, type, typeCount, refCount and pinned, back to back (see FrameTable.meta). */
  readonly meta: Int32Array;
  readonly freeList: Int32Array;
  /** Pages written since the snapshot, by frame, with their contents at the snapshot. */
  readonly undo: Map<number, Uint8Array>;
}

/** The machine's frames. */
export class FrameTable {
  readonly count: number;
  /** Every frame's bytes (frame f at f * PAGE_SIZE), then BOUNCE_PAGES of scratch. */
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /**
   * Every frame's metadata in one array, so a snapshot copies one buffer: the views below
   * (owner, type, typeCount, refCount, pinned) are consecutive sections of it.
   */
  private readonly meta: Int32Array;
  readonly owner: Int32Array;
  readonly type: Int32Array;
  readonly typeCount: Int32Array;
  readonly refCount: Int32Array;
  readonly pinned: Int32Array;
  /** Free frames as a stack in a typed array (cheap to copy at a snapshot); the top is at freeTop - 1. */
  private freeStack: Int32Array;
  private freeTop: number;
  private current: FramesSnapshot | undefined;
  /**
   * One past the highest frame ever allocated (never lowered). Frames above it were never
   * handed out; invariant checks scan below it and only compare the rest with a free
   * frame's metadata (memcmp), which a stray write there still fails.
   */
  highWater = 0;
  /** Pages whose contents the last `restore()` copied back (the ones written since the snapshot). */
  pagesRestored = 0;
  /** 1 where the current snapshot's undo log already holds the page. */
  private saved: Uint8Array;

  constructor(count: number) {
    if (!Number.isInteger(count) || count <= 0) throw new RangeError(`frame count must be a positive integer, got ${count}`);
    this.count = count;
    this.bytes = new Uint8Array((count + BOUNCE_PAGES) * PAGE_SIZE);
    this.view = new DataView(this.bytes.buffer);
    this.meta = new Int32Array(5 * count);
    this.owner = this.meta.subarray(0, count).fill(NO_OWNER);
    this.type = this.meta.subarray(count, 2 * count);
    this.typeCount = this.meta.subarray(2 * count, 3 * count);
    this.refCount = this.meta.subarray(3 * count, 4 * count);
    this.pinned = this.meta.subarray(4 * count, 5 * count);
    this.saved = new Uint8Array(count);
    // Allocation hands out the lowest free frames first (pop from the end).
    this.freeStack = new Int32Array(count);
    for (let i = 0; i < count; i++) this.freeStack[i] = count - 1 - i;
    this.freeTop = count;
  }

  /** Whether a number is a frame of this machine. */
  valid(f: number): f is Mfn {
    return Number.isInteger(f) && f >= 0 && f < this.count;
  }

  /** Frames not owned by anyone. */
  get free(): number {
    return this.freeTop;
  }

  /** Allocates a zeroed frame to a domain, or undefined when memory is exhausted. */
  alloc(domid: number): Mfn | undefined {
    if (this.freeTop === 0) return undefined;
    const f = this.freeStack[--this.freeTop] as number;
    this.claim(f, domid);
    return mfn(f);
  }

  /** Gives a free frame to a domain: a writable page with one reference, zeroed. */
  private claim(f: number, domid: number): void {
    if (f >= this.highWater) this.highWater = f + 1;
    this.owner[f] = domid;
    this.type[f] = PageType.Writable;
    this.typeCount[f] = 0;
    this.refCount[f] = 1;
    this.pinned[f] = 0;
    this.write(mfn(f)).fill(0);
  }

  /**
   * Allocates 2^order contiguous zeroed frames, naturally aligned, all below frame `limit`
   * (Xen's alloc_domheap_pages with MEMF_bits), to a domain; the first frame, or undefined.
   */
  allocExtent(domid: number, order: number, limit = this.count): Mfn | undefined {
    const n = 2 ** order;
    const end = Math.min(limit, this.count);
    if (n === 1) {
      const f = this.freeTop > 0 ? this.freeStack[this.freeTop - 1] : undefined;
      if (f !== undefined && f < end) return this.alloc(domid);
    }
    for (let base = 0; base + n <= end; base += n) {
      let free = true;
      for (let i = 0; i < n && free; i++) free = this.owner[base + i] === NO_OWNER;
      if (!free) continue;
      let top = 0;
      for (let k = 0; k < this.freeTop; k++) {
        const f = this.freeStack[k] as number;
        if (f < base || f >= base + n) this.freeStack[top++] = f;
      }
      this.freeTop = top;
      for (let i = 0; i < n; i++) {
        this.claim(base + i, domid);
      }
      return mfn(base);
    }
    return undefined;
  }

  /** Returns a frame to the free pool. */
  release(f: Mfn): void {
    if (this.owner[f] === NO_OWNER) throw new Error(`frame ${f} released twice`);
    this.owner[f] = NO_OWNER;
    this.type[f] = PageType.None;
    this.typeCount[f] = 0;
    this.refCount[f] = 0;
    this.pinned[f] = 0;
    this.freeStack[this.freeTop++] = f;
  }

  /** Saves a page's contents in the current snapshot's undo log before its first change. */
  touch(f: number): void {
    const s = this.current;
    if (s === undefined || this.saved[f] === 1) return;
    this.saved[f] = 1;
    const copy = this.spare.pop() ?? new Uint8Array(PAGE_SIZE);
    copy.set(this.bytes.subarray(f * PAGE_SIZE, (f + 1) * PAGE_SIZE));
    s.undo.set(f, copy);
  }

  /** Page buffers of undo logs already restored, for reuse (a fuzzer restores thousands of times a second). */
  private readonly spare: Uint8Array[] = [];

  /** A frame's bytes, for reading. */
  read(f: Mfn): Uint8Array {
    return this.bytes.subarray(f * PAGE_SIZE, (f + 1) * PAGE_SIZE);
  }

  /** A frame's bytes, for writing (saved first when a snapshot needs them). */
  write(f: Mfn): Uint8Array {
    this.touch(f);
    return this.bytes.subarray(f * PAGE_SIZE, (f + 1) * PAGE_SIZE);
  }

  /** Saves the frame table: metadata copies now, page contents lazily on first write. */
  snapshot(): FramesSnapshot {
    if (this.current) for (const f of this.current.undo.keys()) this.saved[f] = 0;
    this.current = {
      meta: this.meta.slice(),
      freeList: this.freeStack.slice(0, this.freeTop),
      undo: new Map(),
    };
    return this.current;
  }

  /** Restores the latest snapshot; it stays current, so it can be restored again. */
  restore(s: FramesSnapshot): void {
    if (s !== this.current) throw new Error('only the latest snapshot of a machine can be restored');
    this.pagesRestored = s.undo.size;
    for (const [f, page] of s.undo) {
      this.bytes.set(page, f * PAGE_SIZE);
      this.saved[f] = 0;
      if (this.spare.length < 256) this.spare.push(page);
    }
    s.undo.clear();
    this.meta.set(s.meta);
    this.freeStack.set(s.freeList);
    this.freeTop = s.freeList.length;
  }
}

const asBuffer = (a: Int32Array, from = 0): Buffer => Buffer.from(a.buffer, a.byteOffset + 4 * from, 4 * (a.length - from));
let zeros = new Int32Array(0);
let minusOnes = new Int32Array(0);
/** Whether a[from..] is all 0 (a native compare). */
export function zeroTail(a: Int32Array, from: number): boolean {
  if (zeros.length < a.length) zeros = new Int32Array(a.length);
  return Buffer.compare(asBuffer(a, from), asBuffer(zeros.subarray(0, a.length - from))) === 0;
}
/** Whether a[from..] is all NO_OWNER (a native compare). */
export function freeTail(a: Int32Array, from: number): boolean {
  if (minusOnes.length < a.length) minusOnes = new Int32Array(a.length).fill(NO_OWNER);
  return Buffer.compare(asBuffer(a, from), asBuffer(minusOnes.subarray(0, a.length - from))) === 0;
}
