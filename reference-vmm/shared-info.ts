/**
 * The guest-visible shared_info and vcpu_info pages of a domain, laid out as the spec says
 * for the domain's arch: event-channel pending and mask bitmaps, per-vCPU selector words and
 * upcall flags. Offsets come from the layout engine, never typed here.
 */
import { LayoutEngine, type Arch, type Spec } from '../spec/index.js';
import type { Mfn } from './addr.js';
import type { FrameTable } from './memory/frames.js';

/** Offsets of the shared-info fields the VMM touches, for one arch. */
export interface SharedInfoLayout {
  /** Bytes per bitmap word (sizeof(xen_ulong_t)): 8 on x86_64 and Arm, 4 on x86_32. */
  wordBytes: number;
  pending: number;
  mask: number;
  vcpuInfo: number;
  vcpuInfoSize: number;
  /** vCPUs whose vcpu_info sits in shared_info (XEN_LEGACY_MAX_VCPUS). */
  legacyVcpus: number;
  upcallPending: number;
  /** Absent on Arm, whose vcpu_info has no upcall mask (pad0 instead). */
  upcallMask: number | undefined;
  pendingSel: number;
}

/** Computes the shared-info layout of an arch from the spec. */
export function sharedInfoLayout(spec: Spec, arch: Arch): SharedInfoLayout {
  const e = new LayoutEngine(spec, arch);
  const si = e.named('struct shared_info');
  const vi = e.named('struct vcpu_info');
  const field = (l: typeof si, name: string) => {
    const f = l.fields[name];
    if (!f) throw new Error(`spec: struct ${l === si ? 'shared_info' : 'vcpu_info'} has no field ${name} on ${arch.name}`);
    return f;
  };
  const vcpuArray = field(si, 'vcpu_info');
  return {
    wordBytes: e.named('xen_ulong_t').size,
    pending: field(si, 'evtchn_pending').offset,
    mask: field(si, 'evtchn_mask').offset,
    vcpuInfo: vcpuArray.offset,
    vcpuInfoSize: vi.size,
    legacyVcpus: vcpuArray.size / vi.size,
    upcallPending: field(vi, 'evtchn_upcall_pending').offset,
    upcallMask: vi.fields['evtchn_upcall_mask']?.offset,
    pendingSel: field(vi, 'evtchn_pending_sel').offset,
  };
}

/** Where a vCPU's vcpu_info lives when it is not the legacy slot in shared_info. */
export interface VcpuInfoLocation {
  frame: Mfn;
  offset: number;
}

/** Bit operations on a domain's shared_info frame, as Xen performs them (little-endian bitmaps). */
export class SharedInfo {
  /** vcpu_info areas registered with VCPUOP_register_vcpu_info, by vCPU (they replace the legacy slot). */
  private readonly registered = new Map<number, VcpuInfoLocation>();
  /** Called when a vCPU's evtchn_upcall_pending goes from 0 to 1 (Xen's vcpu_mark_events_pending kicks it). */
  onUpcall: ((vcpu: number) => void) | undefined;
  /** Called when a port's pending bit is newly set (Xen's evtchn_check_pollers). */
  onPending: ((port: number) => void) | undefined;

  constructor(
    private readonly frames: FrameTable,
    readonly frame: Mfn,
    readonly layout: SharedInfoLayout,
  ) {}

  private testAndSet(offset: number, bit: number, frame: Mfn = this.frame): boolean {
    const page = this.frames.write(frame);
    const byte = offset + (bit >>> 3);
    const m = 1 << (bit & 7);
    const was = ((page[byte] as number) & m) !== 0;
    page[byte] = (page[byte] as number) | m;
    return was;
  }

  private test(offset: number, bit: number): boolean {
    const page = this.frames.read(this.frame);
    return ((page[offset + (bit >>> 3)] as number) & (1 << (bit & 7))) !== 0;
  }

  private testAndClear(offset: number, bit: number): boolean {
    const page = this.frames.write(this.frame);
    const byte = offset + (bit >>> 3);
    const m = 1 << (bit & 7);
    const was = ((page[byte] as number) & m) !== 0;
    page[byte] = (page[byte] as number) & ~m;
    return was;
  }

  /** Offset of vCPU `v`'s vcpu_info in shared_info (vCPUs beyond the legacy array must register one). */
  vcpuInfoOffset(v: number): number | undefined {
    return v < this.layout.legacyVcpus ? this.layout.vcpuInfo + v * this.layout.vcpuInfoSize : undefined;
  }

  /** Where vCPU `v`'s vcpu_info is now: a registered area, else its legacy slot, else nowhere. */
  vcpuInfoLocation(v: number): VcpuInfoLocation | undefined {
    const r = this.registered.get(v);
    if (r) return r;
    const off = this.vcpuInfoOffset(v);
    return off === undefined ? undefined : { frame: this.frame, offset: off };
  }

  /** Moves vCPU `v`'s vcpu_info to a guest frame (the caller copies the contents). */
  registerVcpuInfo(v: number, at: VcpuInfoLocation): void {
    this.registered.set(v, at);
  }

  /** The registered vcpu_info areas, for snapshots. */
  registeredVcpuInfo(): ReadonlyMap<number, VcpuInfoLocation> {
    return new Map(this.registered);
  }

  /** Replaces the registered vcpu_info areas (restoring a snapshot). */
  restoreRegisteredVcpuInfo(m: ReadonlyMap<number, VcpuInfoLocation>): void {
    this.registered.clear();
    for (const [k, v] of m) this.registered.set(k, v);
  }

  isPending(port: number): boolean {
    return this.test(this.layout.pending, port);
  }

  isMasked(port: number): boolean {
    return this.test(this.layout.mask, port);
  }

  clearPending(port: number): void {
    this.testAndClear(this.layout.pending, port);
  }

  /**
   * The 2-level set_pending rule: set the pending bit; if it was clear and the port is not
   * masked, set the selector bit of the notify vCPU and, if that was clear, its upcall flag.
   * Returns whether the pending bit was newly set.
   */
  setPending(port: number, vcpu: number): boolean {
    if (this.testAndSet(this.layout.pending, port)) return false;
    if (!this.test(this.layout.mask, port)) this.markSelector(port, vcpu);
    this.onPending?.(port);
    return true;
  }

  /** The 2-level unmask rule: clear the mask bit; if it was set and the port is pending, redeliver. */
  unmask(port: number, vcpu: number): void {
    if (this.testAndClear(this.layout.mask, port) && this.test(this.layout.pending, port)) this.markSelector(port, vcpu);
  }

  private markSelector(port: number, vcpu: number): void {
    const vi = this.vcpuInfoLocation(vcpu);
    if (vi === undefined) return;
    const word = Math.floor(port / (this.layout.wordBytes * 8));
    if (!this.testAndSet(vi.offset + this.layout.pendingSel, word, vi.frame)) this.markEventsPending(vcpu);
  }

  /** Xen's vcpu_mark_events_pending: set evtchn_upcall_pending; if it was clear, kick the vCPU. */
  markEventsPending(vcpu: number): void {
    const vi = this.vcpuInfoLocation(vcpu);
    if (vi === undefined) return;
    const page = this.frames.write(vi.frame);
    const was = ((page[vi.offset + this.layout.upcallPending] as number) & 1) !== 0;
    page[vi.offset + this.layout.upcallPending] = (page[vi.offset + this.layout.upcallPending] as number) | 1;
    if (!was) this.onUpcall?.(vcpu);
  }

  /** The vCPU's evtchn_upcall_pending byte. */
  upcallPending(vcpu: number): number {
    const vi = this.vcpuInfoLocation(vcpu);
    return vi === undefined ? 0 : (this.frames.read(vi.frame)[vi.offset + this.layout.upcallPending] as number);
  }

  /** The vCPU's evtchn_upcall_mask byte (0 on Arm, which has none). */
  upcallMask(vcpu: number): number {
    const vi = this.vcpuInfoLocation(vcpu);
    const at = this.layout.upcallMask;
    return vi === undefined || at === undefined ? 0 : (this.frames.read(vi.frame)[vi.offset + at] as number);
  }

  /** Sets or clears the vCPU's evtchn_upcall_mask byte. */
  setUpcallMask(vcpu: number, masked: boolean): void {
    const vi = this.vcpuInfoLocation(vcpu);
    const at = this.layout.upcallMask;
    if (vi !== undefined && at !== undefined) this.frames.write(vi.frame)[vi.offset + at] = masked ? 1 : 0;
  }
}
