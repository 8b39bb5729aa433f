/**
 * vcpu_op handlers (xen/arch/x86/domain.c:do_vcpu_op, xen/common/domain.c:common_vcpu_op
 * and map_vcpu_info at RELEASE-4.17.7): life cycle (initialise, up, down, is_up), runstate
 * (get_runstate_info, register_runstate_memory_area), timers, register_vcpu_info,
 * send_nmi, get_physid and the time-info area. Every command first looks the vCPU up
 * (-ENOENT). Arm's restriction to register_vcpu_info and register_runstate_memory_area is
 * the generated dispatcher's (it routes nothing else there).
 */
import type { XenHandler } from '../../generated/xen/handler.js';
import { type Gfn, gfn, type Mfn, PAGE_SIZE } from '../addr.js';
import { codecsByArch } from '../../generated/xen/codecs.js';
import { constantValue } from '../../spec/index.js';
import { specNumber, type CallContext } from '../context.js';
import type { Domain, Subsystem } from '../machine.js';
import { PageType } from '../memory/frames.js';
import { mmHandlers, pvMmu } from '../mm/handlers.js';
import { declaredBound } from '../sched/state.js';
import { schedulerOf } from '../sched/ops.js';
import type { ReferenceVmm } from '../vmm.js';
import { emptyRecord, type VcpuRecord, type VcpuSnapshot } from './state.js';

/** Whether the domain uses the 32-bit (compat) shared_info layout (has_32bit_shinfo). */
const is32 = (d: Domain) => d.arch.wordSize === 4 && d.arch.family === 'x86';

/** The guest frame a PV context's CR3 names (xen_cr3_to_pfn; 32-bit guests fold bits 31:12 and 11:0). */
function cr3Frame(d: Domain, cr3: bigint): Gfn {
  if (is32(d)) {
    const v = BigInt.asUintN(32, cr3);
    return gfn(Number(BigInt.asUintN(32, (v >> 12n) | (v << 20n))));
  }
  return gfn(Number(BigInt.asUintN(52, cr3 >> 12n)));
}

export function vcpuHandlers(vmm: ReferenceVmm): XenHandler<CallContext> {
  const sched = schedulerOf(vmm);
  const m = vmm.machine;
  const E = m.errno;
  const e = (n: string) => E[n] as number;
  const spec = m.spec;
  const minPeriod = declaredBound(spec, 'vcpu_op$VCPUOP_set_periodic_timer', 'arg.period_ns', 'lt');
  const maxPeriod = declaredBound(spec, 'vcpu_op$VCPUOP_set_periodic_timer', 'arg.period_ns', 'gt');
  const sendNmi = specNumber(vmm, 'VCPUOP_send_nmi');

  const recordOf = vcpuRecords(vmm);

  const exists = (c: CallContext, vcpuid: number) => c.domain.vcpus[vcpuid] !== undefined;

  /** VCPUOP_register_vcpu_info (map_vcpu_info), after the struct was read. */
  const registerVcpuInfo = (c: CallContext, v: number, frameNo: bigint, offset: number): number => {
    const d = c.domain;
    const si = d.sharedInfo;
    const size = si.layout.vcpuInfoSize;
    if (offset > PAGE_SIZE - size) return e('ENXIO');
    const align = is32(d) ? 4 : 8;
    if (offset & (align - 1)) return e('ENXIO');
    const rec = recordOf(d, v);
    if (rec.vcpuInfoFrame !== undefined) return e('EINVAL');
    if (v !== c.vcpu && d.vcpus[v]?.online) return e('EINVAL');
    // get_page_from_gfn: a PV domain names one of its machine frames, a translated one its RAM or a gmfn_foreign page, never a grant mapping (Machine.pageFromGfn).
    const mf = m.pageFromGfn(d, frameNo);
    if (mf === undefined) return e('EINVAL');
    // get_page_type(PGT_writable_page): a frame in use with another type (a page table, a descriptor page) refuses.
    const f = m.frames;
    if (f.type[mf] !== PageType.Writable && (f.typeCount[mf] as number) > 0) return e('EINVAL');
    f.type[mf] = PageType.Writable;
    f.typeCount[mf] = (f.typeCount[mf] as number) + 1;
    f.refCount[mf] = (f.refCount[mf] as number) + 1;
    // Copy the current vcpu_info (or, for a vCPU that had none, a zeroed one with events masked).
    const old = si.vcpuInfoLocation(v);
    const page = f.write(mf as Mfn);
    if (old) page.set(f.read(old.frame).slice(old.offset, old.offset + size), offset);
    else {
      page.fill(0, offset, offset + size);
      if (si.layout.upcallMask !== undefined) page[offset + si.layout.upcallMask] = 1;
    }
    si.registerVcpuInfo(v, { frame: mf, offset });
    rec.vcpuInfoFrame = mf;
    rec.vcpuInfoForeign = f.owner[mf] !== d.id;
    // Mark everything pending so nothing is lost, then the upcall (vcpu_mark_events_pending).
    page.fill(0xff, offset + si.layout.pendingSel, offset + si.layout.pendingSel + si.layout.wordBytes);
    si.markEventsPending(v);
    return 0;
  };

  /** The address of a runstate or time area: a 32-bit x86 guest's compat handle is the low 4 bytes. */
  const areaAddress = (d: Domain, a: { addr: { p?: bigint; h?: bigint; v?: bigint } }): bigint => {
    const p = a.addr.p ?? a.addr.h ?? a.addr.v ?? 0n;
    return is32(d) ? BigInt.asUintN(32, p) : p;
  };
  /**
   * guest_handle_okay for a runstate or time area (xen/common/domain.c, xen/arch/x86/domain.c,
   * xen/arch/x86/x86_64/domain.c at RELEASE-4.17.7): the address range only, never the
   * mapping (the first copy's result is ignored, and later updates fault silently). A 64-bit
   * PV caller's area starts below 2^47 or above HYPERVISOR_VIRT_END (__addr_ok); a 32-bit
   * one's last byte lies below HYPERVISOR_COMPAT_VIRT_START (__compat_access_ok).
   */
  const x64 = spec.arches.find((a) => a.name === 'x86_64');
  const x32 = spec.arches.find((a) => a.name === 'x86_32');
  const virtEnd = BigInt(constantValue(spec, 'HYPERVISOR_VIRT_END', x64) ?? 0);
  const compatVirtStart = BigInt(constantValue(spec, 'HYPERVISOR_VIRT_START', x32) ?? 0);
  const areaOkay = (d: Domain, addr: bigint, size: number): boolean => {
    if (!d.abi.name.endsWith('-pv')) return true;
    if (d.arch.wordSize === 4) return addr + BigInt(Math.max(size, 1)) - 1n < compatVirtStart;
    return addr < 1n << 47n || addr >= virtEnd;
  };

  return {
    vcpu_op$VCPUOP_initialise: (c, vcpuid, arg) => {
      if (!exists(c, vcpuid)) return e('ENOENT');
      const d = c.domain;
      if (d.sharedInfo.vcpuInfoLocation(vcpuid) === undefined) return e('EINVAL');
      const ctx = arg.read();
      const s = sched.vcpu(d, vcpuid);
      if (s.initialised) return e('EEXIST');
      // arch_set_info_guest: a PV context must name a page-table root among the domain's frames.
      if (d.abi.name.endsWith('-pv')) {
        const cr3 = ctx.ctrlreg?.[3] ?? 0n;
        if (d.memory.lookup(cr3Frame(d, cr3)) === undefined) return e('EINVAL');
      }
      recordOf(d, vcpuid).context = ctx;
      s.initialised = true;
      return 0;
    },
    vcpu_op$VCPUOP_up: (c, vcpuid) => {
      if (!exists(c, vcpuid)) return e('ENOENT');
      if (!sched.vcpu(c.domain, vcpuid).initialised) return e('EINVAL');
      (c.domain.vcpus[vcpuid] as { online: boolean }).online = true;
      sched.sync(c.domain, vcpuid);
      return 0;
    },
    vcpu_op$VCPUOP_down: (c, vcpuid) => {
      if (!exists(c, vcpuid)) return e('ENOENT');
      sched.down(c.domain, vcpuid);
      return 0;
    },
    vcpu_op$VCPUOP_is_up: (c, vcpuid) => {
      if (!exists(c, vcpuid)) return e('ENOENT');
      return c.domain.vcpus[vcpuid]?.online ? 1 : 0;
    },
    vcpu_op$VCPUOP_get_runstate_info: (c, vcpuid, arg) => {
      if (!exists(c, vcpuid)) return e('ENOENT');
      arg.write(sched.runstate(c.domain, vcpuid));
      return 0;
    },
    vcpu_op$VCPUOP_register_runstate_memory_area: (c, vcpuid, arg) => {
      if (!exists(c, vcpuid)) return e('ENOENT');
      const d = c.domain;
      const addr = areaAddress(d, arg.read());
      if (addr !== 0n && !areaOkay(d, addr, sched.runstateSize(d))) return e('EFAULT');
      // A null handle stops the updates (and, in the model, writes nothing).
      sched.vcpu(d, vcpuid).runstateArea = addr === 0n ? undefined : addr;
      sched.writeRunstateArea(d, vcpuid);
      return 0;
    },
    vcpu_op$VCPUOP_set_periodic_timer: (c, vcpuid, arg) => {
      if (!exists(c, vcpuid)) return e('ENOENT');
      const p = arg.read().period_ns;
      if (p < minPeriod || p > maxPeriod) return e('EINVAL');
      sched.setPeriodic(c.domain, vcpuid, p);
      return 0;
    },
    vcpu_op$VCPUOP_stop_periodic_timer: (c, vcpuid) => {
      if (!exists(c, vcpuid)) return e('ENOENT');
      sched.setPeriodic(c.domain, vcpuid, 0n);
      return 0;
    },
    vcpu_op$VCPUOP_set_singleshot_timer: (c, vcpuid, arg) => {
      if (!exists(c, vcpuid)) return e('ENOENT');
      if (vcpuid !== c.vcpu) return e('EINVAL');
      // VCPU_SSHOTTMR_future is ignored by 4.17: a past timeout fires at once either way.
      sched.setSingleshot(c.domain, vcpuid, arg.read().timeout_abs_ns);
      return 0;
    },
    vcpu_op$VCPUOP_stop_singleshot_timer: (c, vcpuid) => {
      if (!exists(c, vcpuid)) return e('ENOENT');
      if (vcpuid !== c.vcpu) return e('EINVAL');
      sched.stopSingleshot(c.domain, vcpuid);
      return 0;
    },
    vcpu_op$VCPUOP_register_vcpu_info: (c, vcpuid, arg) => {
      if (!exists(c, vcpuid)) return e('ENOENT');
      const a = arg.read();
      return registerVcpuInfo(c, vcpuid, a.mfn, a.offset);
    },
    vcpu_op$VCPUOP_get_physid: (c, vcpuid, arg) => {
      if (!exists(c, vcpuid)) return e('ENOENT');
      // is_hwdom_pinned_vcpu: a hardware-domain vCPU whose hard affinity is one pCPU (here: a pin override).
      if (!sched.isHardwareDomain(c.domain) || sched.vcpu(c.domain, vcpuid).pinned === undefined) return e('EINVAL');
      // x86_cpu_to_apicid[] and the ACPI id are indexed by the vCPU id; the model host numbers both 0..hostCpus-1.
      const id = BigInt(vcpuid < vmm.hostCpus ? vcpuid : 0);
      arg.write({ phys_id: id | (id << 32n) });
      return 0;
    },
    vcpu_op$VCPUOP_register_vcpu_time_memory_area: (c, vcpuid, arg) => {
      if (!exists(c, vcpuid)) return e('ENOENT');
      const d = c.domain;
      const addr = areaAddress(d, arg.read());
      if (addr !== 0n && !areaOkay(d, addr, codecsByArch[d.arch.name as keyof typeof codecsByArch].VcpuTimeInfo.size)) return e('EFAULT');
      recordOf(d, vcpuid).timeArea = addr === 0n ? undefined : addr;
      return 0;
    },
    // VCPUOP_send_nmi gets no argument from the generated dispatcher, which calls this
    // hypercall-level method for it; the NULL check needs the pointer.
    vcpu_op: (c, cmd, vcpuid, arg) => {
      if (!exists(c, vcpuid)) return e('ENOENT');
      // Arm's vcpu_op answers every command it does not implement with -EINVAL.
      if (cmd !== sendNmi) return c.domain.arch.family === 'arm' ? e('EINVAL') : e('ENOSYS');
      if (arg !== 0n) return e('EINVAL');
      const s = sched.vcpu(c.domain, vcpuid);
      if (!s.nmiPending) {
        s.nmiPending = true;
        sched.kick(c.domain, vcpuid);
      }
      return 0;
    },
  };
}

const recordTables = new WeakMap<ReferenceVmm, (d: Domain, v: number) => VcpuRecord>();

/** The vCPU records of a VMM (registered with its machine once): a lookup by domain and vCPU. */
function vcpuRecords(vmm: ReferenceVmm): (d: Domain, v: number) => VcpuRecord {
  const cached = recordTables.get(vmm);
  if (cached) return cached;
  const m = vmm.machine;
  let records = new Map<number, VcpuRecord[]>();
  const recordOf = (d: Domain, v: number): VcpuRecord => {
    let r = records.get(d.id);
    if (!r) {
      r = d.vcpus.map(() => emptyRecord());
      records.set(d.id, r);
    }
    // A snapshot taken before the domain had records restores an empty list: fill it.
    while (r.length < d.vcpus.length) r.push(emptyRecord());
    return r[v] as VcpuRecord;
  };
  const sub: Subsystem<VcpuSnapshot> = {
    snapshot: () => {
      const out: VcpuSnapshot = new Map();
      for (const d of m.domains.values()) {
        out.set(d.id, { records: (records.get(d.id) ?? []).map((r) => ({ ...r })), vcpuInfo: d.sharedInfo.registeredVcpuInfo() });
      }
      return out;
    },
    restore: (s) => {
      records = new Map();
      for (const [id, ds] of s) {
        records.set(id, ds.records.map((r) => ({ ...r })));
        m.domain(id)?.sharedInfo.restoreRegisteredVcpuInfo(ds.vcpuInfo);
      }
    },
    invariants: () => {
      const out: string[] = [];
      for (const [id, rs] of records) {
        rs.forEach((r, v) => {
          const f = r.vcpuInfoFrame;
          if (f === undefined) return;
          if (m.frames.owner[f] !== id && !(r.vcpuInfoForeign === true && m.domains.has(m.frames.owner[f] as number))) out.push(`domain ${id} vCPU ${v}: vcpu_info frame ${f} is owned by ${m.frames.owner[f]}`);
          else if (m.frames.type[f] !== PageType.Writable || (m.frames.typeCount[f] as number) < 1) out.push(`domain ${id} vCPU ${v}: vcpu_info frame ${f} holds no writable type reference`);
        });
      }
      return out;
    },
  };
  m.register('vcpu', sub as Subsystem);
  // The MMU's invariants count every frame reference: declare the ones a vcpu_info holds.
  // (Building the MMU's handlers creates it once per VMM, whatever the module order.)
  mmHandlers(vmm);
  pvMmu(vmm)?.holders.push(function* () {
    for (const rs of records.values()) for (const r of rs) if (r.vcpuInfoFrame !== undefined) yield { frame: r.vcpuInfoFrame, refs: 1, typeRefs: 1 };
  });
  recordTables.set(vmm, recordOf);
  return recordOf;
}
