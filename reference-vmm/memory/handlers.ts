/**
 * memory_op handlers (xen/common/memory.c:do_memory_op and the x86 arch_memory_op at
 * RELEASE-4.17.7). The sub-op handlers of the generated interface receive no cmd, so the start
 * extent a continuation carries in cmd's upper bits is read from the registers of the call
 * (`vmm.callRegs`). Long operations (reservations, exchange, gmfn_range, the batch) check for
 * preemption between units of work (`vmm.preemptCheck`) and continue as Xen does, with the
 * progress in cmd (`vmm.createContinuation`; exchange keeps it in nr_exchanged). Registers the memory subsystem's state (which frames are RAM, each
 * domain's tot_pages, max_pages and E820 map) for snapshots and invariants.
 *
 * Not implemented (-ENOSYS from the dispatcher): the toolstack and device-model commands
 * (PoD targets, paging, access, sharing, claims, vNUMA, reserved device memory,
 * acquire_resource), machphys_compat_mfn_list and the get_sharing counters.
 */
import type { XenHandler } from '../../generated/xen/handler.js';
import type { CallContext } from '../context.js';
import type { E820Entry } from '../machine.js';
import { grantTables } from '../grant/handlers.js';
import { pvMmu } from '../mm/handlers.js';
import type { ReferenceVmm } from '../vmm.js';
import { type Continuation, markBuiltRam, MEMOP_EXTENT_SHIFT, MemoryOps, RamFrames } from './ops.js';

interface MemorySnapshot {
  ram: Int32Array;
  foreign: Map<number, Map<number, number>>;
  domains: Map<number, { totPages: number; maxPages: number; e820: readonly E820Entry[] | undefined }>;
}

const ramRegistry = new WeakMap<ReferenceVmm, RamFrames>();

/** Which frames are RAM of which domain (for subsystems that move pages between domains: grant transfer). */
export function ramFrames(vmm: ReferenceVmm): RamFrames | undefined {
  return ramRegistry.get(vmm);
}

export function memoryHandlers(vmm: ReferenceVmm): XenHandler<CallContext> {
  const m = vmm.machine;
  const ram = new RamFrames(m.frames.count);
  ramRegistry.set(vmm, ram);
  for (const d of m.domains.values()) markBuiltRam(ram, d);
  m.domainCreated.push((d) => markBuiltRam(ram, d));
  const ops = new MemoryOps(m, ram, () => (m.subsystems.has('grant') ? grantTables(vmm) : undefined));
  m.register('memory', {
    snapshot: (): MemorySnapshot => ({
      ram: ram.owner.slice(),
      foreign: new Map([...ops.foreign].map(([id, gs]) => [id, new Map(gs)])),
      domains: new Map([...m.domains.values()].map((d) => [d.id, { totPages: d.totPages, maxPages: d.maxPages, e820: d.e820 }])),
    }),
    restore: (s) => {
      const snap = s as MemorySnapshot;
      ram.owner.set(snap.ram);
      ops.foreign = new Map([...snap.foreign].map(([id, gs]) => [id, new Map(gs)]));
      for (const [id, v] of snap.domains) {
        const d = m.domain(id);
        if (!d) continue;
        d.totPages = v.totPages;
        d.maxPages = v.maxPages;
        d.e820 = v.e820;
      }
    },
    invariants: () => ops.invariants(),
  });
  // gmfn_foreign mappings put another domain's frame in a p2m, as grant mappings do.
  const previous = m.foreignMapped;
  m.foreignMapped = (domid, g) => ops.foreign.get(domid)?.has(g) === true || previous(domid, g);
  m.gmfnForeign = (domid, g) => ops.foreign.get(domid)?.has(g) === true;
  // The PV MMU counts every frame reference: the ones foreign mappings hold are declared to it
  // (it is built after this module, so attach on first use).
  let attached = false;
  const attach = () => {
    if (attached) return;
    const mm = pvMmu(vmm);
    if (!mm) return;
    mm.holders.push(function* () {
      for (const gs of ops.foreign.values()) for (const f of gs.values()) yield { frame: f, refs: 1, typeRefs: 0 };
    });
    attached = true;
  };

  /** The start extent: cmd >> MEMOP_EXTENT_SHIFT, cmd being the first argument register at the ABI's width. */
  const start = (c: CallContext): bigint => {
    const reg = c.domain.abi.convention.args[0] as string;
    return BigInt.asUintN(c.domain.arch.wordSize * 8, vmm.callRegs[reg] ?? 0n) >> MEMOP_EXTENT_SHIFT;
  };

  /** Preemption through the VMM; a continuation re-issues memory_op(cmd, the same argument pointer). */
  const hc = m.spec.hypercalls.find((h) => h.name === 'memory_op');
  if (!hc) throw new Error('spec has no memory_op');
  const k = (c: CallContext, arg: { addr: bigint }): Continuation => {
    attach();
    return {
      preempt: () => vmm.preemptCheck(),
      restart: (cmd) => vmm.createContinuation(c, hc.number, [cmd, arg.addr]),
    };
  };

  return {
    memory_op$XENMEM_increase_reservation: (c, arg) => ops.reservation(c.domain, 'increase', start(c), arg, k(c, arg)),
    memory_op$XENMEM_decrease_reservation: (c, arg) => ops.reservation(c.domain, 'decrease', start(c), arg, k(c, arg)),
    memory_op$XENMEM_populate_physmap: (c, arg) => ops.reservation(c.domain, 'populate', start(c), arg, k(c, arg)),
    memory_op$XENMEM_exchange: (c, arg) => ops.exchange(c.domain, start(c), arg, k(c, arg)),
    memory_op$XENMEM_maximum_ram_page: (c) => ops.maximumRamPage(c.domain, start(c)),
    memory_op$XENMEM_current_reservation: (c, arg) => ops.domainQuery(c.domain, 'current', start(c), arg),
    memory_op$XENMEM_maximum_reservation: (c, arg) => ops.domainQuery(c.domain, 'maximum', start(c), arg),
    memory_op$XENMEM_maximum_gpfn: (c, arg) => ops.domainQuery(c.domain, 'gpfn', start(c), arg),
    memory_op$XENMEM_memory_map: (c, arg) => ops.memoryMap(c.domain, start(c), arg),
    memory_op$XENMEM_set_memory_map: (c, arg) => ops.setMemoryMap(c.domain, start(c), arg),
    memory_op$XENMEM_machine_memory_map: (c, arg) => ops.machineMemoryMap(c.domain, start(c), arg),
    memory_op$XENMEM_machphys_mapping: (c, arg) => ops.machphysMapping(c.domain, start(c), arg),
    memory_op$XENMEM_machphys_mfn_list: (c, arg) => ops.machphysMfnList(c.domain, start(c), arg),
    memory_op$XENMEM_add_to_physmap: (c, arg) => ops.addToPhysmap(c.domain, start(c), arg, k(c, arg)),
    memory_op$XENMEM_add_to_physmap_batch: (c, arg) => ops.addToPhysmapBatch(c.domain, start(c), arg, k(c, arg)),
    memory_op$XENMEM_remove_from_physmap: (c, arg) => ops.removeFromPhysmap(c.domain, start(c), arg),
  };
}
