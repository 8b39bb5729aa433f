/**
 * multicall (xen/common/multicall.c:do_multicall and the arch_do_multicall_call of
 * xen/arch/x86/pv/hypercall.c, xen/arch/x86/hvm/hypercall.c and xen/arch/arm/traps.c at
 * RELEASE-4.17.7): each entry's op and first five arguments become the registers of the
 * caller's ABI and run through the VMM's own dispatcher; the entry's `result` field alone is
 * written back.
 *
 * What ends a batch in 4.17:
 * - a nested multicall: that entry's result is -EINVAL and the batch goes on (the per-vCPU
 *   in-multicall flag, `_MCSF_in_multicall`);
 * - `iret` on a PV ABI (mc_exit, XSA-213): its result is written and becomes the multicall's;
 * - a fault reading an entry or writing a result: -EFAULT, entries before it have run (Xen's
 *   up-front `guest_handle_okay` checks only that the range is in the guest's address space,
 *   not that it is mapped; here guest addresses are guest-physical, so that check is the
 *   range not wrapping around the ABI's address space);
 * - on Arm, a 32-bit domain passing an argument with bits 63:32 set (of the arguments the
 *   called hypercall uses) is crashed (`domain_crash`): the batch stops, the vCPU never
 *   resumes.
 * Long batches are preempted between entries when `vmm.preemptCheck()` says so (never before
 * the first): the multicall continues with the list advanced and the count reduced, which a
 * guest observes in its argument registers (`vmm.lastContinuation`). A preempted sub-call's
 * continuation arguments are written into its entry (with `result` = the hypercall number, as
 * Xen's hypercall_create_continuation returns), and the multicall continues from that entry.
 * Not modelled: sub-calls that leave the vCPU in user mode (mc_preempt; the reference VMM's
 * guests always call from kernel mode), and debug builds' 0xAA scribbling over entries.
 */
import type { GuestArrayRef, HypercallResult, Registers } from '../../generated/xen/runtime.js';
import type { MulticallEntry } from '../../generated/xen/types.js';
import { constantValue, findConstant, LayoutEngine, type Hypercall } from '../../spec/index.js';
import type { CallContext } from '../context.js';
import type { Domain, Vcpu } from '../machine.js';
import type { ReferenceVmm } from '../vmm.js';

/** Arguments of a multicall entry that Xen passes on (args[5] never is). */
const PASSED_ARGS = 5;

interface ArchFacts {
  resultOffset: number;
  resultSize: number;
}

/** The multicall engine of one VMM. */
export class Multicalls {
  /** vCPUs inside a multicall now (Xen's per-vCPU mc_state flag); empty between calls. */
  private readonly active = new Set<Vcpu>();
  private readonly arch = new Map<string, ArchFacts>();
  private readonly iret: number | undefined;
  private readonly multicallNr: number;
  private readonly crashCode: number;
  private readonly byNumber = new Map<number, Hypercall>();

  constructor(private readonly vmm: ReferenceVmm) {
    const spec = vmm.machine.spec;
    for (const h of spec.hypercalls) this.byNumber.set(h.number, h);
    this.iret = spec.hypercalls.find((h) => h.name === 'iret')?.number;
    const mc = spec.hypercalls.find((h) => h.name === 'multicall');
    if (!mc) throw new Error('spec has no multicall');
    this.multicallNr = mc.number;
    const crash = findConstant(spec, 'SHUTDOWN_crash')?.constant.value;
    if (typeof crash !== 'number') throw new Error('spec has no SHUTDOWN_crash');
    this.crashCode = crash;
    const x64 = spec.arches.find((a) => a.name === 'x86_64');
    const x32 = spec.arches.find((a) => a.name === 'x86_32');
    this.virtEnd = BigInt(constantValue(spec, 'HYPERVISOR_VIRT_END', x64) ?? 0);
    this.compatVirtStart = BigInt(constantValue(spec, 'HYPERVISOR_VIRT_START', x32) ?? 0);
  }

  private readonly virtEnd: bigint;
  private readonly compatVirtStart: bigint;

  /**
   * guest_handle_okay for the list (xen/common/multicall.c do_multicall, RELEASE-4.17.7), which
   * Xen checks before the first entry, even for an empty batch: a 64-bit PV caller's list
   * starts below 2^47 or above HYPERVISOR_VIRT_END (__addr_ok: a non-canonical or Xen's own
   * address is -EFAULT); a 32-bit PV caller's ends below HYPERVISOR_COMPAT_VIRT_START
   * (compat_array_access_ok); translated guests' lists are checked only when read. A list
   * running past the top of the address space cannot be read either.
   */
  private listOkay(d: Domain, addr: bigint, nr: number, size: number): boolean {
    const bits = BigInt(d.arch.wordSize * 8);
    if (addr + BigInt(nr) * BigInt(size) > 1n << bits) return false;
    if (!d.abi.name.endsWith('-pv')) return true;
    if (d.arch.wordSize === 4) {
      const bytes = BigInt(nr) * BigInt(size);
      return addr + (bytes > 0n ? bytes - 1n : 0n) < this.compatVirtStart;
    }
    return addr < 1n << 47n || addr >= this.virtEnd;
  }

  /** Runs a batch; returns the multicall's own result. */
  run(c: CallContext, list: GuestArrayRef<MulticallEntry>, nr: number): HypercallResult {
    const E = this.vmm.machine.errno;
    const vcpu = c.domain.vcpus[c.vcpu] as Vcpu;
    if (this.active.has(vcpu)) return E['EINVAL'] as number;
    const d = c.domain;
    if (!this.listOkay(d, list.addr, nr, list.codec.size)) return E['EFAULT'] as number;
    const facts = this.facts(d);
    const conv = d.abi.convention;
    const pv = d.abi.name.endsWith('-pv');
    const arm32 = d.abi.name === 'arm32';
    this.active.add(vcpu);
    try {
      for (let i = 0; i < nr; i++) {
        if (i > 0 && this.vmm.preemptCheck()) return this.preempted(c, list, i, nr);
        const ref = list.at(i);
        const entry = ref.read(); // a GuestFault here is -EFAULT for the whole call
        if (arm32 && !this.clean32(d, entry)) {
          this.crash(d);
          return 0;
        }
        const regs: Registers = { [conv.number]: entry.op };
        for (let a = 0; a < conv.args.length; a++) regs[conv.args[a] as string] = a < PASSED_ARGS ? (entry.args[a] ?? 0n) : 0n;
        const r = this.vmm.dispatch(c, regs);
        const cont = this.vmm.takeContinuation();
        const o = list.mem.locate(ref.addr + BigInt(facts.resultOffset), facts.resultSize);
        const exit = pv && this.iret !== undefined && entry.op === BigInt(this.iret);
        if (o < 0) {
          if (exit) return r; // best effort only, as in Xen
          return E['EFAULT'] as number;
        }
        const v = BigInt.asUintN(facts.resultSize * 8, BigInt(r));
        if (facts.resultSize === 8) list.mem.view.setBigUint64(o, v, true);
        else list.mem.view.setUint32(o, Number(v), true);
        if (exit) return r;
        if (cont !== undefined) {
          // The sub-call was preempted: its continuation arguments go into the entry, and the
          // multicall continues from this entry.
          const args = entry.args.map((a, k) => (k < PASSED_ARGS && conv.args[k] !== undefined ? (cont[conv.args[k] as string] ?? a) : a));
          ref.write({ op: entry.op, result: BigInt.asUintN(facts.resultSize * 8, BigInt(r)), args });
          return this.preempted(c, list, i, nr);
        }
      }
      return 0;
    } finally {
      this.active.delete(vcpu);
    }
  }

  /** The multicall's own continuation: the list from entry `i`, the calls left. */
  private preempted(c: CallContext, list: GuestArrayRef<MulticallEntry>, i: number, nr: number): HypercallResult {
    return this.vmm.createContinuation(c, this.multicallNr, [list.addr + BigInt(i * list.codec.size), BigInt(nr - i)]);
  }

  /** Arm's check_multicall_32bit_clean: the arguments the called hypercall uses fit 32 bits. */
  private clean32(d: Domain, e: MulticallEntry): boolean {
    const h = e.op < BigInt(Number.MAX_SAFE_INTEGER) ? this.byNumber.get(Number(e.op)) : undefined;
    if (h === undefined || !(d.abi.name in h.abis)) return true;
    const used = (h.argsByAbi?.[d.abi.name] ?? h.argsByAbi?.[d.abi.arch] ?? h.args).length;
    for (let i = 0; i < used; i++) if ((e.args[i] ?? 0n) >> 32n !== 0n) return false;
    return true;
  }

  /** Xen's domain_crash: the domain shuts down with SHUTDOWN_crash unless a reason is latched. */
  private crash(d: Domain): void {
    if (d.shutdownCode === undefined) d.shutdownCode = this.crashCode;
    d.shutDown = true;
  }

  private facts(d: Domain): ArchFacts {
    let f = this.arch.get(d.arch.name);
    if (f === undefined) {
      const field = new LayoutEngine(this.vmm.machine.spec, d.arch).named('struct multicall_entry').fields['result'];
      if (!field) throw new Error(`struct multicall_entry has no result field on ${d.arch.name}`);
      f = { resultOffset: field.offset, resultSize: field.size };
      this.arch.set(d.arch.name, f);
    }
    return f;
  }
}
