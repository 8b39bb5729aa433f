/**
 * Strict mode: the reference VMM with a recorder in front. Every hypercall, every write a
 * guest makes to its memory and the end of the guest become trace events
 * (conformance/guest-check/trace.ts), which the guest checker turns into findings as they
 * happen and which can be saved as a trace to check again offline.
 *
 * The recorder wraps the calling domain's memory accessors for the length of one call only,
 * to learn which guest memory the call read (and keep it as it was before) and what it
 * changed. The reference VMM itself is untouched: without strict mode nothing of this runs.
 */
import { XenGuest } from '../../generated/xen/guest.js';
import type { HypercallTransport, Registers } from '../../generated/xen/runtime.js';
import { gaddr, gfn, PAGE_SIZE, type GuestAddress } from '../../reference-vmm/addr.js';
import { grantTables } from '../../reference-vmm/grant/handlers.js';
import type { Domain, MachineConfig } from '../../reference-vmm/machine.js';
import { GuestMemory } from '../../reference-vmm/memory/guest.js';
import { ReferenceVmm, type VmmOptions } from '../../reference-vmm/vmm.js';
import { xenSpec, type Spec } from '../../spec/index.js';
import { GuestChecker, type Finding } from './checker.js';
import { hex, hexBytes, traceHeader, traceText, type MemRange, type TraceEvent } from './trace.js';

/** Pages of one memory range the recorder snapshots at most (a larger range is a fault anyway). */
const MAX_RANGE_PAGES = 1 << 12;

export interface StrictOptions {
  /** Receives every trace event as it happens (to save a trace). */
  record?: (ev: TraceEvent) => void;
  spec?: Spec;
}

/** The populated guest frames of a domain as [first gfn, count] runs. */
export function ownedRanges(d: Domain): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  let prev = -2;
  d.memory.forEachMapped((g) => {
    if (g !== prev + 1) {
      if (start >= 0) out.push([start, prev + 1 - start]);
      start = g;
    }
    prev = g;
  });
  if (start >= 0) out.push([start, prev + 1 - start]);
  return out;
}

/** Merges overlapping or adjacent [addr, length] ranges. */
function merge(ranges: [number, number][]): [number, number][] {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [a, n] of ranges) {
    const prev = out[out.length - 1];
    if (prev && a <= prev[0] + prev[1]) prev[1] = Math.max(prev[1], a + n - prev[0]);
    else out.push([a, n]);
  }
  return out;
}

/** The reference VMM in strict mode: calls and guest writes are recorded and checked. */
export class StrictVmm {
  readonly checker: GuestChecker;
  private seq = 0;
  private readonly lastOwned = new Map<number, string>();
  private readonly ended = new Set<number>();

  constructor(
    readonly vmm: ReferenceVmm,
    private readonly options: StrictOptions = {},
  ) {
    this.checker = new GuestChecker(options.spec ?? xenSpec);
    this.emit(traceHeader(this.checker.spec.name));
    for (const d of vmm.machine.domains.values()) this.announce(d);
  }

  /** Every finding so far. */
  get findings(): readonly Finding[] {
    return this.checker.findings;
  }

  private emit(ev: TraceEvent): void {
    this.options.record?.(ev);
    this.checker.feed(ev);
  }

  private announce(d: Domain): void {
    const owned = ownedRanges(d);
    this.lastOwned.set(d.id, JSON.stringify(owned));
    this.emit({
      ev: 'domain',
      dom: d.id,
      abi: d.abi.name,
      vcpus: d.vcpus.length,
      privileged: d.privileged,
      owned,
      grantTable: grantTables(this.vmm).state.base(d),
    });
  }

  private domain(domid: number): Domain {
    const d = this.vmm.machine.domain(domid);
    if (!d) throw new Error(`strict mode: no domain ${domid}`);
    if (!this.lastOwned.has(domid)) this.announce(d);
    return d;
  }

  /** A hypercall from a guest, recorded and checked; returns the result register (unsigned). */
  hypercall(domid: number, vcpu: number, regs: Readonly<Registers>): bigint {
    const d = this.domain(domid);
    const mem = d.memory;
    const frames = this.vmm.machine.frames;
    const touched: [number, number][] = [];
    const pages = new Map<number, Uint8Array>();
    const note = (addr: number, len: number): void => {
      if (!Number.isSafeInteger(addr) || addr < 0 || !Number.isSafeInteger(len) || len <= 0 || !Number.isSafeInteger(addr + len)) return;
      touched.push([addr, len]);
      const first = Math.floor(addr / PAGE_SIZE);
      const lastPage = Math.min(Math.floor((addr + len - 1) / PAGE_SIZE), first + MAX_RANGE_PAGES);
      for (let g = first; g <= lastPage; g++) {
        if (pages.has(g)) continue;
        const m = mem.lookup(gfn(g));
        if (m !== undefined) pages.set(g, frames.read(m).slice());
      }
    };
    const proto = GuestMemory.prototype;
    // Own properties shadow the prototype's methods for this call only.
    mem.locate = (addr: bigint, size: number): number => {
      if (addr >= 0n && addr <= BigInt(Number.MAX_SAFE_INTEGER)) note(Number(addr), size);
      return proto.locate.call(mem, addr, size);
    };
    mem.read = (addr: GuestAddress, out: Uint8Array): boolean => {
      note(addr, out.length);
      return proto.read.call(mem, addr, out);
    };
    mem.write = (addr: GuestAddress, data: Uint8Array): boolean => {
      note(addr, data.length);
      return proto.write.call(mem, addr, data);
    };
    let ret: bigint;
    try {
      ret = this.vmm.hypercall(domid, vcpu, regs);
    } finally {
      Reflect.deleteProperty(mem, 'locate');
      Reflect.deleteProperty(mem, 'read');
      Reflect.deleteProperty(mem, 'write');
    }
    const before: MemRange[] = [];
    const after: MemRange[] = [];
    for (const [addr, len] of merge(touched)) {
      const old = new Uint8Array(len);
      let known = true;
      for (let k = 0; k < len && known; ) {
        const g = Math.floor((addr + k) / PAGE_SIZE);
        const page = pages.get(g);
        if (!page) known = false;
        else {
          const off = (addr + k) % PAGE_SIZE;
          const n = Math.min(PAGE_SIZE - off, len - k);
          old.set(page.subarray(off, off + n), k);
          k += n;
        }
      }
      if (!known) continue;
      before.push({ addr: hex(BigInt(addr)), bytes: hexBytes(old) });
      const now = new Uint8Array(len);
      if (!mem.read(gaddr(addr), now)) continue;
      for (const [at, n] of changedRuns(old, now)) after.push({ addr: hex(BigInt(addr + at)), bytes: hexBytes(now.subarray(at, at + n)) });
    }
    const full: Record<string, string> = {};
    for (const [k, v] of Object.entries(regs)) full[k] = hex(BigInt.asUintN(d.arch.wordSize * 8, v));
    this.emit({ ev: 'call', seq: ++this.seq, dom: domid, vcpu, regs: full, mem: before, ret: hex(ret), out: after });
    for (const other of this.vmm.machine.domains.values()) {
      const owned = ownedRanges(other);
      const text = JSON.stringify(owned);
      if (this.lastOwned.get(other.id) !== text) {
        this.lastOwned.set(other.id, text);
        if (owned.length > 0) this.emit({ ev: 'owned', dom: other.id, owned });
      }
    }
    return ret;
  }

  /** A guest's write to its own memory (recorded); throws RangeError when it is not the guest's memory. */
  write(domid: number, addr: bigint, bytes: Uint8Array): void {
    const d = this.domain(domid);
    if (addr < 0n || addr > BigInt(Number.MAX_SAFE_INTEGER) || !d.memory.write(gaddr(Number(addr)), bytes)) {
      throw new RangeError(`domain ${domid}: guest write fault at 0x${addr.toString(16)} (${bytes.length} bytes)`);
    }
    if (bytes.length > 0) this.emit({ ev: 'write', dom: domid, addr: hex(addr), bytes: hexBytes(bytes) });
  }

  /** A guest's read of its own memory (nothing to record); throws RangeError on a fault. */
  read(domid: number, addr: bigint, length: number): Uint8Array {
    const d = this.domain(domid);
    const out = new Uint8Array(length);
    if (addr < 0n || addr > BigInt(Number.MAX_SAFE_INTEGER) || !d.memory.read(gaddr(Number(addr)), out)) {
      throw new RangeError(`domain ${domid}: guest read fault at 0x${addr.toString(16)} (${length} bytes)`);
    }
    return out;
  }

  /** The guest of a domain stopped: what it still holds is checked for leaks. */
  end(domid: number): void {
    this.domain(domid);
    if (this.ended.has(domid)) return;
    this.ended.add(domid);
    this.emit({ ev: 'end', dom: domid });
  }
}

/** Runs of bytes that differ, merging runs fewer than 8 bytes apart. */
function changedRuns(a: Uint8Array, b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  let k = 0;
  while (k < a.length) {
    if (a[k] === b[k]) {
      k++;
      continue;
    }
    const start = k;
    let end = k + 1;
    let gap = 0;
    for (let j = k + 1; j < a.length && gap < 8; j++) {
      if (a[j] !== b[j]) {
        end = j + 1;
        gap = 0;
      } else gap++;
    }
    out.push([start, end - start]);
    k = end;
  }
  return out;
}

/** A HypercallTransport for an in-process guest of a strict VMM, with a scratch page for arguments. */
export class StrictTransport implements HypercallTransport {
  readonly abi: string;
  private next: number;
  private readonly base: number;

  constructor(
    readonly strict: StrictVmm,
    readonly domid: number,
    readonly vcpu = 0,
    /** First guest-physical address of the argument scratch page (default: the last RAM page). */
    scratchBase?: number,
  ) {
    const d = strict.vmm.machine.domain(domid);
    if (!d) throw new Error(`strict mode: no domain ${domid}`);
    this.abi = d.abi.name;
    this.base = scratchBase ?? (d.memory.maxFrames - 2) * PAGE_SIZE;
    this.next = this.base;
  }

  hypercall(regs: Readonly<Registers>): bigint {
    return this.strict.hypercall(this.domid, this.vcpu, regs);
  }

  read(addr: bigint, length: number): Uint8Array {
    return this.strict.read(this.domid, addr, length);
  }

  write(addr: bigint, bytes: Uint8Array): void {
    this.strict.write(this.domid, addr, bytes);
  }

  alloc(size: number, align: number): bigint {
    if (size > PAGE_SIZE) throw new RangeError(`argument of ${size} bytes does not fit the scratch page`);
    let a = Math.ceil(this.next / align) * align;
    if (a + size > this.base + PAGE_SIZE) a = this.base;
    this.next = a + size;
    return BigInt(a);
  }
}

/**
 * Checking in-process guests: a reference VMM in strict mode whose guests are XenGuest
 * stubs (generated/xen/guest.ts) over strict transports. The trace is kept in memory.
 */
export class GuestCheck {
  readonly vmm: ReferenceVmm;
  readonly strict: StrictVmm;
  readonly events: TraceEvent[] = [];

  constructor(config: MachineConfig, options: { vmm?: VmmOptions } = {}) {
    this.vmm = new ReferenceVmm(config, options.vmm);
    this.strict = new StrictVmm(this.vmm, { record: (ev) => this.events.push(ev) });
  }

  /** The typed stubs of a guest of domain `domid` on vCPU `vcpu`. */
  guest(domid: number, vcpu = 0, scratchBase?: number): XenGuest {
    return new XenGuest(new StrictTransport(this.strict, domid, vcpu, scratchBase));
  }

  /** A guest's write to its memory (e.g. a grant entry). */
  write(domid: number, addr: bigint | number, bytes: Uint8Array): void {
    this.strict.write(domid, BigInt(addr), bytes);
  }

  /** The guest of `domid` stopped. */
  end(domid: number): void {
    this.strict.end(domid);
  }

  get findings(): readonly Finding[] {
    return this.strict.findings;
  }

  /** The trace so far as JSON lines. */
  traceText(): string {
    return traceText(this.events);
  }
}
