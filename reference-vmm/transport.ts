/**
 * An in-process transport from the generated guest stubs (`XenGuest`) to the reference VMM:
 * a guest of domain `domid`, vCPU `vcpu`, whose arguments are placed in its own memory by a
 * bump allocator over a scratch range of guest-physical addresses.
 */
import type { HypercallTransport, Registers } from '../generated/xen/runtime.js';
import { gaddr, PAGE_SIZE } from './addr.js';
import type { ReferenceVmm } from './vmm.js';

/** A HypercallTransport into a reference VMM domain. */
export class VmmTransport implements HypercallTransport {
  readonly abi: string;
  private next: number;
  private readonly base: number;

  constructor(
    readonly vmm: ReferenceVmm,
    readonly domid: number,
    readonly vcpu = 0,
    /** First guest-physical address of the argument scratch area (default: the last RAM page). */
    readonly scratchBase?: number,
  ) {
    const d = vmm.machine.domain(domid);
    if (!d) throw new Error(`no domain ${domid}`);
    this.abi = d.abi.name;
    this.base = scratchBase ?? (d.memory.maxFrames - 2) * PAGE_SIZE;
    this.next = this.base;
  }

  hypercall(regs: Readonly<Registers>): bigint {
    return this.vmm.hypercall(this.domid, this.vcpu, regs);
  }

  read(addr: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    if (!this.domain().memory.read(gaddr(Number(addr)), out)) throw new RangeError(`guest read fault at 0x${addr.toString(16)}`);
    return out;
  }

  write(addr: bigint, bytes: Uint8Array): void {
    if (!this.domain().memory.write(gaddr(Number(addr)), bytes)) throw new RangeError(`guest write fault at 0x${addr.toString(16)}`);
  }

  /** Allocates within one scratch page, wrapping around (arguments live for one call). */
  alloc(size: number, align: number): bigint {
    if (size > PAGE_SIZE) throw new RangeError(`argument of ${size} bytes does not fit the scratch page`);
    let a = Math.ceil(this.next / align) * align;
    if (a + size > this.base + PAGE_SIZE) a = this.base;
    this.next = a + size;
    return BigInt(a);
  }

  private domain() {
    const d = this.vmm.machine.domain(this.domid);
    if (!d) throw new Error(`no domain ${this.domid}`);
    return d;
  }
}
