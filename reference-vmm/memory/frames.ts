/**
 * Host memory: machine frames of 4 KiB with Xen's frame-table metadata (owner, page type,
 * type count, reference count), and copy-on-write page contents so a snapshot costs nothing
 * and a restore costs what changed since.
 *
 * Metadata lives in typed arrays (copied whole at a snapshot: a few KiB); page contents are
 * shared between the live machine and its snapshots until written.
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

/** A saved frame table: metadata copies and the page objects that were live. */
export interface FramesSnapshot {
  readonly owner: Int32Array;
  readonly type: Uint8Array;
  readonly typeCount: Int32Array;
  readonly refCount: Int32Array;
  readonly pinned: Uint8Array;
  readonly pages: (Uint8Array | undefined)[];
  readonly freeList: number[];
}

/** The machine's frames. */
export class FrameTable {
  readonly count: number;
  owner: Int32Array;
  type: Uint8Array;
  typeCount: Int32Array;
  refCount: Int32Array;
  pinned: Uint8Array;
  /** Page contents, allocated on first write; `shared[i]` marks a page a snapshot also holds. */
  private pages: (Uint8Array | undefined)[];
  private shared: Uint8Array;
  private freeList: number[];

  constructor(count: number) {
    if (!Number.isInteger(count) || count <= 0) throw new RangeError(`frame count must be a positive integer, got ${count}`);
    this.count = count;
    this.owner = new Int32Array(count).fill(NO_OWNER);
    this.type = new Uint8Array(count);
    this.typeCount = new Int32Array(count);
    this.refCount = new Int32Array(count);
    this.pinned = new Uint8Array(count);
    this.pages = new Array<Uint8Array | undefined>(count);
    this.shared = new Uint8Array(count);
    // Allocation hands out the lowest free frames first (pop from the end).
    this.freeList = [];
    for (let i = count - 1; i >= 0; i--) this.freeList.push(i);
  }

  /** Whether a frame number is a frame of this machine. */
  valid(f: number): f is Mfn {
    return Number.isInteger(f) && f >= 0 && f < this.count;
  }

  /** Frames not owned by anyone. */
  get free(): number {
    return this.freeList.length;
  }

  /** Allocates a zeroed frame to a domain, or undefined when memory is exhausted. */
  alloc(domid: number): Mfn | undefined {
    const f = this.freeList.pop();
    if (f === undefined) return undefined;
    this.owner[f] = domid;
    this.type[f] = PageType.Writable;
    this.typeCount[f] = 0;
    this.refCount[f] = 1;
    this.pinned[f] = 0;
    this.dropPage(f);
    return mfn(f);
  }

  /** Returns a frame to the free pool. */
  release(f: Mfn): void {
    if (this.owner[f] === NO_OWNER) throw new Error(`frame ${f} released twice`);
    this.owner[f] = NO_OWNER;
    this.type[f] = PageType.None;
    this.typeCount[f] = 0;
    this.refCount[f] = 0;
    this.pinned[f] = 0;
    this.dropPage(f);
    this.freeList.push(f);
  }

  private dropPage(f: number): void {
    this.pages[f] = undefined;
    this.shared[f] = 0;
  }

  /** The page for reading (a shared zero page view when never written). */
  read(f: Mfn): Uint8Array {
    return this.pages[f] ?? ZERO_PAGE;
  }

  /** The page for writing: allocated or copied first when a snapshot shares it. */
  write(f: Mfn): Uint8Array {
    let p = this.pages[f];
    if (p === undefined) {
      p = new Uint8Array(PAGE_SIZE);
      this.pages[f] = p;
      this.shared[f] = 0;
    } else if (this.shared[f] === 1) {
      p = p.slice();
      this.pages[f] = p;
      this.shared[f] = 0;
    }
    return p;
  }

  /** Saves the frame table. Page contents become shared with the snapshot (copy on write). */
  snapshot(): FramesSnapshot {
    this.shared.fill(1);
    return {
      owner: this.owner.slice(),
      type: this.type.slice(),
      typeCount: this.typeCount.slice(),
      refCount: this.refCount.slice(),
      pinned: this.pinned.slice(),
      pages: this.pages.slice(),
      freeList: this.freeList.slice(),
    };
  }

  /** Restores a snapshot taken from this table. The snapshot stays usable. */
  restore(s: FramesSnapshot): void {
    if (s.owner.length !== this.count) throw new Error('snapshot is of another frame table');
    this.owner.set(s.owner);
    this.type.set(s.type);
    this.typeCount.set(s.typeCount);
    this.refCount.set(s.refCount);
    this.pinned.set(s.pinned);
    for (let i = 0; i < this.count; i++) this.pages[i] = s.pages[i];
    this.shared.fill(1);
    this.freeList = s.freeList.slice();
  }
}

const ZERO_PAGE = new Uint8Array(PAGE_SIZE);
