/**
 * Mutants: deliberately broken variants of the reference VMM, each with one realistic bug of
 * the kind hypervisors ship (an off-by-one bound, a missing permission check, a leaked
 * reference, a wrong errno, work skipped at a continuation...). The mutation check
 * (conformance/mutation.test.ts) runs the conformance suite on each and requires that some
 * scenario fails or errors; the fuzzer (issue 8) uses them as planted bugs.
 *
 * A mutant is applied from the outside of a freshly built ReferenceVmm: it overrides a method
 * of one subsystem object (event channels, grant tables, PV MMU, scheduler, a domain's port
 * table) or wraps a handler entry (`ReferenceVmm.patchHandler`). The correct VMM carries no
 * trace of them. A mutant that no longer fits the VMM (a method renamed by a refactor) throws
 * a MutantError naming the method when it is applied, never silently becomes a no-op.
 */
import type { GnttabCopy, MulticallEntry } from '../generated/xen/types.js';
import { GuestArrayRef, GuestFault, type GuestRef, type HypercallResult } from '../generated/xen/runtime.js';
import { PAGE_SIZE } from '../reference-vmm/addr.js';
import type { CallContext } from '../reference-vmm/context.js';
import { specNumber } from '../reference-vmm/context.js';
import { PortState, type PortTable } from '../reference-vmm/evtchn/state.js';
import { grantTables } from '../reference-vmm/grant/handlers.js';
import type { GrantTable } from '../reference-vmm/grant/state.js';
import type { Domain } from '../reference-vmm/machine.js';
import { PageType } from '../reference-vmm/memory/frames.js';
import { pvMmu } from '../reference-vmm/mm/handlers.js';
import { PTE, type Pte, pteFlags, pteMfn, type PgOwner } from '../reference-vmm/mm/pagetables.js';
import { schedulerOf } from '../reference-vmm/sched/ops.js';
import { ReferenceVmm, type HandlerMethod, type VmmOptions } from '../reference-vmm/vmm.js';
import type { VmmFactory } from './targets/reference.js';

/** The reference VMM's subsystems, as mutants name them. */
export type Subsystem = 'evtchn' | 'grant' | 'mm' | 'memory' | 'multicall' | 'sched' | 'version';

/** One planted bug. */
export interface Mutant {
  /** Stable id, `<subsystem>-<what>` (kebab case). */
  readonly id: string;
  /** The bug, in one line. */
  readonly description: string;
  readonly subsystem: Subsystem;
  /** The operation ids whose behaviour the bug changes (for the fuzzer: where to aim). */
  readonly ops: readonly string[];
  /** VMM options the mutant needs (both the mutant and its unmutated control run with them). */
  readonly options?: VmmOptions;
  /** Plants the bug in a freshly built VMM. */
  apply(vmm: ReferenceVmm): void;
  /** Builds the broken VMM: a ReferenceVmm with `options` merged in, then `apply`. */
  readonly factory: VmmFactory;
  /** Builds the same VMM without the bug (the control a catch is checked against). */
  readonly control: VmmFactory;
}

/** A mutant that cannot be planted (the method it overrides is gone). */
export class MutantError extends Error {
  override name = 'MutantError';
}

type Fn = (...args: never[]) => unknown;

/**
 * Replaces method `name` of `obj` (public, or private to TypeScript only) with
 * `wrap(previous)`, `previous` bound to `obj`.
 */
function patch<F extends Fn>(obj: object, name: string, wrap: (previous: F) => F): void {
  const o = obj as Record<string, unknown>;
  const previous = o[name];
  if (typeof previous !== 'function') throw new MutantError(`${obj.constructor.name}.${name} is not a method: the mutant no longer fits the reference VMM`);
  o[name] = wrap((previous as F).bind(obj) as F);
}

/** A method of `obj` (private to TypeScript only), bound, or a MutantError. */
function method<F extends Fn>(obj: object, name: string): F {
  const f = (obj as Record<string, unknown>)[name];
  if (typeof f !== 'function') throw new MutantError(`${obj.constructor.name}.${name} is not a method: the mutant no longer fits the reference VMM`);
  return (f as F).bind(obj) as F;
}

/** Runs `fn` on every domain's port table, now and for domains created later. */
function eachPortTable(vmm: ReferenceVmm, fn: (ports: PortTable, d: Domain) => void): void {
  for (const d of vmm.machine.domains.values()) fn(d.ports, d);
  vmm.machine.domainCreated.push((d) => fn(d.ports, d));
}

/** Wraps a handler entry whose arguments after the context are `A`. */
function wrapHandler<A extends unknown[]>(vmm: ReferenceVmm, op: string, wrap: (previous: (c: CallContext, ...a: A) => HypercallResult) => (c: CallContext, ...a: A) => HypercallResult): void {
  vmm.patchHandler(op, (prev) => wrap(prev as unknown as (c: CallContext, ...a: A) => HypercallResult) as unknown as HandlerMethod);
}

const errno = (vmm: ReferenceVmm, code: string): number => {
  const v = vmm.machine.errno[code];
  if (v === undefined) throw new MutantError(`spec has no errno ${code}`);
  return v;
};

function mutant(m: Omit<Mutant, 'factory' | 'control'>): Mutant {
  const control: VmmFactory = (config, options) => new ReferenceVmm(config, { ...options, ...m.options });
  return {
    ...m,
    control,
    factory: (config, options) => {
      const vmm = control(config, options);
      m.apply(vmm);
      return vmm;
    },
  };
}

const EV = 'event_channel_op$EVTCHNOP_';
const GT = 'grant_table_op$GNTTABOP_';
const ALLOCATING = [`${EV}alloc_unbound`, `${EV}bind_interdomain`, `${EV}bind_virq`, `${EV}bind_ipi`];

/** The planted bugs, in a stable order. */
export const mutants: readonly Mutant[] = [
  // ───────────── event channels (xen/common/event_channel.c, event_2l.c) ─────────────
  mutant({
    id: 'evtchn-port-bound-off-by-one',
    description: 'the port limit is off by one (get_free_port and evtchn_allocate_port test port > max_evtchn_port + 1): one port beyond the domain’s limit is handed out',
    subsystem: 'evtchn',
    ops: ALLOCATING,
    apply: (vmm) =>
      eachPortTable(vmm, (ports) => {
        if (typeof ports.maxPort !== 'number') throw new MutantError('PortTable.maxPort is gone: the mutant no longer fits the reference VMM');
        Object.defineProperty(ports, 'maxPort', { value: ports.maxPort + 1 });
      }),
  }),
  mutant({
    id: 'evtchn-alloc-reuses-unbound-port',
    description: 'port allocation treats an unbound port as free: a second alloc_unbound (or any bind) returns a port already offered',
    subsystem: 'evtchn',
    ops: ALLOCATING,
    apply: (vmm) =>
      eachPortTable(vmm, (ports) =>
        patch<(port: number) => 'ok' | 'nospace' | 'busy'>(ports, 'allocate', (prev) => (port) => (ports.isValid(port) && ports.state[port] === PortState.Unbound ? 'ok' : prev(port))),
      ),
  }),
  mutant({
    id: 'evtchn-bind-virq-twice',
    description: 'EVTCHNOP_bind_virq does not refuse a VIRQ already bound on that vCPU (-EEXIST): a second port takes it over',
    subsystem: 'evtchn',
    ops: [`${EV}bind_virq`],
    apply: (vmm) =>
      patch<(d: Domain, a: { virq: number; vcpu: number; port: number }) => number>(vmm.evtchn, 'bindVirq', (prev) => (d, a) => {
        const v = d.vcpus[a.vcpu | 0];
        const virq = a.virq | 0;
        if (v && virq >= 0 && virq < v.virqToPort.length) v.virqToPort[virq] = 0;
        return prev(d, a);
      }),
  }),
  mutant({
    id: 'evtchn-bind-ipi-einval-for-enoent',
    description: 'EVTCHNOP_bind_ipi to a vCPU the domain does not have returns -EINVAL instead of -ENOENT',
    subsystem: 'evtchn',
    ops: [`${EV}bind_ipi`],
    apply: (vmm) =>
      patch<(d: Domain, a: { vcpu: number; port: number }) => number>(vmm.evtchn, 'bindIpi', (prev) => (d, a) => (d.vcpus[a.vcpu] === undefined ? errno(vmm, 'EINVAL') : prev(d, a))),
  }),
  mutant({
    id: 'evtchn-send-no-pending',
    description: 'EVTCHNOP_send on an interdomain port returns 0 without setting the pending bit of the remote port',
    subsystem: 'evtchn',
    ops: [`${EV}send`],
    apply: (vmm) =>
      patch<(d: Domain, a: { port: number }) => number>(vmm.evtchn, 'send', (prev) => (d, a) => (d.ports.isValid(a.port) && d.ports.state[a.port] === PortState.Interdomain ? 0 : prev(d, a))),
  }),
  mutant({
    id: 'evtchn-unmask-no-redeliver',
    description: 'EVTCHNOP_unmask clears the mask bit but does not deliver an event that became pending while masked (no selector bit, no upcall)',
    subsystem: 'evtchn',
    ops: [`${EV}unmask`],
    apply: (vmm) =>
      patch<(d: Domain, a: { port: number }) => number>(vmm.evtchn, 'unmask', () => (d, a) => {
        if (!d.ports.isValid(a.port)) return errno(vmm, 'EINVAL');
        if ((d.ports.state[a.port] as PortState) > PortState.Reserved) method<(offset: number, bit: number) => boolean>(d.sharedInfo, 'testAndClear')(d.sharedInfo.layout.mask, a.port);
        return 0;
      }),
  }),
  mutant({
    id: 'evtchn-close-keeps-remote',
    description: 'EVTCHNOP_close of an interdomain port frees the local port but leaves the peer’s port bound to it (not back to unbound)',
    subsystem: 'evtchn',
    ops: [`${EV}close`, `${EV}reset`, `${EV}status`, `${EV}send`],
    apply: (vmm) =>
      patch<(d: Domain, a: { port: number }) => number>(vmm.evtchn, 'close', (prev) => (d, a) => {
        const p = d.ports;
        const port = a.port | 0;
        if (!p.isValid(port) || p.state[port] !== PortState.Interdomain) return prev(d, a);
        const peer = vmm.machine.domain(p.remoteDom[port] as number);
        const rport = p.remotePort[port] as number;
        const saved = peer ? { state: peer.ports.state[rport] as number, dom: peer.ports.remoteDom[rport] as number, port: peer.ports.remotePort[rport] as number } : undefined;
        const rc = prev(d, a);
        if (rc === 0 && peer && saved) {
          peer.ports.state[rport] = saved.state;
          peer.ports.remoteDom[rport] = saved.dom;
          peer.ports.remotePort[rport] = saved.port;
        }
        return rc;
      }),
  }),
  mutant({
    id: 'evtchn-domid-self-kept-literally',
    description: 'EVTCHNOP_alloc_unbound stores remote_dom = DOMID_SELF as is instead of the caller’s id: a loopback bind_interdomain is refused and status reports 0x7ff0',
    subsystem: 'evtchn',
    ops: [`${EV}alloc_unbound`, `${EV}bind_interdomain`, `${EV}status`],
    apply: (vmm) =>
      patch<(d: Domain, a: { dom: number; remote_dom: number; port: number }) => number>(vmm.evtchn, 'allocUnbound', (prev) => (d, a) => {
        const rc = prev(d, a);
        if (rc === 0 && a.remote_dom === vmm.machine.domidSelf) {
          const target = vmm.machine.domainByAnyId(d, a.dom);
          if (target) target.ports.remoteDom[a.port] = a.remote_dom;
        }
        return rc;
      }),
  }),
  mutant({
    id: 'evtchn-alloc-unbound-no-xsm-check',
    description: 'EVTCHNOP_alloc_unbound skips the XSM_TARGET check: an unprivileged domain creates ports in another domain',
    subsystem: 'evtchn',
    ops: [`${EV}alloc_unbound`],
    apply: (vmm) =>
      patch<(d: Domain, a: { dom: number; remote_dom: number; port: number }) => number>(vmm.evtchn, 'allocUnbound', (prev) => (d, a) => {
        const m = vmm.machine;
        m.mayTarget = () => true;
        try {
          return prev(d, a);
        } finally {
          delete (m as { mayTarget?: unknown }).mayTarget;
        }
      }),
  }),

  // ───────────── grant tables (xen/common/grant_table.c) ─────────────
  mutant({
    id: 'grant-map-ignores-readonly',
    description: 'map_grant_ref does not refuse a writable mapping of a GTF_readonly grant (the _set_status read-only check is missing)',
    subsystem: 'grant',
    ops: [`${GT}map_grant_ref`],
    apply: (vmm) => {
      const g = grantTables(vmm);
      const writing = g.K('GTF_writing');
      const statusWord = method<(t: GrantTable, ref: number) => number>(g, 'statusWord');
      const u16 = method<(at: number) => number>(g, 'u16');
      const setU16 = method<(at: number, v: number) => void>(g, 'setU16');
      patch<(t: GrantTable, ref: number, pin: number, readonly: boolean, mapflag: boolean, ldomid: number) => number>(g, 'setStatus', (prev) => (t, ref, pin, readonly, mapflag, ldomid) => {
        if (readonly) return prev(t, ref, pin, readonly, mapflag, ldomid);
        // Every check but the read-only one, then the bits of a writable pin.
        const rc = prev(t, ref, pin, true, mapflag, ldomid);
        if (rc === 0) setU16(statusWord(t, ref), u16(statusWord(t, ref)) | writing);
        return rc;
      });
    },
  }),
  mutant({
    id: 'grant-map-ignores-grantee',
    description: 'map_grant_ref does not check that the grant names the mapping domain: any domain maps any permitted grant',
    subsystem: 'grant',
    ops: [`${GT}map_grant_ref`, `${GT}copy`],
    apply: (vmm) => {
      const g = grantTables(vmm);
      const domidOf = method<(t: GrantTable, ref: number) => number>(g, 'domidOf');
      patch<(t: GrantTable, ref: number, pin: number, readonly: boolean, mapflag: boolean, ldomid: number) => number>(g, 'setStatus', (prev) => (t, ref, pin, readonly, mapflag) =>
        prev(t, ref, pin, readonly, mapflag, domidOf(t, ref)),
      );
    },
  }),
  mutant({
    id: 'grant-unmap-leaks-page-ref',
    description: 'unmap_grant_ref completes without dropping the page reference the mapping took (the page can never be freed or transferred)',
    subsystem: 'grant',
    ops: [`${GT}unmap_grant_ref`, `${GT}unmap_and_replace`],
    apply: (vmm) => {
      const g = grantTables(vmm);
      let leak = false;
      patch<(mfn: number) => void>(g, 'putPage', (prev) => (mfn) => {
        if (leak) leak = false;
        else prev(mfn);
      });
      patch<(ld: Domain, vcpu: number, op: { host_addr: bigint; dev_bus_addr: bigint; new_addr: bigint; handle: number }) => number>(g, 'unmap', (prev) => (ld, vcpu, op) => {
        leak = true;
        try {
          return prev(ld, vcpu, op);
        } finally {
          leak = false;
        }
      });
    },
  }),
  mutant({
    id: 'grant-copy-length-unchecked',
    description: 'GNTTABOP_copy does not check offset + len against the page: an over-long copy is cut at the page end and reported GNTST_okay instead of GNTST_bad_copy_arg',
    subsystem: 'grant',
    ops: [`${GT}copy`],
    apply: (vmm) => {
      const g = grantTables(vmm);
      patch<(ld: Domain, op: GnttabCopy) => number>(g, 'copy', (prev) => (ld, op) => {
        const room = PAGE_SIZE - Math.max(op.source.offset, op.dest.offset);
        return prev(ld, op.len > room && room >= 0 ? { ...op, len: room } : op);
      });
    },
  }),
  mutant({
    id: 'grant-domid-self-unresolved',
    description: 'setup_table, query_size and get_status_frames look DOMID_SELF up as a domain id: GNTST_bad_domain for the caller’s own table',
    subsystem: 'grant',
    ops: [`${GT}setup_table`, `${GT}query_size`, `${GT}get_status_frames`],
    apply: (vmm) => {
      const g = grantTables(vmm);
      const self = vmm.machine.domidSelf;
      patch<(caller: Domain, op: { dom: number; status: number }) => Domain | undefined>(g, 'targetOf', (prev) => (caller, op) => {
        if (op.dom !== self) return prev(caller, op);
        op.status = g.st['GNTST_bad_domain'] as number;
        return undefined;
      });
    },
  }),

  // ───────────── PV MMU (xen/arch/x86/mm.c) ─────────────
  mutant({
    id: 'mm-continuation-skips-entry',
    description: 'a preempted mmu_update continues one entry too far (list + i + 1): the first entry after each preemption is dropped and pdone comes up short (preemption forced at every check)',
    subsystem: 'mm',
    ops: ['mmu_update'],
    options: { preemptEvery: 1 },
    apply: (vmm) => {
      const mmu = pvMmu(vmm);
      if (!mmu) throw new MutantError('this VMM has no PV MMU');
      const nr = vmm.machine.spec.hypercalls.find((h) => h.name === 'mmu_update')?.number;
      patch<(ctx: CallContext, op: number, list: GuestArrayRef<unknown>, i: number, count: number, pdone: GuestRef<number>, foreigndom: number) => number>(
        mmu,
        'continueBatch',
        (prev) => (ctx, op, list, i, count, pdone, foreigndom) => prev(ctx, op, list, op === nr && i < count ? i + 1 : i, count, pdone, foreigndom),
      );
    },
  }),
  mutant({
    id: 'mm-unpin-keeps-type-ref',
    description: 'MMUEXT_UNPIN_TABLE clears the pin but does not drop the type reference it held: the page stays a page table',
    subsystem: 'mm',
    ops: ['mmuext_op$MMUEXT_UNPIN_TABLE', 'mmu_update$MMU_NORMAL_PT_UPDATE', 'update_va_mapping'],
    apply: (vmm) => {
      const mmu = pvMmu(vmm);
      if (!mmu) throw new MutantError('this VMM has no PV MMU');
      const unpin = specNumber(vmm, 'MMUEXT_UNPIN_TABLE');
      let skip = false;
      patch<(f: number, ptpg?: number) => void>(mmu.pt, 'putPageType', (prev) => (f, ptpg) => {
        if (skip) skip = false;
        else prev(f, ptpg);
      });
      patch<(ctx: CallContext, d: Domain, pgOwner: PgOwner, op: { cmd: number }) => number>(mmu, 'mmuextCommand', (prev) => (ctx, d, pgOwner, op) => {
        skip = op.cmd === unpin;
        try {
          return prev(ctx, d, pgOwner, op);
        } finally {
          skip = false;
        }
      });
    },
  }),
  mutant({
    id: 'mm-pin-twice-accepted',
    description: 'pinning a table that is already pinned returns 0 (taking nothing) instead of -EINVAL',
    subsystem: 'mm',
    ops: ['mmuext_op$MMUEXT_PIN_L1_TABLE', 'mmuext_op$MMUEXT_PIN_L2_TABLE', 'mmuext_op$MMUEXT_PIN_L3_TABLE', 'mmuext_op$MMUEXT_PIN_L4_TABLE'],
    apply: (vmm) => {
      const mmu = pvMmu(vmm);
      if (!mmu) throw new MutantError('this VMM has no PV MMU');
      const pins = ['MMUEXT_PIN_L1_TABLE', 'MMUEXT_PIN_L2_TABLE', 'MMUEXT_PIN_L3_TABLE', 'MMUEXT_PIN_L4_TABLE'].map((n) => specNumber(vmm, n));
      const fr = vmm.machine.frames;
      patch<(ctx: CallContext, d: Domain, pgOwner: PgOwner, op: { cmd: number; arg1: { mfn?: bigint } }) => number>(mmu, 'mmuextCommand', (prev) => (ctx, d, pgOwner, op) => {
        const f = op.arg1.mfn !== undefined && op.arg1.mfn < BigInt(fr.count) ? Number(op.arg1.mfn) : -1;
        if (pins.includes(op.cmd) && f >= 0 && fr.pinned[f] === 1 && fr.owner[f] === (typeof pgOwner === 'string' ? -2 : pgOwner.id)) return 0;
        return prev(ctx, d, pgOwner, op);
      });
    },
  }),
  mutant({
    id: 'mm-writable-pagetable-mapping',
    description: 'get_page_from_l1e takes a writable mapping of a page-table page as a read-only one: a guest can map its own page tables writable',
    subsystem: 'mm',
    ops: ['mmu_update$MMU_NORMAL_PT_UPDATE', 'update_va_mapping', 'mmuext_op$MMUEXT_PIN_L1_TABLE'],
    apply: (vmm) => {
      const mmu = pvMmu(vmm);
      if (!mmu) throw new MutantError('this VMM has no PV MMU');
      const fr = vmm.machine.frames;
      patch<(e: Pte, l1Owner: Domain, pgOwner: PgOwner, caller: Domain) => number>(mmu.pt, 'getPageFromL1e', (prev) => (e, l1Owner, pgOwner, caller) => {
        const f = pteMfn(e);
        const t = fr.valid(f) ? (fr.type[f] as number) : PageType.None;
        const pageTable = t >= PageType.L1 && t <= PageType.L4 && (fr.typeCount[f] as number) > 0;
        if ((pteFlags(e) & (PTE.P | PTE.RW)) === (PTE.P | PTE.RW) && pageTable) return prev({ lo: (e.lo & ~PTE.RW) >>> 0, hi: e.hi }, l1Owner, pgOwner, caller);
        return prev(e, l1Owner, pgOwner, caller);
      });
    },
  }),

  // ───────────── memory_op (xen/common/memory.c) ─────────────
  mutant({
    id: 'memory-decrease-counts-failed-extent',
    description: 'XENMEM_decrease_reservation that stops at an extent it cannot remove counts that extent as done (returns nr_done + 1)',
    subsystem: 'memory',
    ops: ['memory_op$XENMEM_decrease_reservation'],
    apply: (vmm) =>
      wrapHandler<[GuestRef<{ nr_extents: number | bigint }>]>(vmm, 'memory_op$XENMEM_decrease_reservation', (prev) => (c, arg) => {
        const r = prev(c, arg);
        if (vmm.continuing || r < 0) return r;
        let nr: bigint;
        try {
          nr = BigInt(arg.read().nr_extents);
        } catch (e) {
          if (e instanceof GuestFault) return r;
          throw e;
        }
        if (BigInt(r) >= nr) return r;
        return typeof r === 'bigint' ? r + 1n : r + 1;
      }),
  }),

  // ───────────── multicall (xen/common/multicall.c) ─────────────
  mutant({
    id: 'multicall-skips-unreadable-entry',
    description: 'a multicall entry that cannot be read is skipped and the batch goes on (returning 0) instead of ending with -EFAULT',
    subsystem: 'multicall',
    ops: ['multicall'],
    apply: (vmm) => {
      const efault = errno(vmm, 'EFAULT');
      const run = (prev: (c: CallContext, list: GuestArrayRef<MulticallEntry>, nr: number) => HypercallResult, c: CallContext, list: GuestArrayRef<MulticallEntry>, nr: number): HypercallResult => {
        let r: HypercallResult;
        try {
          r = prev(c, list, nr);
        } catch (e) {
          // An unreadable entry ends the batch with a GuestFault (-EFAULT from the dispatcher).
          if (!(e instanceof GuestFault)) throw e;
          r = efault;
        }
        if (r !== efault || vmm.continuing) return r;
        let bad = -1;
        for (let i = 0; i < nr && bad < 0; i++) {
          try {
            list.read(i);
          } catch (e) {
            if (!(e instanceof GuestFault)) throw e;
            bad = i;
          }
        }
        if (bad < 0) return r;
        if (bad + 1 >= nr) return 0;
        return run(prev, c, new GuestArrayRef(list.mem, list.addr + BigInt((bad + 1) * list.codec.size), nr - bad - 1, list.codec), nr - bad - 1);
      };
      wrapHandler<[GuestArrayRef<MulticallEntry>, number]>(vmm, 'multicall', (prev) => (c, list, nr) => run(prev, c, list, nr));
    },
  }),

  mutant({
    id: 'multicall-stops-at-failed-entry',
    description: 'multicall ends the batch at the first entry whose call fails (returning 0): the entries after it never run and their results are not written',
    subsystem: 'multicall',
    ops: ['multicall'],
    apply: (vmm) =>
      wrapHandler<[GuestArrayRef<MulticallEntry>, number]>(vmm, 'multicall', (prev) => (c, list, nr) => {
        // One entry at a time (the same checks and effects), stopping after a failed one.
        for (let i = 0; i < nr; i++) {
          const r = prev(c, new GuestArrayRef(list.mem, list.addr + BigInt(i * list.codec.size), 1, list.codec), 1);
          if (r !== 0 || vmm.continuing) return r;
          let result: bigint;
          try {
            result = BigInt.asIntN(c.domain.arch.wordSize * 8, list.read(i).result);
          } catch (e) {
            if (e instanceof GuestFault) return r;
            throw e;
          }
          if (result < 0n && result >= -4095n) return 0;
        }
        return 0;
      }),
  }),

  // ───────────── scheduler (xen/common/sched/core.c) ─────────────
  mutant({
    id: 'sched-poll-ignores-timeout',
    description: 'SCHEDOP_poll never arms its timeout: a vCPU polling ports that stay quiet blocks past the deadline',
    subsystem: 'sched',
    ops: ['sched_op$SCHEDOP_poll'],
    apply: (vmm) => {
      const s = schedulerOf(vmm);
      patch<(d: Domain, v: number, nrPorts: number, arrayOk: boolean, ports: (i: number) => number | undefined, timeout: bigint, maxPorts: number) => number>(
        s,
        'poll',
        (prev) => (d, v, nrPorts, arrayOk, ports, _timeout, maxPorts) => prev(d, v, nrPorts, arrayOk, ports, 0n, maxPorts),
      );
    },
  }),

  // ───────────── xen_version (xen/common/kernel.c) ─────────────
  mutant({
    id: 'version-extraversion-not-padded',
    description: 'XENVER_extraversion copies the string and its NUL but not the zero padding: the rest of the guest’s 16-byte buffer keeps its old bytes',
    subsystem: 'version',
    ops: ['xen_version$XENVER_extraversion'],
    apply: (vmm) =>
      wrapHandler<[GuestRef<number[]>]>(vmm, 'xen_version$XENVER_extraversion', () => (_c, arg) => {
        const bytes = [...new TextEncoder().encode(vmm.version.extraversion).slice(0, specNumber(vmm, 'XEN_EXTRAVERSION_LEN') - 1), 0];
        const o = arg.mem.locate(arg.addr, bytes.length);
        if (o < 0) throw new GuestFault(arg.addr, bytes.length);
        bytes.forEach((b, i) => arg.mem.view.setUint8(o + i, b));
        return 0;
      }),
  }),
];

/** A mutant by id, or an error listing the ids. */
export function mutantById(id: string): Mutant {
  const m = mutants.find((x) => x.id === id);
  if (!m) throw new MutantError(`no mutant '${id}' (have: ${mutants.map((x) => x.id).join(', ')})`);
  return m;
}
