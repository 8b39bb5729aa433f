/**
 * grant_table_op handlers (xen/common/grant_table.c:do_grant_table_op, compat_grant_table_op
 * and xen/arch/x86/hvm/hypercall.c:hvm_grant_table_op at RELEASE-4.17.7): the dispatcher's
 * checks on count and on the reserved bits of cmd, the HVM command filter, per-element copy
 * in and out for batches (a fault ends the batch with -EFAULT after the earlier elements took
 * effect; per-element failures go to the element's status), and the single-struct commands.
 *
 * The grant state is registered with the machine as subsystem `grant` (snapshot, restore,
 * invariants); hosts reach it with `grantTables(vmm)`.
 */
import type { XenHandler } from '../../generated/xen/handler.js';
import { GuestFault, type GuestArrayRef } from '../../generated/xen/runtime.js';
import { findArch, LayoutEngine, type Arch } from '../../spec/index.js';
import { gaddr, PAGE_SIZE } from '../addr.js';
import type { CallContext } from '../context.js';
import type { Domain } from '../machine.js';
import { ramFrames } from '../memory/handlers.js';
import { pvMmu } from '../mm/handlers.js';
import type { ReferenceVmm } from '../vmm.js';
import { accessBits, GrantTables } from './ops.js';
import type { GrantTable } from './state.js';

const registry = new WeakMap<ReferenceVmm, GrantTables>();

/** The grant tables of a VMM (host API: limits, table frames, state). */
export function grantTables(vmm: ReferenceVmm): GrantTables {
  const g = registry.get(vmm);
  if (!g) throw new Error('this VMM has no grant subsystem');
  return g;
}

/** Commands an x86 HVM guest may issue (hvm_grant_table_op); the others are -ENOSYS. */
const HVM_ALLOWED = ['GNTTABOP_query_size', 'GNTTABOP_setup_table', 'GNTTABOP_set_version', 'GNTTABOP_get_version', 'GNTTABOP_copy', 'GNTTABOP_map_grant_ref', 'GNTTABOP_unmap_grant_ref', 'GNTTABOP_swap_grant_ref'];
/** Commands compat_grant_table_op translates (it checks their array before looking at count). */
const COMPAT_XLAT = ['GNTTABOP_setup_table', 'GNTTABOP_transfer', 'GNTTABOP_copy', 'GNTTABOP_get_status_frames'];

export function grantHandlers(vmm: ReferenceVmm): XenHandler<CallContext> {
  const m = vmm.machine;
  const g = new GrantTables(m);
  g.mmu = () => pvMmu(vmm);
  registry.set(vmm, g);
  const pinOf = (flags: number): number => {
    const ro = (flags & g.K('GNTMAP_readonly')) !== 0;
    let p = 0;
    if (flags & g.K('GNTMAP_device_map')) p += ro ? 1 << 24 : 1 << 16;
    if (flags & g.K('GNTMAP_host_map')) p += ro ? 1 << 8 : 1;
    return p;
  };
  // The PV MMU counts every frame reference; the ones grant mappings hold are declared to it.
  let attached = false;
  const attach = () => {
    const mm = attached ? undefined : pvMmu(vmm);
    if (!mm) return;
    mm.holders.push(() => g.heldFrames());
    attached = true;
  };
  m.register('grant', {
    snapshot: () => g.state.snapshot(),
    restore: (s) => g.state.restore(s as Map<number, GrantTable>),
    invariants: () => {
      attach();
      return g.state.invariants((t, ref) => g.readBits(t, ref), accessBits(g), (t) => g.nrEntries(t), pinOf);
    },
  });
  const previous = m.foreignMapped;
  m.foreignMapped = (domid, gn) => g.state.isGrantGfn(domid, gn) || previous(domid, gn);

  // Looked up once per name: handlers name their command on every call.
  const ops = new Map<string, number>();
  const op = (name: string) => {
    const hit = ops.get(name);
    if (hit !== undefined) return hit;
    const c = m.spec.constants.flatMap((x) => x.members).find((x) => x.name === name);
    if (!c || typeof c.value !== 'number') throw new Error(`spec has no constant ${name}`);
    ops.set(name, c.value);
    return c.value;
  };
  const hc = m.spec.hypercalls.find((h) => h.name === 'grant_table_op');
  const cmdMask = hc?.subops?.mask ?? 0;
  const hvmAllowed = new Set(HVM_ALLOWED.map(op));
  const compatXlat = new Set(COMPAT_XLAT.map(op));
  const cacheFlush = op('GNTTABOP_cache_flush');
  const E = (code: string) => g.err(code);

  /** The raw cmd register (the dispatcher hands handlers only its low 12 bits). */
  const rawCmd = (c: CallContext): number => Number(BigInt.asUintN(32, vmm.callRegs[c.domain.abi.convention.args[0] as string] ?? 0n));

  /** do_grant_table_op's (and the HVM filter's) checks before a command runs; undefined: go on. */
  const gate = <T>(c: CallContext, cmd: number, arr: GuestArrayRef<T>): number | undefined => {
    attach();
    const raw = rawCmd(c);
    const a = g.abi(c.domain);
    if (a.hvmFilter && (raw !== cmd || !hvmAllowed.has(cmd))) return E('ENOSYS');
    if (a.compat && compatXlat.has(cmd) && !g.handleOkay(c.domain, arr.addr, arr.length, arr.codec.size)) return E('EFAULT');
    if ((arr.length | 0) < 0) return E('EINVAL');
    if (cmd !== cacheFlush && (raw & ~cmdMask) !== 0) return E('EINVAL');
    return undefined;
  };

  const statusOffset = new Map<string, Map<string, number>>();
  const statusBytes = new Uint8Array(2);
  /** Writes only an element's status field (Xen's __copy_field_to_guest(..., status)). */
  const writeStatus = (d: Domain, struct: string, addr: bigint, status: number): void => {
    let byArch = statusOffset.get(struct);
    if (!byArch) statusOffset.set(struct, (byArch = new Map()));
    let off = byArch.get(d.arch.name);
    if (off === undefined) {
      off = (g.layout(d).named(struct).fields['status'] as { offset: number }).offset;
      byArch.set(d.arch.name, off);
    }
    const bytes = statusBytes;
    bytes[0] = status & 0xff;
    bytes[1] = (status >> 8) & 0xff;
    const at = addr + BigInt(off);
    if (at > BigInt(Number.MAX_SAFE_INTEGER) || !d.memory.write(gaddr(Number(at)), bytes)) throw new GuestFault(at, 2);
  };

  /** A batch: array check, then each element in turn; `run` handles one element at index i. */
  const batch = <T>(c: CallContext, cmd: number, arr: GuestArrayRef<T>, run: (i: number) => void): number => {
    const early = gate(c, cmd, arr);
    if (early !== undefined) return early;
    if (!g.handleOkay(c.domain, arr.addr, arr.length, arr.codec.size)) return E('EFAULT');
    for (let i = 0; i < arr.length; i++) run(i);
    return 0;
  };

  /** A single-struct command that requires count 1 (32-bit callers: count 0 does nothing). */
  const single = <T>(c: CallContext, cmd: number, arr: GuestArrayRef<T>): number | undefined => {
    const early = gate(c, cmd, arr);
    if (early !== undefined) return early;
    if (g.abi(c.domain).compat && arr.length === 0) return 0;
    if (arr.length !== 1) return E('EINVAL');
    return undefined;
  };

  const size = (c: CallContext, type: string): number => g.layout(c.domain).named(type).size;
  /**
   * compat: the native struct and its 64-bit frame numbers must fit Xen's translation area
   * (COMPAT_ARG_XLAT_SIZE, two pages: 1021 frames for setup_table, 1022 for get_status_frames).
   */
  const native = new LayoutEngine(m.spec, findArch(m.spec, 'x86_64') as Arch);
  const compatLimit = (c: CallContext, struct: string): number =>
    g.abi(c.domain).compat ? Math.floor((2 * PAGE_SIZE - native.named(struct).size) / native.named('xen_pfn_t').size) : 0xffffffff;

  return {
    grant_table_op$GNTTABOP_map_grant_ref: (c, arr) =>
      batch(c, op('GNTTABOP_map_grant_ref'), arr, (i) => {
        const el = arr.read(i);
        g.map(c.domain, c.vcpu, el);
        arr.write(i, el);
      }),

    grant_table_op$GNTTABOP_unmap_grant_ref: (c, arr) =>
      batch(c, op('GNTTABOP_unmap_grant_ref'), arr, (i) => {
        const el = arr.read(i);
        const status = g.unmap(c.domain, c.vcpu, { ...el, new_addr: 0n });
        writeStatus(c.domain, 'struct gnttab_unmap_grant_ref', arr.at(i).addr, status);
      }),

    grant_table_op$GNTTABOP_unmap_and_replace: (c, arr) =>
      batch(c, op('GNTTABOP_unmap_and_replace'), arr, (i) => {
        const el = arr.read(i);
        const status = g.unmap(c.domain, c.vcpu, { host_addr: el.host_addr, dev_bus_addr: 0n, new_addr: el.new_addr, handle: el.handle });
        writeStatus(c.domain, 'struct gnttab_unmap_and_replace', arr.at(i).addr, status);
      }),

    grant_table_op$GNTTABOP_setup_table: (c, arr) => {
      const early = single(c, op('GNTTABOP_setup_table'), arr);
      if (early !== undefined) return early;
      const el = arr.read(0);
      const pfn = size(c, 'xen_pfn_t');
      if (!g.handleOkay(c.domain, el.frame_list, el.nr_frames, pfn)) return E('EFAULT');
      // compat: 32-bit frame_list, checked against the translation area's size.
      g.setupTable(c.domain, el, pfn, compatLimit(c, 'struct gnttab_setup_table'));
      if (g.abi(c.domain).compat) arr.write(0, el);
      else writeStatus(c.domain, 'struct gnttab_setup_table', arr.addr, el.status);
      return 0;
    },

    grant_table_op$GNTTABOP_dump_table: (c, arr) => gate(c, op('GNTTABOP_dump_table'), arr) ?? E('ENOSYS'),

    grant_table_op$GNTTABOP_transfer: (c, arr) => {
      const cmd = op('GNTTABOP_transfer');
      const early = gate(c, cmd, arr);
      if (early !== undefined) return early;
      if (!g.handleOkay(c.domain, arr.addr, arr.length, arr.codec.size)) return E('EFAULT');
      // opt_grant_transfer is compiled out without CONFIG_PV (Arm).
      if (!g.abi(c.domain).pv) return E('EOPNOTSUPP');
      for (let i = 0; i < arr.length; i++) {
        const el = arr.read(i);
        writeStatus(c.domain, 'struct gnttab_transfer', arr.at(i).addr, g.transfer(c.domain, el, ramFrames(vmm)));
      }
      return 0;
    },

    grant_table_op$GNTTABOP_copy: (c, arr) =>
      batch(c, op('GNTTABOP_copy'), arr, (i) => {
        const el = arr.read(i);
        writeStatus(c.domain, 'struct gnttab_copy', arr.at(i).addr, g.copy(c.domain, el));
      }),

    grant_table_op$GNTTABOP_query_size: (c, arr) => {
      const early = single(c, op('GNTTABOP_query_size'), arr);
      if (early !== undefined) return early;
      const el = arr.read(0);
      g.querySize(c.domain, el);
      arr.write(0, el);
      return 0;
    },

    grant_table_op$GNTTABOP_set_version: (c, arr) => {
      const early = gate(c, op('GNTTABOP_set_version'), arr);
      if (early !== undefined) return early;
      const el = arr.read(0);
      const rc = g.setVersion(c.domain, el);
      arr.write(0, el);
      return rc;
    },

    grant_table_op$GNTTABOP_get_status_frames: (c, arr) => {
      const cmd = op('GNTTABOP_get_status_frames');
      const early = gate(c, cmd, arr);
      if (early !== undefined) return early;
      if (arr.length !== 1) return E('EINVAL');
      const el = arr.read(0);
      if (!g.handleOkay(c.domain, el.frame_list, el.nr_frames, 8)) return E('EFAULT');
      g.getStatusFrames(c.domain, el, compatLimit(c, 'struct gnttab_get_status_frames'));
      if (g.abi(c.domain).compat) arr.write(0, el);
      else writeStatus(c.domain, 'struct gnttab_get_status_frames', arr.addr, el.status);
      return 0;
    },

    grant_table_op$GNTTABOP_get_version: (c, arr) => {
      const early = gate(c, op('GNTTABOP_get_version'), arr);
      if (early !== undefined) return early;
      const el = arr.read(0);
      const rc = g.getVersion(c.domain, el);
      if (rc === 0) arr.write(0, el);
      return rc;
    },

    grant_table_op$GNTTABOP_swap_grant_ref: (c, arr) =>
      batch(c, op('GNTTABOP_swap_grant_ref'), arr, (i) => {
        const el = arr.read(i);
        writeStatus(c.domain, 'struct gnttab_swap_grant_ref', arr.at(i).addr, g.swap(c.domain, el.ref_a, el.ref_b));
      }),

    grant_table_op$GNTTABOP_cache_flush: (c, arr) => {
      const early = gate(c, cacheFlush, arr);
      if (early !== undefined) return early;
      if (!g.handleOkay(c.domain, arr.addr, arr.length, arr.codec.size)) return E('EFAULT');
      // The resume position travels in cmd's upper bits, unshifted (opaque_in).
      let cur = rawCmd(c) & ~cmdMask;
      for (let i = 0; i < arr.length; i++) {
        const el = arr.read(i);
        const rc = g.cacheFlush(c.domain, el, cur);
        if (rc < 0) return rc;
        cur = 0;
      }
      return 0;
    },
  };
}
