/**
 * Grant-table state of the reference VMM, per domain: the version, the shared frames (and v2
 * status frames) that live in machine frames the domain reaches as guest memory, the active
 * entries (pin counts per kind, Xen's struct active_grant_entry) and the domain's maptrack
 * (its mapping handles, with Xen's per-vCPU free lists so handles come out in Xen's order).
 *
 * Where the table frames are: shared frame i at gfn `sharedInfoGfn + 1 + i`, status frame j
 * at gfn `sharedInfoGfn + 1 + maxFrames + j`, i.e. just beyond RAM and shared_info (as after
 * XENMEM_add_to_physmap of XENMAPSPACE_grant_table). A table's frames are materialized (host
 * frames allocated and mapped in the p2m) the first time a grant operation touches the table;
 * until then its one initial frame reads as zeroes, exactly as Xen's freshly cleared frame.
 *
 * @see xen/common/grant_table.c (RELEASE-4.17.7): struct grant_table, active_grant_entry,
 *      grant_mapping, get_maptrack_handle/put_maptrack_handle.
 */
import { type Gfn, type Mfn, gfn } from '../addr.js';
import type { Domain, Machine } from '../machine.js';
import { PageType } from '../memory/frames.js';

/**
 * Xen-internal sizes (not part of the ABI, so not in the spec). INITIAL_NR_GRANT_FRAMES is
 * 1 on x86 and Arm; the gnttab_max_frames / gnttab_max_maptrack_frames defaults of 4.17;
 * MAPTRACK_PER_PAGE = PAGE_SIZE / sizeof(struct grant_mapping) (16 bytes).
 */
export const INITIAL_NR_GRANT_FRAMES = 1;
export const DEFAULT_MAX_GRANT_FRAMES = 64;
export const DEFAULT_MAX_MAPTRACK_FRAMES = 1024;
export const MAPTRACK_PER_PAGE = 256;
/** End of a maptrack free list (Xen's MAPTRACK_TAIL, ~0u). */
export const MAPTRACK_TAIL = -1;

/** Pin counters of an active entry: four 8-bit counts in one word, as Xen packs them. */
export const PIN = {
  hostWrite: 1 << 0,
  hostRead: 1 << 8,
  devWrite: 1 << 16,
  devRead: 1 << 24,
  writeMask: 0xff | (0xff << 16),
} as const;

/** Xen's active_grant_entry (kept only while pinned: an unpinned entry has no observable state). */
export interface Active {
  pin: number;
  /** The grantee. */
  domid: number;
  mfn: number;
  start: number;
  length: number;
  isSubPage: boolean;
  /** For v2 transitive grants: the domain and entry the grant was acquired through. */
  transDom: number;
  transRef: number;
}

/** Per-domain limits, as the toolstack sets them at domain creation. */
export interface GrantLimits {
  maxGrantFrames: number;
  maxMaptrackFrames: number;
  /** 2 on x86 (gnttab=max-ver default), 1 on Arm. */
  maxVersion: number;
}

/** The grant state of one domain (as granter and as grantee). */
export interface GrantTable {
  domid: number;
  version: number;
  nrFrames: number;
  limits: GrantLimits;
  /** Machine frames of the shared entries (materialized: length nrFrames, else 0). */
  shared: number[];
  /** Machine frames of the v2 status words. */
  status: number[];
  /** Active entries by grant ref (only pinned ones). */
  active: Map<number, Active>;
  /** Maptrack, by handle: ref (free: next in the free list), flags (0: free), domid, vcpu. */
  mtRef: number[];
  mtFlags: number[];
  mtDomid: number[];
  mtVcpu: number[];
  /** Per-vCPU free-list head and tail (Xen's v->maptrack_head/tail). */
  mtHead: number[];
  mtTail: number[];
  /** Translated host mappings: gfn → granted frame (p2m_grant_map_rw/ro entries). */
  p2mGrants: Map<number, { mfn: number; ro: boolean }>;
}

/** Entries per shared frame and per status frame, from the entry sizes. */
export function entriesPerFrame(version: number, v1Size: number, v2Size: number, pageSize: number): number {
  return pageSize / (version === 1 ? v1Size : v2Size);
}

/** All grant tables of a machine, with snapshot/restore and invariants. */
export class GrantState {
  tables = new Map<number, GrantTable>();
  /** Limits for domains whose table does not exist yet (host configuration). */
  readonly configured = new Map<number, Partial<GrantLimits>>();

  constructor(
    readonly machine: Machine,
    readonly defaults: (d: Domain) => GrantLimits,
  ) {}

  /** The table of a domain, created on first use (version 1, one frame). */
  table(d: Domain): GrantTable {
    let t = this.tables.get(d.id);
    if (t === undefined) {
      const nv = d.vcpus.length;
      t = {
        domid: d.id,
        version: 1,
        nrFrames: INITIAL_NR_GRANT_FRAMES,
        limits: { ...this.defaults(d), ...this.configured.get(d.id) },
        shared: [],
        status: [],
        active: new Map(),
        mtRef: [],
        mtFlags: [],
        mtDomid: [],
        mtVcpu: [],
        mtHead: new Array<number>(nv).fill(MAPTRACK_TAIL),
        mtTail: new Array<number>(nv).fill(MAPTRACK_TAIL),
        p2mGrants: new Map(),
      };
      this.tables.set(d.id, t);
    }
    return t;
  }

  /** The first gfn of a domain's grant frames. */
  base(d: Domain): number {
    return d.sharedInfoGfn + 1;
  }

  /** The gfn where the domain sees shared frame i. */
  sharedGfn(d: Domain, t: GrantTable, i: number): Gfn {
    return gfn(this.base(d) + i);
  }

  /** The gfn where the domain sees status frame j. */
  statusGfn(d: Domain, t: GrantTable, j: number): Gfn {
    return gfn(this.base(d) + t.limits.maxGrantFrames + j);
  }

  /** Allocates one table frame for the domain and maps it at `g`; false when out of memory. */
  private addFrame(d: Domain, list: number[], g: Gfn): boolean {
    const m = this.machine.frames.alloc(d.id);
    if (m === undefined) return false;
    list.push(m);
    d.memory.set(g, m);
    return true;
  }

  /** Frees the last `n` frames of a list and unmaps them. */
  private dropFrames(d: Domain, list: number[], n: number, gfnOf: (i: number) => Gfn): void {
    for (let k = 0; k < n; k++) {
      const i = list.length - 1;
      const m = list.pop() as Mfn;
      if (d.memory.lookup(gfnOf(i)) === m) d.memory.set(gfnOf(i), undefined);
      this.machine.frames.release(m);
    }
  }

  /** Makes the table's frames exist (nrFrames shared, and the status frames of v2). */
  materialize(d: Domain, t: GrantTable, statusFrames: (nr: number) => number): boolean {
    return this.grow(d, t, t.nrFrames, statusFrames);
  }

  /** Xen's gnttab_grow_table: shared frames up to `nr`, v2 status frames to match; all or nothing. */
  grow(d: Domain, t: GrantTable, nr: number, statusFrames: (nr: number) => number): boolean {
    const req = Math.max(nr, INITIAL_NR_GRANT_FRAMES);
    const s0 = t.shared.length;
    const st0 = t.status.length;
    let ok = true;
    for (let i = s0; ok && i < req; i++) ok = this.addFrame(d, t.shared, this.sharedGfn(d, t, i));
    if (ok && t.version > 1) {
      for (let j = st0; ok && j < statusFrames(req); j++) ok = this.addFrame(d, t.status, this.statusGfn(d, t, j));
    }
    if (!ok) {
      this.dropFrames(d, t.status, t.status.length - st0, (j) => this.statusGfn(d, t, j));
      this.dropFrames(d, t.shared, t.shared.length - s0, (i) => this.sharedGfn(d, t, i));
      return false;
    }
    t.nrFrames = Math.max(t.nrFrames, req);
    return true;
  }

  /** Frees every status frame (v2 → v1). */
  dropStatus(d: Domain, t: GrantTable): void {
    this.dropFrames(d, t.status, t.status.length, (j) => this.statusGfn(d, t, j));
  }

  /** A copy of every table (the maps and arrays are copied; entries are small records). */
  snapshot(): Map<number, GrantTable> {
    const out = new Map<number, GrantTable>();
    for (const [id, t] of this.tables) out.set(id, cloneTable(t));
    return out;
  }

  restore(s: Map<number, GrantTable>): void {
    this.tables = new Map();
    for (const [id, t] of s) this.tables.set(id, cloneTable(t));
  }

  /** Broken invariants: pins match maptrack entries, reading/writing bits match pins, handles name live entries. */
  invariants(
    readBits: (t: GrantTable, ref: number) => number | undefined,
    bits: { reading: number; writing: number },
    nrEntries: (t: GrantTable) => number,
    pinOf: (mapFlags: number) => number,
  ): string[] {
    const out: string[] = [];
    // Pins of mappings, counted from every grantee's maptrack.
    const expected = new Map<string, number>();
    for (const lt of this.tables.values()) {
      for (let h = 0; h < lt.mtFlags.length; h++) {
        const flags = lt.mtFlags[h] as number;
        if (flags === 0) continue;
        const rd = this.machine.domain(lt.mtDomid[h] as number);
        const rt = rd ? this.tables.get(rd.id) : undefined;
        const ref = lt.mtRef[h] as number;
        if (!rd || !rt || ref >= nrEntries(rt)) {
          out.push(`domain ${lt.domid}: handle ${h} names entry ${ref} of domain ${lt.mtDomid[h]}, which does not exist`);
          continue;
        }
        const a = rt.active.get(ref);
        if (!a || a.pin === 0 || a.domid !== lt.domid) {
          out.push(`domain ${lt.domid}: handle ${h} names entry ${ref} of domain ${rd.id}, which is not pinned for it`);
          continue;
        }
        const key = `${rd.id}:${ref}`;
        expected.set(key, (expected.get(key) ?? 0) + pinOf(flags));
      }
    }
    for (const t of this.tables.values()) {
      const d = this.machine.domain(t.domid);
      if (!d) continue;
      if (t.shared.length > 0 && t.shared.length !== t.nrFrames) out.push(`domain ${t.domid}: ${t.shared.length} shared frames for ${t.nrFrames}`);
      t.shared.forEach((m, i) => {
        if (this.machine.frames.owner[m] !== t.domid) out.push(`domain ${t.domid}: shared grant frame ${i} (mfn ${m}) is not the domain's`);
      });
      for (const [ref, a] of t.active) {
        // Between hypercalls only mappings pin entries (copies release theirs before returning).
        const want = expected.get(`${t.domid}:${ref}`) ?? 0;
        if (a.pin !== want) out.push(`domain ${t.domid}: entry ${ref} has pin ${a.pin.toString(16)}, its mappings account for ${want.toString(16)}`);
        const f = readBits(t, ref);
        if (f === undefined) continue;
        if (a.pin !== 0 && (f & bits.reading) === 0) out.push(`domain ${t.domid}: entry ${ref} is pinned without GTF_reading`);
        if ((a.pin & PIN.writeMask) !== 0 && (f & bits.writing) === 0) out.push(`domain ${t.domid}: entry ${ref} is write-pinned without GTF_writing`);
        if ((a.pin & PIN.writeMask) === 0 && (f & bits.writing) !== 0) out.push(`domain ${t.domid}: entry ${ref} has GTF_writing without a write pin`);
      }
      for (const [key, want] of expected) {
        const [dom, ref] = key.split(':').map(Number) as [number, number];
        if (dom === t.domid && !t.active.has(ref)) out.push(`domain ${dom}: entry ${ref} is mapped (pin ${want.toString(16)}) but not active`);
      }
      for (const [g, pm] of t.p2mGrants) {
        if (d.memory.lookup(gfn(g)) !== pm.mfn) out.push(`domain ${t.domid}: grant mapping at gfn ${g} is not in the p2m`);
      }
    }
    return out;
  }

  /** Whether gfn g of domain domid is a grant mapping of a foreign frame. */
  isGrantGfn(domid: number, g: number): boolean {
    return this.tables.get(domid)?.p2mGrants.has(g) ?? false;
  }
}

function cloneTable(t: GrantTable): GrantTable {
  const active = new Map<number, Active>();
  for (const [r, a] of t.active) active.set(r, { ...a });
  const p2mGrants = new Map<number, { mfn: number; ro: boolean }>();
  for (const [g, p] of t.p2mGrants) p2mGrants.set(g, { ...p });
  return {
    ...t,
    limits: { ...t.limits },
    shared: t.shared.slice(),
    status: t.status.slice(),
    active,
    mtRef: t.mtRef.slice(),
    mtFlags: t.mtFlags.slice(),
    mtDomid: t.mtDomid.slice(),
    mtVcpu: t.mtVcpu.slice(),
    mtHead: t.mtHead.slice(),
    mtTail: t.mtTail.slice(),
    p2mGrants,
  };
}

/** Xen's get_page_type(pg, PGT_writable_page) on the frame table: false when the frame has another type in use. */
export function getWritableType(m: Machine, f: number): boolean {
  const fr = m.frames;
  if (fr.type[f] !== PageType.Writable && (fr.typeCount[f] as number) !== 0) return false;
  fr.type[f] = PageType.Writable;
  fr.typeCount[f] = (fr.typeCount[f] as number) + 1;
  return true;
}

/** Xen's put_page_type. */
export function putType(m: Machine, f: number): void {
  m.frames.typeCount[f] = (m.frames.typeCount[f] as number) - 1;
}
