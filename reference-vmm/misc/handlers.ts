/**
 * The small hypercalls, at RELEASE-4.17.7: vm_assist (xen/common/domain.c:do_vm_assist),
 * the physdev_op queries a domain without devices can make (xen/arch/x86/physdev.c),
 * callback_op, set_callbacks, nmi_op and set_trap_table (xen/arch/x86/pv/callback.c),
 * fpu_taskswitch, stack_switch, set_segment_base and the debug registers
 * (xen/arch/x86/pv/misc-hypercalls.c), and the remaining xen_version commands (./version.ts).
 */
import type { XenHandler } from '../../generated/xen/handler.js';
import { GuestRef } from '../../generated/xen/runtime.js';
import type { TrapInfo, XenCallbackT } from '../../generated/xen/types.js';
import type { Mfn } from '../addr.js';
import { constantValue, LayoutEngine } from '../../spec/index.js';
import { specNumber, type CallContext } from '../context.js';
import type { Domain, Subsystem } from '../machine.js';
import { PageType } from '../memory/frames.js';
import { mmHandlers, pvMmu } from '../mm/handlers.js';
import { schedulerOf } from '../sched/ops.js';
import type { ReferenceVmm } from '../vmm.js';
import {
  cloneMiscDomain,
  nrPirqs as pirqCount,
  HOST_NR_IRQS_GSI,
  IOBMP_BYTES,
  type MiscDomain,
  newPvVcpu,
  NR_ISA_IRQS,
  type PvVcpu,
} from './state.js';
import { versionExtraHandlers } from './version.js';

/** is_canonical_address: bits 63:47 all equal (64-bit callers; a 32-bit offset always is). */
export function isCanonical(d: Domain, a: bigint): boolean {
  if (d.arch.wordSize === 4) return true;
  const s = BigInt.asIntN(64, a);
  return s >> 47n === s >> 63n;
}

/** Debug-register bits of Xen's set_debugreg (asm/debugreg.h). Architectural x86 facts, not ABI. */
const DR_STATUS_KEEP = 0xffffefffn;
const DR_STATUS_ONE = 0xffff0ff0n;
const DR_CONTROL_KEEP = 0xffff27ffn;
const DR_CONTROL_ONE = 0x400n;
const DR_GENERAL_DETECT = 0x2000n;
const DR7_ACTIVE_MASK = 0xffn;
const DR_CONTROL_SHIFT = 16n;
const DR_CONTROL_SIZE = 4n;
const DR_IO = 2n;
const X86_CR4_DE = 0x8n;
/** User-space addresses a breakpoint may name (__addr_ok): below 2^47, or above Xen's range. */
const USER_TOP = 1n << 47n;

export function miscHandlers(vmm: ReferenceVmm): XenHandler<CallContext> {
  const m = vmm.machine;
  const e = (n: string) => m.errno[n] as number;
  const num = (n: string) => specNumber(vmm, n);
  const C = {
    event: num('CALLBACKTYPE_event'),
    failsafe: num('CALLBACKTYPE_failsafe'),
    syscall: num('CALLBACKTYPE_syscall'),
    nmi: num('CALLBACKTYPE_nmi'),
    sysenter: num('CALLBACKTYPE_sysenter'),
    syscall32: num('CALLBACKTYPE_syscall32'),
    maskEvents: num('CALLBACKF_mask_events'),
  };
  const VMASST = (n: string) => 1n << BigInt(num(`VMASST_TYPE_${n}`));
  const pv32Mask = ['4gb_segments', '4gb_segments_notify', 'writable_pagetables', 'pae_extended_cr3', 'architectural_iopl', 'runstate_update_flag']
    .map(VMASST)
    .reduce((a, b) => a | b, 0n);
  const pv64Mask = pv32Mask | VMASST('m2p_strict');
  const otherMask = VMASST('runstate_update_flag');
  const segbase = { fs: num('SEGBASE_FS'), gsUser: num('SEGBASE_GS_USER'), gsKernel: num('SEGBASE_GS_KERNEL'), gsUserSel: num('SEGBASE_GS_USER_SEL') };
  const mapPirqGsi = num('MAP_PIRQ_TYPE_GSI');
  const needsEoi = num('XENIRQSTAT_needs_eoi');
  const trapNmi = 2; // x86 vector 2 (TRAP_nmi): architectural.
  // HYPERVISOR_VIRT_END on x86_64: Xen's range is 16 PML4 slots (2^39 bytes each) from HYPERVISOR_VIRT_START (asm/config.h).
  const x64 = m.spec.arches.find((a) => a.name === 'x86_64');
  const virtEnd = BigInt(constantValue(m.spec, 'HYPERVISOR_VIRT_START', x64) ?? 0) + 16n * (1n << 39n);
  // HYPERVISOR_COMPAT_VIRT_START by default: the x86_32 ABI's HYPERVISOR_VIRT_START.
  const compatVirtStart = BigInt(constantValue(m.spec, 'HYPERVISOR_VIRT_START', m.spec.arches.find((a) => a.name === 'x86_32')) ?? 0);

  const dom = miscState(vmm);
  const vcpu = (c: CallContext): PvVcpu => dom(c.domain).vcpus[c.vcpu] as PvVcpu;

  const pv = (d: Domain) => d.abi.name.endsWith('-pv');
  // The hardware domain is the privileged domain 0 (as the scheduler's is_hardware_domain).
  const nrPirqs = (d: Domain) => pirqCount(vmm.hostCpus, d.privileged && d.id === 0, d.vcpus.length);
  /** GUEST_KERNEL_RPL: a selector below the kernel's ring gets the kernel's RPL. */
  const fixupSelector = (d: Domain, sel: number) => {
    const rpl = d.arch.wordSize === 4 ? 1 : 3;
    return (sel & 3) >= rpl ? sel : (sel & ~3) | rpl;
  };

  /** register_guest_callback (compat_register_guest_callback for 32-bit callers). */
  const registerCallback = (c: CallContext, type: number, flags: number, address: XenCallbackT): number => {
    const d = c.domain;
    const v = vcpu(c);
    const wide = typeof address === 'bigint';
    const eip = wide ? address : address.eip;
    const cs = wide ? undefined : fixupSelector(d, Number(address.cs & 0xffffn));
    if (wide && !isCanonical(d, eip)) return e('EINVAL');
    const mask = (flags & C.maskEvents) !== 0;
    switch (type) {
      case C.event:
      case C.failsafe:
      case C.sysenter:
      case C.syscall32:
        v.callbacks[type] = { cs, address: eip, maskEvents: mask };
        return 0;
      case C.syscall:
        if (d.arch.wordSize === 4) return e('ENOSYS');
        v.callbacks[type] = { cs, address: eip, maskEvents: mask };
        return 0;
      case C.nmi:
        return registerNmi(c, eip);
      default:
        return e('ENOSYS');
    }
  };
  /** register_guest_nmi_callback: the NMI entry is trap 2 of the virtual IDT. */
  /** Where arch_shared_info.nmi_reason lies in a domain's shared_info, per arch (offset, size). */
  const nmiReasonAt = new Map<string, { off: number; size: number } | null>();
  /** arch_get_nmi_reason: the domain's shared_info arch.nmi_reason (a field the guest can write). */
  const nmiReason = (d: Domain): bigint => {
    let at = nmiReasonAt.get(d.arch.name);
    if (at === undefined) {
      const le = new LayoutEngine(m.spec, d.arch);
      const arch = le.named('struct shared_info').fields['arch'];
      const f = arch ? le.named('struct arch_shared_info').fields['nmi_reason'] : undefined;
      at = arch && f ? { off: arch.offset + f.offset, size: f.size } : null;
      nmiReasonAt.set(d.arch.name, at);
    }
    if (!at) return 0n;
    const page = m.frames.read(d.sharedInfoFrame as Mfn);
    let v = 0n;
    for (let i = at.size - 1; i >= 0; i--) v = (v << 8n) | BigInt(page[at.off + i] as number);
    return v;
  };
  /**
   * register_guest_nmi_callback (xen/arch/x86/pv/callback.c, RELEASE-4.17.7): vCPU 0 of a domain
   * whose shared_info holds a non-zero nmi_reason gets an NMI pending at once (Xen re-asserts an
   * edge it may have lost while no handler was registered). Found on live Xen, fuzz seed 2314.
   */
  const registerNmi = (c: CallContext, address: bigint): number => {
    if (!isCanonical(c.domain, address)) return e('EINVAL');
    const cs = Number(constantValue(m.spec, 'FLAT_KERNEL_CS', c.domain.arch));
    vcpu(c).traps[trapNmi] = { vector: trapNmi, flags: 0, cs, address };
    vcpu(c).callbacks[C.nmi] = { cs, address, maskEvents: true };
    if (c.vcpu === 0 && nmiReason(c.domain) !== 0n) schedulerOf(vmm).vcpu(c.domain, 0).nmiPending = true;
    return 0;
  };
  const unregisterCallback = (c: CallContext, type: number): number => {
    switch (type) {
      case C.event:
      case C.failsafe:
      case C.sysenter:
      case C.syscall32:
        return e('EINVAL');
      case C.syscall:
        return c.domain.arch.wordSize === 4 ? e('ENOSYS') : e('EINVAL');
      case C.nmi:
        delete vcpu(c).traps[trapNmi];
        delete vcpu(c).callbacks[C.nmi];
        return 0;
      default:
        return e('ENOSYS');
    }
  };

  /** Takes a writable-type and a general reference on a guest frame (get_page_from_gfn + get_page_type: a PV domain names its machine frames). */
  const writableRef = (d: Domain, frameNo: bigint): Mfn | undefined => {
    const f = m.frames;
    const mf = m.pageFromGfn(d, frameNo);
    if (mf === undefined) return undefined;
    if (f.type[mf] !== PageType.Writable && (f.typeCount[mf] as number) > 0) return undefined;
    f.type[mf] = PageType.Writable;
    f.typeCount[mf] = (f.typeCount[mf] as number) + 1;
    f.refCount[mf] = (f.refCount[mf] as number) + 1;
    return mf;
  };
  const dropRef = (mf: Mfn) => {
    m.frames.typeCount[mf] = (m.frames.typeCount[mf] as number) - 1;
    m.frames.refCount[mf] = (m.frames.refCount[mf] as number) - 1;
  };

  return {
    ...versionExtraHandlers(vmm),

    // ─────────────── vm_assist ───────────────
    vm_assist$VMASST_CMD_enable: (c, type) => {
      const bit = validAssist(c.domain, type);
      if (bit === undefined) return e('EINVAL');
      dom(c.domain).vmAssist |= bit;
      return 0;
    },
    vm_assist$VMASST_CMD_disable: (c, type) => {
      const bit = validAssist(c.domain, type);
      if (bit === undefined) return e('EINVAL');
      dom(c.domain).vmAssist &= ~bit;
      return 0;
    },
    // Any other command: Xen checks the type before the command.
    vm_assist: (c, _cmd, type) => (validAssist(c.domain, type) === undefined ? e('EINVAL') : e('ENOSYS')),

    // ─────────────── physdev_op ───────────────
    physdev_op$PHYSDEVOP_IRQ_UNMASK_NOTIFY: () => 0,
    physdev_op$PHYSDEVOP_irq_status_query: (c, arg) => {
      if (!pv(c.domain)) return e('ENOSYS'); // HVM without PIRQs: the HVM filter refuses.
      const q = arg.read();
      if (q.irq < 0 || q.irq >= nrPirqs(c.domain) || q.irq > 0x7fffffff) return e('EINVAL');
      arg.write({ irq: q.irq, flags: needsEoi });
      return 0;
    },
    physdev_op$PHYSDEVOP_set_iopl: (c, arg) => {
      const { iopl } = arg.read();
      if (iopl > 3) return e('EINVAL');
      vcpu(c).iopl = iopl;
      return 0;
    },
    physdev_op$PHYSDEVOP_set_iobitmap: (c, arg) => {
      const a = arg.read();
      // guest_handle_okay(bitmap, IOBMP_BYTES) (xen/arch/x86/physdev.c, RELEASE-4.17.7): the
      // address range only, never the mapping (Xen reads the bitmap when a port is accessed). A
      // 64-bit caller's bitmap starts below 2^47 or above HYPERVISOR_VIRT_END (__addr_ok); a
      // 32-bit one's last byte lies below HYPERVISOR_COMPAT_VIRT_START (compat_array_access_ok).
      const ok = c.domain.arch.wordSize === 4 ? a.bitmap + BigInt(IOBMP_BYTES) - 1n < compatVirtStart : a.bitmap < USER_TOP || a.bitmap >= virtEnd;
      if (!ok || a.nr_ports > 65536) return e('EINVAL');
      vcpu(c).iobitmap = a.bitmap;
      vcpu(c).iobitmapPorts = a.nr_ports;
      return 0;
    },
    physdev_op$PHYSDEVOP_get_free_pirq: (c, arg) => {
      if (!pv(c.domain)) return e('ENOSYS');
      const a = arg.read();
      const s = dom(c.domain);
      const used = new Set(s.pirqs);
      let found = -1;
      if (a.type === mapPirqGsi) {
        for (let i = NR_ISA_IRQS; i < HOST_NR_IRQS_GSI && found < 0; i++) if (!used.has(i)) found = i;
      }
      for (let i = nrPirqs(c.domain) - 1; i >= HOST_NR_IRQS_GSI && found < 0; i--) if (!used.has(i)) found = i;
      if (found < 0) return e('ENOSPC');
      s.pirqs.push(found);
      arg.write({ type: a.type, pirq: found });
      return 0;
    },
    physdev_op$PHYSDEVOP_eoi: (c, arg) => {
      if (!pv(c.domain)) return e('ENOSYS');
      const { irq } = arg.read();
      if (irq >= nrPirqs(c.domain)) return e('EINVAL');
      if (!dom(c.domain).pirqs.includes(irq)) return e('EINVAL');
      return 0;
    },
    physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v1: (c, arg) => eoiGmfn(c, arg.read().gmfn, true),
    physdev_op$PHYSDEVOP_pirq_eoi_gmfn_v2: (c, arg) => eoiGmfn(c, arg.read().gmfn, false),

    // ─────────────── callbacks and traps ───────────────
    callback_op$CALLBACKOP_register: (c, arg) => {
      const r = arg.read();
      return registerCallback(c, r.type, r.flags, r.address);
    },
    callback_op$CALLBACKOP_unregister: (c, arg) => unregisterCallback(c, arg.read().type),
    // Any other command: the 64-bit handler says -ENOSYS, the 32-bit (compat) one -EINVAL.
    callback_op: (c) => (c.domain.arch.wordSize === 4 ? e('EINVAL') : e('ENOSYS')),
    set_callbacks: (c, ...args) => {
      if (args.length === 3) {
        registerCallback(c, C.event, 0, args[0]);
        registerCallback(c, C.failsafe, 0, args[1]);
        registerCallback(c, C.syscall, 0, args[2]);
      } else {
        registerCallback(c, C.event, 0, { cs: args[0], eip: args[1] });
        registerCallback(c, C.failsafe, 0, { cs: args[2], eip: args[3] });
      }
      return 0;
    },
    nmi_op$XENNMI_register_callback: (c, arg) => registerNmi(c, arg.read().handler_address),
    nmi_op$XENNMI_unregister_callback: (c) => {
      delete vcpu(c).traps[trapNmi];
      delete vcpu(c).callbacks[C.nmi];
      return 0;
    },
    set_trap_table: (c, traps) => {
      const v = vcpu(c);
      if (traps.addr === 0n) {
        v.traps = {};
        return 0;
      }
      // Ended by an entry with address 0; a bad entry stops the load, earlier ones stay.
      for (let i = 0; ; i++) {
        const t: TrapInfo = new GuestRef(traps.mem, traps.addr + BigInt(i * traps.codec.size), traps.codec).read();
        if (t.address === 0n) return 0;
        if (!isCanonical(c.domain, t.address)) return e('EINVAL');
        v.traps[t.vector] = { ...t, cs: fixupSelector(c.domain, t.cs) };
      }
    },

    // ─────────────── PV vCPU registers ───────────────
    fpu_taskswitch: (c, set) => {
      vcpu(c).ts = set !== 0;
      return 0;
    },
    stack_switch: (c, ss, esp) => {
      vcpu(c).kernelSs = BigInt(fixupSelector(c.domain, Number(ss & 0xffffn))) | (ss & ~0xffffn);
      vcpu(c).kernelSp = esp;
      return 0;
    },
    set_segment_base: (c, which, base) => {
      if (c.domain.arch.wordSize === 4) return e('ENOSYS');
      const v = vcpu(c);
      switch (which) {
        case segbase.fs:
        case segbase.gsUser:
        case segbase.gsKernel:
          if (!isCanonical(c.domain, base)) return e('EINVAL');
          if (which === segbase.fs) v.fsBase = base;
          else if (which === segbase.gsUser) v.gsBaseUser = base;
          else v.gsBaseKernel = base;
          return 0;
        case segbase.gsUserSel: {
          // A bad selector loads NUL rather than failing; the model has no descriptor tables to check.
          const sel = Number(base & 0xffffn);
          v.gsUserSel = sel > 3 ? sel | 3 : sel;
          return 0;
        }
        default:
          return e('EINVAL');
      }
    },
    set_debugreg: (c, reg, value) => setDebugreg(vcpu(c), reg, BigInt.asUintN(c.domain.arch.wordSize * 8, value)),
    get_debugreg: (c, reg) => {
      const v = vcpu(c);
      const de = (v.cr4 & X86_CR4_DE) !== 0n;
      // x86emul_read_dr: DR4/DR5 alias DR6/DR7 unless CR4.DE (#UD then, -ENODEV).
      if (reg < 0 || reg > 7 || ((reg === 4 || reg === 5) && de)) return e('ENODEV');
      const r = reg === 4 ? 6 : reg === 5 ? 7 : reg;
      const val = r === 7 ? (v.dr[7] as bigint) | v.dr7Emul : (v.dr[r] as bigint);
      return BigInt.asIntN(64, val);
    },
  };

  function validAssist(d: Domain, type: number): bigint | undefined {
    const mask = !pv(d) ? otherMask : d.arch.wordSize === 4 ? pv32Mask : pv64Mask;
    if (type >= 64) return undefined;
    const bit = 1n << BigInt(type);
    return (mask & bit) === 0n ? undefined : bit;
  }

  function eoiGmfn(c: CallContext, frameNo: bigint, v1: boolean): number {
    const s = dom(c.domain);
    const mf = writableRef(c.domain, frameNo);
    if (mf === undefined) return e('EINVAL');
    if (s.eoiMapFrame !== undefined) {
      dropRef(mf);
      return e('EBUSY');
    }
    s.eoiMapFrame = mf;
    if (v1) s.autoUnmask = true;
    return 0;
  }

  function setDebugreg(v: PvVcpu, reg: number, value: bigint): number {
    const de = (v.cr4 & X86_CR4_DE) !== 0n;
    switch (reg) {
      case 0:
      case 1:
      case 2:
      case 3:
        if (!(value < USER_TOP || value >= virtEnd)) return e('EPERM');
        v.dr[reg] = value;
        return 0;
      case 4:
      case 6:
        if (reg === 4 && de) return e('ENODEV');
        if (value !== BigInt.asUintN(32, value)) return e('EINVAL');
        v.dr[6] = (value & DR_STATUS_KEEP) | DR_STATUS_ONE;
        return 0;
      case 5:
      case 7: {
        if (reg === 5 && de) return e('ENODEV');
        if (value !== BigInt.asUintN(32, value)) return e('EINVAL');
        let val = (value & DR_CONTROL_KEEP) | DR_CONTROL_ONE;
        if (val & DR_GENERAL_DETECT) return e('EPERM');
        let io = 0n;
        if (val & DR7_ACTIVE_MASK) {
          for (let i = DR_CONTROL_SHIFT; i < 32n; i += DR_CONTROL_SIZE) {
            if (((val >> i) & 3n) === DR_IO) {
              if (!de) return e('EPERM');
              io |= val & (3n << ((i - 16n) >> 1n));
            }
          }
          val &= ~io;
        }
        v.dr7Emul = io;
        v.dr[7] = val;
        return 0;
      }
      default:
        return e('ENODEV');
    }
  }
}

const states = new WeakMap<ReferenceVmm, (d: Domain) => MiscDomain>();

/** The per-domain state of the small hypercalls of a VMM (registered with its machine once). */
export function miscState(vmm: ReferenceVmm): (d: Domain) => MiscDomain {
  const cached = states.get(vmm);
  if (cached) return cached;
  let doms = new Map<number, MiscDomain>();
  const dom = (d: Domain): MiscDomain => {
    let s = doms.get(d.id);
    if (!s) {
      s = { vmAssist: 0n, pirqs: [], eoiMapFrame: undefined, autoUnmask: false, vcpus: d.vcpus.map(() => newPvVcpu()) };
      doms.set(d.id, s);
    }
    return s;
  };
  vmm.machine.register('misc', {
    snapshot: () => new Map([...doms].map(([k, v]) => [k, cloneMiscDomain(v)])),
    restore: (s) => {
      doms = new Map([...(s as Map<number, MiscDomain>)].map(([k, v]) => [k, cloneMiscDomain(v)]));
    },
  } satisfies Subsystem);
  // The MMU's invariants count every frame reference: declare the EOI bitmap page's.
  mmHandlers(vmm);
  pvMmu(vmm)?.holders.push(function* () {
    for (const s of doms.values()) if (s.eoiMapFrame !== undefined) yield { frame: s.eoiMapFrame, refs: 1, typeRefs: 1 };
  });
  states.set(vmm, dom);
  return dom;
}
