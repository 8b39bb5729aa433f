/**
 * Planted bugs for the fuzzer: the mutants of the mutation check (conformance/mutants.ts)
 * plus bugs of the fuzzer's own, in the same shape, chosen to need a sequence of calls and a
 * look at guest memory to show (a wrong field in a struct written back, state one call
 * leaves for another), the kind a hand-written scenario rarely aims at. The fuzzer's table
 * test (fuzz/planted.test.ts) finds every one and shrinks it to a short reproducer.
 */
import { mutants as conformanceMutants, type Mutant } from '../conformance/mutants.js';
import { EventChannels } from '../reference-vmm/evtchn/ops.js';
import { grantTables } from '../reference-vmm/grant/handlers.js';
import type { HandlerMethod } from '../reference-vmm/vmm.js';
import { ReferenceVmm, type VmmOptions } from '../reference-vmm/vmm.js';
import type { VmmFactory } from '../conformance/targets/reference.js';

/** A planted bug whose VMM is built by `apply` over a fresh reference VMM. */
function planted(m: Omit<Mutant, 'factory' | 'control'>): Mutant {
  const control: VmmFactory = (config, options: VmmOptions) => new ReferenceVmm(config, { ...options, ...m.options });
  const factory: VmmFactory = (config, options: VmmOptions) => {
    const vmm = control(config, options);
    m.apply(vmm);
    return vmm;
  };
  return { ...m, factory, control };
}

type Fn = (...args: never[]) => unknown;

/** Wraps a method of an object (bound), failing loudly when it no longer exists. */
function wrap<F extends Fn>(obj: object, name: string, w: (previous: F) => F): void {
  const o = obj as Record<string, unknown>;
  const previous = o[name];
  if (typeof previous !== 'function') throw new Error(`planted bug: ${obj.constructor.name}.${name} is gone from the reference VMM`);
  o[name] = w((previous as F).bind(obj) as F);
}

const EV = 'event_channel_op$EVTCHNOP_';

/** The fuzzer's own planted bugs. */
export const fuzzMutants: readonly Mutant[] = [
  planted({
    id: 'evtchn-bind-vcpu-ignored',
    description: 'EVTCHNOP_bind_vcpu returns 0 but leaves the port notifying its old vCPU (the notify_vcpu_id update is lost)',
    subsystem: 'evtchn',
    ops: [`${EV}bind_vcpu`, `${EV}status`],
    apply(vmm) {
      wrap<EventChannels['bindVcpu']>(vmm.evtchn, 'bindVcpu', (prev) => (d, a) => {
        const port = a.port >>> 0;
        const before = d.ports.isValid(port) ? d.ports.notifyVcpu[port] : undefined;
        const rc = prev(d, a);
        if (rc === 0 && before !== undefined) d.ports.notifyVcpu[port] = before;
        return rc;
      });
    },
  }),
  planted({
    id: 'evtchn-ipi-binds-calling-vcpu',
    description: 'EVTCHNOP_bind_ipi binds the port to the calling vCPU instead of the vCPU the guest names',
    subsystem: 'evtchn',
    ops: [`${EV}bind_ipi`, `${EV}send`, `${EV}status`],
    apply(vmm) {
      wrap<EventChannels['bindIpi']>(vmm.evtchn, 'bindIpi', (prev) => (d, a) => {
        const rc = prev(d, a);
        if (rc === 0) d.ports.notifyVcpu[a.port] = 0;
        return rc;
      });
    },
  }),
  planted({
    id: 'evtchn-reset-keeps-virq-binding',
    description: 'EVTCHNOP_reset closes every port but leaves the vCPUs’ VIRQ-to-port table: the VIRQ stays bound to a closed port (bind_virq says EEXIST)',
    subsystem: 'evtchn',
    ops: [`${EV}reset`, `${EV}bind_virq`],
    apply(vmm) {
      wrap<EventChannels['reset']>(vmm.evtchn, 'reset', (prev) => (caller, a) => {
        const saved = [...vmm.machine.domains.values()].map((d) => ({ d, virq: d.vcpus.map((v) => v.virqToPort.slice()) }));
        const rc = prev(caller, a);
        if (rc === 0) for (const s of saved) s.d.vcpus.forEach((v, i) => v.virqToPort.set(s.virq[i] as Int32Array));
        return rc;
      });
    },
  }),
  planted({
    id: 'memory-maximum-gpfn-count',
    description: 'XENMEM_maximum_gpfn returns the number of guest frames (highest gfn + 1) instead of the highest gfn',
    subsystem: 'memory',
    ops: ['memory_op$XENMEM_maximum_gpfn'],
    apply(vmm) {
      vmm.patchHandler('memory_op$XENMEM_maximum_gpfn', (prev: HandlerMethod) => ((c: never, ...rest: never[]) => {
        const r = prev(c, ...rest);
        return typeof r === 'number' && r >= 0 ? r + 1 : r;
      }) as HandlerMethod);
    },
  }),
  planted({
    id: 'vcpu-down-keeps-running',
    description: 'VCPUOP_down returns 0 without taking the vCPU offline (is_up still says 1)',
    subsystem: 'sched',
    ops: ['vcpu_op$VCPUOP_down', 'vcpu_op$VCPUOP_is_up'],
    apply(vmm) {
      vmm.patchHandler('vcpu_op$VCPUOP_down', (prev: HandlerMethod) => ((c: { domain: { vcpus: { online: boolean }[] } }, vcpuid: number) => {
        const v = c.domain.vcpus[vcpuid];
        const was = v?.online;
        const r = (prev as unknown as (c: unknown, id: number) => number)(c, vcpuid);
        if (r === 0 && v && was !== undefined) v.online = was;
        return r;
      }) as unknown as HandlerMethod);
    },
  }),
  planted({
    id: 'grant-setup-table-short-list',
    description: 'GNTTABOP_setup_table writes one frame number less than nr_frames into frame_list (the last slot keeps what the guest left)',
    subsystem: 'grant',
    ops: ['grant_table_op$GNTTABOP_setup_table'],
    apply(vmm) {
      const g = grantTables(vmm);
      wrap(g, 'setupTable', (prev: (caller: never, op: { nr_frames: number }, pfn: number, limit: number) => void) => (caller, op, pfn, limit) => {
        const n = op.nr_frames;
        if (n > 1) {
          op.nr_frames = n - 1;
          prev(caller, op, pfn, limit);
          op.nr_frames = n;
          return;
        }
        prev(caller, op, pfn, limit);
      });
    },
  }),
  planted({
    id: 'grant-query-size-reports-max',
    description: 'GNTTABOP_query_size reports the maximum number of frames as the current one (nr_frames = max_nr_frames)',
    subsystem: 'grant',
    ops: ['grant_table_op$GNTTABOP_query_size'],
    apply(vmm) {
      const g = grantTables(vmm);
      wrap(g, 'querySize', (prev: (caller: never, op: { nr_frames: number; max_nr_frames: number; status: number }) => void) => (caller, op) => {
        prev(caller, op);
        if (op.status === 0) op.nr_frames = op.max_nr_frames;
      });
    },
  }),
];

/** Every planted bug: the mutation check's and the fuzzer's own. */
export function allPlanted(): readonly Mutant[] {
  return [...conformanceMutants, ...fuzzMutants];
}

/** A planted bug by id, or an error listing them. */
export function plantedById(id: string): Mutant {
  const m = allPlanted().find((x) => x.id === id);
  if (!m) throw new Error(`no planted bug '${id}'; known: ${allPlanted().map((x) => x.id).join(', ')}`);
  return m;
}

export type { Mutant };
