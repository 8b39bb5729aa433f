/**
 * The x86 PV MMU hypercalls with Xen 4.17's semantics: mmu_update (normal, machphys,
 * preserve-AD and no-translate requests), mmuext_op (pins, base pointers, TLB and cache
 * flushes, LDT, page clear and copy) and update_va_mapping(_otherdomain), for x86_64 PV and,
 * through the same code, 32-bit PV (PAE tables, the compat mmuext_op layout).
 *
 * Batches run in order and stop at the first failure, whose errno is the result; `pdone`
 * receives the number of completed requests. Long batches are preempted between elements
 * (never before the first of a run) when `vmm.preemptCheck()` says so, and continue as Xen's
 * hypercall_create_continuation(op, "hihi", list advanced past the done elements,
 * (count - done) | MMU_UPDATE_PREEMPTED, pdone, foreigndom): pdone then holds the work done
 * so far, which the restart reads back and adds to. A 32-bit PV mmuext_op runs through
 * compat_mmuext_op, which hands do_mmuext_op chunks of COMPAT_MMUEXT_CHUNK translated
 * operations, so there is no check at the first element of each chunk. Not modelled: Xen's
 * preemption inside one operation (-ERESTART from a preemptible page-type validation, and
 * the old_guest_table continuation that carries the result in foreigndom, whose tail is
 * still answered).
 *
 * @see xen/arch/x86/mm.c:do_mmu_update, do_mmuext_op, new_guest_cr3, __do_update_va_mapping;
 *      xen/arch/x86/x86_64/compat/mm.c:compat_mmuext_op (RELEASE-4.17.7)
 */
import type { GuestArrayRef, GuestRef } from '../../generated/xen/runtime.js';
import { GuestFault } from '../../generated/xen/runtime.js';
import type { MmuextOp, MmuUpdate } from '../../generated/xen/types.js';
import { constantValue, findArch } from '../../spec/index.js';
import { gaddr, PAGE_SIZE } from '../addr.js';
import type { CallContext } from '../context.js';
import type { Domain, Machine } from '../machine.js';
import { freeTail, NO_OWNER, PageType, zeroTail } from '../memory/frames.js';
import { isPv32, isTranslated, PageTables, type PgOwner, pteFlags, pteMfn, pteOf, PTE } from './pagetables.js';
import { MmState, NO_BASE, type VcpuMm } from './state.js';

/**
 * Bit 31 of a batch count: Xen's own continuation marker (MMU_UPDATE_PREEMPTED,
 * xen/arch/x86/include/asm/mm.h; Xen-internal, so not in the public spec).
 */
const PREEMPTED = 0x80000000;
/** Most LDT entries MMUEXT_SET_LDT accepts (8192: the architectural LDT size, checked inline in do_mmuext_op). */
const LDT_MAX_ENTS = 8192;
/**
 * Operations compat_mmuext_op translates per do_mmuext_op call: COMPAT_ARG_XLAT_SIZE
 * (2 pages, xen/arch/x86/include/asm/x86_64/uaccess.h) / sizeof(mmuext_op_t) (24 bytes).
 */
const COMPAT_MMUEXT_CHUNK = Math.floor((2 * PAGE_SIZE) / 24);

/** The PV MMU of one machine: its state (registered as subsystem `mm`) and operations. */
export class PvMmu {
  readonly state = new MmState();
  readonly pt: PageTables;
  private readonly E: Machine['errno'];
  private readonly c: (name: string) => number;
  private readonly virtEnd: bigint;
  /** The MMU_* request types, looked up once (mmu_update is a hot path). */
  private readonly mmu: { normal: number; machphys: number; preserveAd: number; noTranslate: number };
  private readonly domidIo: number;
  private readonly domidXen: number;
  /** The hypercall numbers of mmu_update and mmuext_op (for their continuations). */
  private readonly nrMmuUpdate: number;
  private readonly nrMmuextOp: number;

  constructor(readonly m: Machine) {
    this.E = m.errno;
    const spec = m.spec;
    const num = (n: string, arch?: string): bigint => {
      const v = constantValue(spec, n, arch ? findArch(spec, arch) : undefined);
      if (v === undefined) throw new Error(`spec has no constant ${n}`);
      return BigInt(v as number | string);
    };
    const cache = new Map<string, number>();
    this.c = (n) => {
      let v = cache.get(n);
      if (v === undefined) cache.set(n, (v = Number(num(n))));
      return v;
    };
    this.virtEnd = num('HYPERVISOR_VIRT_END', 'x86_64');
    this.mmu = {
      normal: this.c('MMU_NORMAL_PT_UPDATE'),
      machphys: this.c('MMU_MACHPHYS_UPDATE'),
      preserveAd: this.c('MMU_PT_UPDATE_PRESERVE_AD'),
      noTranslate: this.c('MMU_PT_UPDATE_NO_TRANSLATE'),
    };
    this.domidIo = this.c('DOMID_IO');
    this.domidXen = this.c('DOMID_XEN');
    const nr = (name: string): number => {
      const h = spec.hypercalls.find((x) => x.name === name);
      if (!h) throw new Error(`spec has no hypercall ${name}`);
      return h.number;
    };
    this.nrMmuUpdate = nr('mmu_update');
    this.nrMmuextOp = nr('mmuext_op');
    this.pt = new PageTables(m, this.state, {
      virtStart: num('HYPERVISOR_VIRT_START', 'x86_64'),
      virtEnd: this.virtEnd,
      compatVirtStart: Number(num('HYPERVISOR_VIRT_START', 'x86_32')),
    });
    m.register('mm', {
      snapshot: () => this.state.snapshot(),
      restore: (s) => this.state.restore(s as ReturnType<MmState['snapshot']>),
      invariants: () => this.invariants(),
    });
  }

  private err(code: string): number {
    return this.E[code] as number;
  }

  /** The MMU registers of a vCPU. */
  vcpu(d: Domain, v: number): VcpuMm {
    return this.state.vcpu(d.id, v, d.vcpus.length);
  }

  /** The machine-to-physical entry MMU_MACHPHYS_UPDATE last set for a frame (hosts and tests). */
  m2p(frame: number): bigint | undefined {
    return this.state.m2p.get(frame);
  }

  /** get_pg_owner: DOMID_SELF is the caller, the caller's own id is refused. */
  private pgOwner(d: Domain, domid: number): PgOwner | undefined {
    if (domid === d.id) return undefined;
    if (domid === this.domidIo) return 'io';
    if (domid === this.domidXen) return 'xen';
    return this.m.domainByAnyId(d, domid);
  }

  /** guest_handle_okay for an array: a 64-bit PV caller's range must start outside Xen's hole (__addr_ok). */
  private handleOkay(d: Domain, addr: bigint): boolean {
    if (isPv32(d) || isTranslated(d)) return true;
    return this.addrOk(addr);
  }

  /** __addr_ok: below 2^47, or above Xen's range (x86_64). */
  private addrOk(a: bigint): boolean {
    return a < 1n << 47n || a >= this.virtEnd;
  }

  /** Writes pdone (a fault is ignored, as copy_to_guest's result is in Xen). */
  private writeDone(pdone: GuestRef<number>, n: number): void {
    if (pdone.addr === 0n) return;
    try {
      pdone.write(n >>> 0);
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
    }
  }

  /** The count of a batch, and the work done so far when it carries Xen's continuation marker. */
  private batchStart(count: number, pdone: GuestRef<number>): { count: number; done: number } {
    if ((count & PREEMPTED) === 0) return { count, done: 0 };
    let done = 0;
    if (pdone.addr !== 0n) {
      try {
        done = pdone.read();
      } catch (e) {
        if (!(e instanceof GuestFault)) throw e;
      }
    }
    return { count: (count & ~PREEMPTED) >>> 0, done };
  }

  // ───────────── mmu_update ─────────────

  mmuUpdate(ctx: CallContext, ureqs: GuestArrayRef<MmuUpdate>, count0: number, pdone: GuestRef<number>, foreigndom: number): number {
    const d = ctx.domain;
    // The tail of a continuation that only reports a result (foreigndom carries it).
    if (count0 === PREEMPTED && ureqs.addr === 0n) return foreigndom | 0;
    const { count, done } = this.batchStart(count0, pdone);
    if (!this.handleOkay(d, ureqs.addr)) return this.err('EFAULT');
    let ptOwner = d;
    const pfd = foreigndom >>> 16;
    if (pfd !== 0) {
      // by_id: DOMID_SELF is not accepted here. Every model domain has a vCPU 0.
      const p = this.m.domains.get(pfd - 1);
      if (!p) return this.err('ESRCH');
      ptOwner = p;
    }
    let rc = 0;
    let i = 0;
    let preempted = false;
    const pgOwner = this.pgOwner(d, foreigndom & 0xffff);
    if (!pgOwner) rc = this.err('ESRCH');
    else {
      const mem = ureqs.mem;
      const size = ureqs.codec.size;
      const vmm = ctx.vmm;
      // The whole batch at once when it is all accessible; else element by element, so
      // the elements before an inaccessible one still take effect.
      const whole = count > 0 ? mem.locate(ureqs.addr, count * size) : -1;
      for (; i < count; i++) {
        if (i !== 0 && vmm.preemptCheck()) {
          preempted = true;
          break;
        }
        const o = whole >= 0 ? whole + i * size : mem.locate(ureqs.addr + BigInt(i * size), size);
        if (o < 0) {
          rc = this.err('EFAULT');
          break;
        }
        const v = mem.view;
        rc = this.mmuRequest(d, ptOwner, pgOwner, v.getUint32(o, true), v.getUint32(o + 4, true), v.getUint32(o + 8, true), v.getUint32(o + 12, true));
        if (rc !== 0) break;
      }
    }
    this.writeDone(pdone, done + i);
    if (preempted) return this.continueBatch(ctx, this.nrMmuUpdate, ureqs, i, count, pdone, foreigndom);
    return rc;
  }

  /**
   * hypercall_create_continuation(op, "hihi", list + i, (count - i) | MMU_UPDATE_PREEMPTED,
   * pdone, foreigndom): the rest of a preempted batch (the caller has written pdone).
   */
  private continueBatch(ctx: CallContext, op: number, list: GuestArrayRef<unknown>, i: number, count: number, pdone: GuestRef<number>, foreigndom: number): number {
    ctx.vmm.createContinuation(ctx, op, [
      list.addr + BigInt(i * list.codec.size),
      BigInt(((count - i) | PREEMPTED) >>> 0),
      pdone.addr,
      BigInt(foreigndom >>> 0),
    ]);
    // What hypercall_create_continuation returns meanwhile: the hypercall number.
    return op;
  }

  /** One mmu_update request (ptr and val as 32-bit halves). */
  private mmuRequest(d: Domain, ptOwner: Domain, pgOwner: PgOwner, ptrLo: number, ptrHi: number, valLo: number, valHi: number): number {
    const cmd = ptrLo & 7;
    const mmu = this.mmu;
    const frame = (ptrLo >>> 12) + ptrHi * 0x100000;
    switch (cmd) {
      case mmu.normal:
      case mmu.preserveAd:
      case mmu.noTranslate: {
        if (isTranslated(ptOwner)) return this.err('EOPNOTSUPP');
        if (!((pgOwner === 'io' || this.pt.mayTarget(d, pgOwner)) && this.pt.mayTarget(d, ptOwner))) return this.err('EPERM');
        const pt = this.pt;
        if (!pt.getPage(frame, ptOwner)) return this.err('EINVAL');
        const slot = (ptrLo & 0xfff) >>> 3;
        const val = { lo: valLo >>> 0, hi: valHi >>> 0 };
        const fr = this.m.frames;
        let rc = this.err('EINVAL');
        if (pt.lockable(frame)) {
          const type = fr.type[frame] as PageType;
          const preserveAd = cmd === mmu.preserveAd;
          if (type === PageType.L1) {
            // The entry's owner is the page-table owner (Xen runs the update as its vCPU 0).
            rc = pt.modL1(frame, slot, val, preserveAd, cmd !== mmu.noTranslate, ptOwner, pgOwner, d);
          } else if (type === PageType.L2 || type === PageType.L3 || type === PageType.L4) {
            if (pgOwner === ptOwner) rc = pt.modUpper(type, frame, slot, val, preserveAd, ptOwner);
          } else if (type === PageType.Writable) {
            pt.write(frame, slot, val);
            rc = 0;
          }
        } else if (pt.getPageType(frame, PageType.Writable) === 0) {
          pt.write(frame, slot, val);
          pt.putPageType(frame);
          rc = 0;
        }
        pt.putPage(frame);
        return rc;
      }
      case mmu.machphys: {
        if (d !== ptOwner) return this.err('EPERM');
        if (isTranslated(pgOwner)) return this.err('EINVAL');
        if (pgOwner !== 'io' && !this.pt.mayTarget(d, pgOwner)) return this.err('EPERM');
        if (!this.pt.getPage(frame, pgOwner)) return this.err('EINVAL');
        this.state.m2p.set(frame, (BigInt(valHi >>> 0) << 32n) | BigInt(valLo >>> 0));
        this.pt.putPage(frame);
        return 0;
      }
      default:
        return this.err('ENOSYS');
    }
  }

  // ───────────── mmuext_op ─────────────

  mmuextOp(ctx: CallContext, uops: GuestArrayRef<MmuextOp>, count0: number, pdone: GuestRef<number>, foreigndom: number): number {
    const d = ctx.domain;
    if (count0 === PREEMPTED && uops.addr === 0n) return foreigndom | 0;
    const { count, done } = this.batchStart(count0, pdone);
    if (!this.handleOkay(d, uops.addr)) return this.err('EFAULT');
    // foreigndom is a domid_t parameter: only bits 15:0 count.
    const pgOwner = this.pgOwner(d, foreigndom & 0xffff);
    if (!pgOwner) return this.err('ESRCH');
    if (isTranslated(pgOwner)) return this.err('EINVAL');
    if (!this.pt.mayTarget(d, pgOwner)) return this.err('EPERM');
    let rc = 0;
    let i = 0;
    let preempted = false;
    // compat_mmuext_op calls do_mmuext_op per chunk, which never checks at its first element.
    const chunk = isPv32(d) ? COMPAT_MMUEXT_CHUNK : Infinity;
    for (; i < count; i++) {
      if (i % chunk !== 0 && ctx.vmm.preemptCheck()) {
        preempted = true;
        break;
      }
      let op: MmuextOp;
      try {
        op = uops.read(i);
      } catch (e) {
        if (!(e instanceof GuestFault)) throw e;
        rc = this.err('EFAULT');
        break;
      }
      rc = this.mmuextCommand(ctx, d, pgOwner, op);
      if (rc !== 0) break;
    }
    this.writeDone(pdone, done + i);
    if (preempted) return this.continueBatch(ctx, this.nrMmuextOp, uops, i, count, pdone, foreigndom);
    return rc;
  }

  private mmuextCommand(ctx: CallContext, d: Domain, pgOwner: PgOwner, op: MmuextOp): number {
    const c = this.c;
    const cmd = op.cmd;
    const pin = [c('MMUEXT_PIN_L1_TABLE'), c('MMUEXT_PIN_L2_TABLE'), c('MMUEXT_PIN_L3_TABLE'), c('MMUEXT_PIN_L4_TABLE')];
    if (isTranslated(d) && !pin.includes(cmd) && cmd !== c('MMUEXT_UNPIN_TABLE')) return this.err('EOPNOTSUPP');
    // The compat translation refuses NEW_USER_BASEPTR before the command runs.
    if (isPv32(d) && cmd === c('MMUEXT_NEW_USER_BASEPTR')) return this.err('EINVAL');
    const mfn = frameArg(op.arg1.mfn);
    const self = pgOwner === d;
    const pt = this.pt;
    const fr = this.m.frames;
    const v = this.vcpu(d, ctx.vcpu);
    switch (cmd) {
      case pin[0]:
      case pin[1]:
      case pin[2]:
      case pin[3]: {
        if (cmd === pin[3] && typeof pgOwner !== 'string' && isPv32(pgOwner)) return 0;
        const level = (cmd - (pin[0] as number) + 1) as PageType;
        if (!pt.getPage(mfn, pgOwner)) return this.err('EINVAL');
        const rc = pt.getPageType(mfn, level);
        if (rc !== 0) {
          pt.putPage(mfn);
          return rc;
        }
        if (fr.pinned[mfn] === 1) {
          pt.putPageType(mfn);
          pt.putPage(mfn);
          return this.err('EINVAL');
        }
        fr.pinned[mfn] = 1;
        return 0;
      }
      case c('MMUEXT_UNPIN_TABLE'): {
        if (!pt.getPage(mfn, pgOwner)) return this.err('EINVAL');
        if (fr.pinned[mfn] !== 1) {
          pt.putPage(mfn);
          return this.err('EINVAL');
        }
        fr.pinned[mfn] = 0;
        pt.putPageType(mfn);
        pt.putPage(mfn);
        pt.putPage(mfn);
        return 0;
      }
      case c('MMUEXT_NEW_BASEPTR'): {
        if (!self) return this.err('EPERM');
        if (isTranslated(d)) return this.err('EINVAL');
        if (v.kernel === mfn) return 0;
        const rc = pt.getPageAndType(mfn, isPv32(d) ? PageType.L3 : PageType.L4, d);
        if (rc !== 0) return rc;
        const old = v.kernel;
        v.kernel = mfn;
        if (old !== NO_BASE) {
          pt.putPageType(old);
          pt.putPage(old);
        }
        return 0;
      }
      case c('MMUEXT_NEW_USER_BASEPTR'): {
        if (!self) return this.err('EPERM');
        if (isTranslated(d)) return this.err('EINVAL');
        const old = v.user;
        if (old === mfn) return 0;
        if (mfn !== 0) {
          const rc = pt.getPageAndType(mfn, PageType.L4, d);
          if (rc !== 0) return rc;
        }
        v.user = mfn;
        if (old !== 0) {
          pt.putPageType(old);
          pt.putPage(old);
        }
        return 0;
      }
      case c('MMUEXT_TLB_FLUSH_LOCAL'):
      case c('MMUEXT_INVLPG_LOCAL'):
      case c('MMUEXT_TLB_FLUSH_ALL'):
      case c('MMUEXT_INVLPG_ALL'):
        // TLBs are not modelled: a flush has no effect beyond its checks.
        return self ? 0 : this.err('EPERM');
      case c('MMUEXT_TLB_FLUSH_MULTI'):
      case c('MMUEXT_INVLPG_MULTI'):
        if (!self) return this.err('EPERM');
        return this.readVcpumask(d, op.arg2.vcpumask ?? 0n) ? 0 : this.err('EINVAL');
      case c('MMUEXT_FLUSH_CACHE'):
        if (!self) return this.err('EPERM');
        return pt.iomem(d) ? 0 : this.err('EACCES');
      case c('MMUEXT_FLUSH_CACHE_GLOBAL'):
        if (!self) return this.err('EPERM');
        return pt.iomem(d) ? 0 : this.err('EINVAL');
      case c('MMUEXT_SET_LDT'): {
        const ents = op.arg2.nr_ents ?? 0;
        const base = ents ? (op.arg1.linear_addr ?? 0n) : 0n;
        if (!self) return this.err('EPERM');
        if (isTranslated(d)) return this.err('EINVAL');
        if (ents > LDT_MAX_ENTS || (ents !== 0 && ((base & BigInt(PAGE_SIZE - 1)) !== 0n || !this.addrOk(base)))) return this.err('EINVAL');
        v.ldtBase = base;
        v.ldtEnts = ents;
        return 0;
      }
      case c('MMUEXT_CLEAR_PAGE'): {
        if (!pt.getPage(mfn, pgOwner)) return this.err('EINVAL');
        if (pt.getPageType(mfn, PageType.Writable) !== 0) {
          pt.putPage(mfn);
          return this.err('EINVAL');
        }
        fr.write(mfn as never).fill(0);
        pt.putPageType(mfn);
        pt.putPage(mfn);
        return 0;
      }
      case c('MMUEXT_COPY_PAGE'): {
        const src = frameArg(op.arg2.src_mfn);
        if (!pt.getPage(src, pgOwner)) return this.err('EINVAL');
        if (!pt.getPage(mfn, pgOwner)) {
          pt.putPage(src);
          return this.err('EINVAL');
        }
        if (pt.getPageType(mfn, PageType.Writable) !== 0) {
          pt.putPage(src);
          pt.putPage(mfn);
          return this.err('EINVAL');
        }
        fr.write(mfn as never).set(fr.read(src as never));
        pt.putPageType(mfn);
        pt.putPage(mfn);
        pt.putPage(src);
        return 0;
      }
      case c('MMUEXT_MARK_SUPER'):
      case c('MMUEXT_UNMARK_SUPER'):
        return this.err('EOPNOTSUPP');
      default:
        return this.err('ENOSYS');
    }
  }

  /**
   * vcpumask_to_pcpumask's reading of a guest vCPU bitmap: words of the guest's long, up to
   * the domain's vCPU count (stopping early at a set bit past it). False when a word faults.
   */
  private readVcpumask(d: Domain, addr: bigint): boolean {
    const word = d.arch.wordSize;
    const bits = word * 8;
    const buf = new Uint8Array(word);
    for (let offs = 0; ; offs++) {
      const bias = offs * bits;
      if (bias >= d.vcpus.length) return true;
      const a = addr + BigInt(offs * word);
      if (a > BigInt(Number.MAX_SAFE_INTEGER) || !d.memory.read(gaddr(Number(a)), buf)) return false;
      for (let b = 0; b < bits; b++) {
        if (((buf[b >> 3] as number) & (1 << (b & 7))) === 0) continue;
        if (b + bias >= d.vcpus.length) return true;
      }
    }
  }

  // ───────────── update_va_mapping ─────────────

  updateVaMapping(ctx: CallContext, va: bigint, val: bigint, flags: bigint, pgOwner: PgOwner): number {
    const d = ctx.domain;
    if (!this.pt.mayTarget(d, pgOwner)) return this.err('EPERM');
    const l1 = this.mapGuestL1e(d, this.vcpu(d, ctx.vcpu), va);
    if (!l1 || !this.pt.getPage(l1.frame, d)) return this.err('EINVAL');
    let rc = this.err('EINVAL');
    if (this.pt.lockable(l1.frame) && this.m.frames.type[l1.frame] === PageType.L1) {
      rc = this.pt.modL1(l1.frame, l1.slot, pteOf(val), false, true, d, pgOwner, d);
    }
    this.pt.putPage(l1.frame);
    if (rc !== 0) return rc;
    const type = flags & BigInt(this.c('UVMF_FLUSHTYPE_MASK'));
    const scope = flags & ~BigInt(this.c('UVMF_FLUSHTYPE_MASK'));
    if (type !== BigInt(this.c('UVMF_TLB_FLUSH')) && type !== BigInt(this.c('UVMF_INVLPG'))) return 0;
    if (scope === BigInt(this.c('UVMF_LOCAL')) || scope === BigInt(this.c('UVMF_ALL'))) return 0;
    return this.readVcpumask(d, scope) ? 0 : this.err('EFAULT');
  }

  updateVaMappingOtherdomain(ctx: CallContext, va: bigint, val: bigint, flags: bigint, domid: number): number {
    const pgOwner = this.pgOwner(ctx.domain, domid);
    if (!pgOwner) return this.err('ESRCH');
    return this.updateVaMapping(ctx, va, val, flags, pgOwner);
  }

  /**
   * map_guest_l1e: the L1 frame and slot that map `va` in the vCPU's current (kernel) address
   * space, walked from its base pointer as the MMU walks it; undefined when `va` is outside the
   * guest's range, there is no base pointer, or an upper entry is not present or a superpage.
   */
  mapGuestL1e(d: Domain, v: VcpuMm, va: bigint): { frame: number; slot: number } | undefined {
    if (v.kernel === NO_BASE) return undefined;
    const fr = this.m.frames;
    const shifts = isPv32(d) ? [30n, 21n] : [39n, 30n, 21n];
    if (!isPv32(d) && !this.addrOk(va)) return undefined;
    let table = v.kernel;
    for (const s of shifts) {
      const slot = Number((va >> s) & 511n);
      const e = this.pt.read(table, slot);
      if ((pteFlags(e) & (PTE.P | PTE.PSE)) !== PTE.P) return undefined;
      // Xen's own mappings in a 32-bit guest's top L2 are never the guest's L1s.
      if (s === 21n && isPv32(d) && !this.pt.isGuestL2Slot(table, slot)) return undefined;
      table = pteMfn(e);
      if (!fr.valid(table)) return undefined;
    }
    return { frame: table, slot: Number((va >> 12n) & 511n) };
  }

  // ───────────── invariants ─────────────

  /**
   * Reference and type counts equal what holds them (allocation, page-table entries, pins,
   * base pointers); no page-table frame is mapped writable; pinned frames are page tables.
   * Another subsystem that takes frame references adds them through `holders`.
   */
  invariants(): string[] {
    const fr = this.m.frames;
    const n = fr.count;
    // Scratch counters kept between calls (the fuzzer checks after every hypercall).
    if (this.scratch.length !== 2 * n) this.scratch = new Int32Array(2 * n);
    else this.scratch.fill(0);
    const refs = this.scratch.subarray(0, n);
    const types = this.scratch.subarray(n);
    // The frame table's arrays, once (loads hoisted out of the loops below).
    const owner = fr.owner;
    const type = fr.type;
    const typeCount = fr.typeCount;
    const refCount = fr.refCount;
    const pinned = fr.pinned;
    const bytes = fr.bytes;
    const out: string[] = [];
    for (const h of this.holders) for (const x of h()) {
      refs[x.frame]! += x.refs;
      types[x.frame]! += x.typeRefs;
    }
    for (const [domid, list] of this.state.vcpus) {
      const d = this.m.domains.get(domid);
      const root = d && isPv32(d) ? PageType.L3 : PageType.L4;
      for (let i = 0; i < list.length; i++) {
        const v = list[i]!;
        if (v.kernel !== NO_BASE) {
          if (type[v.kernel] !== root) out.push(`domain ${domid} vCPU ${i}: base pointer ${v.kernel} is not an L${root} table`);
          refs[v.kernel]!++;
          types[v.kernel]!++;
        }
        if (v.user !== 0) {
          refs[v.user]!++;
          types[v.user]!++;
        }
      }
    }
    // One pass: allocation and pin references, and the entries of every page table. Frames
    // above the high-water mark were never allocated: when their metadata is a free frame's
    // (compared natively), they hold nothing and the pass stops there.
    const hw = fr.highWater < n && freeTail(owner, fr.highWater) && zeroTail(pinned, fr.highWater) && zeroTail(typeCount, fr.highWater) ? fr.highWater : n;
    for (let f = 0; f < hw; f++) {
      if (owner[f] !== NO_OWNER) refs[f]!++;
      const t = type[f] as number;
      const isPt = t >= PageType.L1 && t <= PageType.L4 && typeCount[f] !== 0;
      if (pinned[f] === 1) {
        if (!isPt) out.push(`frame ${f} is pinned but is not a page table`);
        refs[f]!++;
        types[f]!++;
      }
      if (!isPt) continue;
      const d = this.pt.ownerOf(f);
      const base = f * PAGE_SIZE;
      for (let i = 0; i < PAGE_SIZE / 8; i++) {
        // Most entries are not present: bit 0 of the low byte says so without reading the entry.
        if (((bytes[base + i * 8] as number) & PTE.P) === 0) continue;
        const e = this.pt.read(f, i);
        if ((pteFlags(e) & PTE.P) === 0) continue;
        const m = pteMfn(e);
        if (t === PageType.L1) {
          // Grant mappings' entries included: the references their grant took are held here.
          if (!fr.valid(m)) continue;
          refs[m]!++;
          if (this.pt.l1TakesType(pteFlags(e), d, this.pt.ownerOf(m))) {
            types[m]!++;
            if (type[m] !== PageType.Writable) out.push(`frame ${m} (type ${type[m]}) is mapped writable by L1 ${f} slot ${i}`);
          }
          continue;
        }
        if (t === PageType.L2 && !this.pt.isGuestL2Slot(f, i)) continue;
        if (t === PageType.L4 && d && !this.pt.isGuestL4Slot(d, i)) continue;
        if (t === PageType.L3 && d && isPv32(d) && i >= 4) continue;
        if (m === f) continue;
        refs[m]!++;
        types[m]!++;
      }
    }
    // Counts equal what holds them: compared in native code first, frame by frame only when not.
    if (!sameInts(refCount, refs) || !sameInts(typeCount, types)) {
      for (let f = 0; f < n; f++) {
        if (refCount[f] !== refs[f]) out.push(`frame ${f}: reference count ${refCount[f]}, held ${refs[f]}`);
        if (typeCount[f] !== types[f]) out.push(`frame ${f}: type count ${typeCount[f]} (type ${type[f]}), held ${types[f]}`);
      }
    }
    return out;
  }

  private scratch = new Int32Array(0);

  /** Other holders of frame references (e.g. grant mappings), counted by the invariants. */
  readonly holders: (() => Iterable<{ frame: number; refs: number; typeRefs: number }>)[] = [];
}

/** Whether two Int32Arrays of one length hold the same values (a native memory compare). */
function sameInts(a: Int32Array, b: Int32Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/** A frame argument as a number (out-of-range values become NaN, no frame). */
function frameArg(v: bigint | undefined): number {
  if (v === undefined || v > BigInt(Number.MAX_SAFE_INTEGER)) return NaN;
  return Number(v);
}
