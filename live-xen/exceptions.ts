/**
 * What real Xen under QEMU and the reference twin cannot agree on, per operation, for the
 * fuzzer (fuzz/external.ts `CallException`), from the facts the live tier already states:
 *
 * - Operations the reference VMM does not implement (the spec's `referenceVmm` reason, or no
 *   handler at all): it answers -ENOSYS, Xen 4.17 runs them. Not run.
 * - The derived scenarios' live-xen limits (conformance/derive: a normal path that cannot run
 *   on the live kernel, an error the live host cannot be put in): that call is not run when
 *   the oracle's call takes that path (succeeds, or returns that error).
 * - The hand-written live scenarios' `limits: { live-xen }` (conformance/scenarios/live): the
 *   operations they call are compared by their result's class only.
 * - Host facts (`HOST_FACTS` below): a result or the bytes Xen writes are the host's (sizes,
 *   build strings, clocks), compared by the result's class only; or the host decides the
 *   outcome, or Xen writes into guest memory on its own: not run.
 * - The reference VMM's own limits (`MODEL_LIMITS`): a path where it stops short of Xen, which
 *   the live machine always takes: not run when the oracle takes it.
 */
import { join } from 'node:path';
import type { Scenario } from '../conformance/scenario.js';
import { loadScenarioFiles, SCENARIO_DIR } from '../conformance/suite.js';
import { LIVE, LIVE_WHY } from '../conformance/derive/live.js';
import { NORMAL } from '../conformance/derive/normal.js';
import { STATES } from '../conformance/derive/states.js';
import { scenarioOperations } from '../conformance/protocol/subset.js';
import { declaredErrors, operations } from '../reference-vmm/coverage.js';
import { ReferenceVmm } from '../reference-vmm/vmm.js';
import { errnos } from '../reference-vmm/errno.js';
import type { CallException } from '../fuzz/external.js';
import type { Spec } from '../spec/model.js';

/**
 * Operations whose results, or what Xen does with the guest's memory, belong to the host:
 * `value`, a successful result or the bytes Xen writes are the host's (sizes, build strings,
 * clocks), so only the result's class is compared; `skip` (always, or when the oracle's call
 * succeeds), the host decides the outcome itself, or Xen keeps writing into the guest's
 * memory at times no oracle can know. The live scenarios compare the results of the first
 * four as `expect: ok` (live-xen/fuzz.test.ts holds the two lists together). Build strings
 * are every implementation's own (fuzz/external.ts IDENTITY).
 */
export const HOST_FACTS: Readonly<Record<string, CallException>> = {
  'memory_op$XENMEM_maximum_ram_page': { kind: 'value', why: 'one past the highest RAM frame of the host (QEMU’s memory size)' },
  'memory_op$XENMEM_current_reservation': { kind: 'value', why: 'the pages a domain has as the host built it (dom0_mem; domain 1’s kernel image)' },
  'memory_op$XENMEM_maximum_reservation': { kind: 'value', why: 'the most pages a domain may have as the host built it (dom0_mem=...,max:...)' },
  'memory_op$XENMEM_maximum_gpfn': { kind: 'value', why: 'the highest frame of the domain’s physmap as the host built it' },
  'memory_op$XENMEM_machphys_mapping': { kind: 'value', why: 'max_mfn is the host’s highest machine frame' },
  'memory_op$XENMEM_memory_map': { kind: 'skip', why: 'the domain’s memory map is what the host built: dom0’s derives from the host’s e820, a domain without one answers -ENOSYS' },
  'memory_op$XENMEM_machine_memory_map': { kind: 'skip', why: 'the host’s e820 map: its entry count decides between success and -EINVAL' },
  'physdev_op$PHYSDEVOP_get_free_pirq': { kind: 'value', why: 'the first free GSI PIRQ depends on the host’s interrupt routing' },
  'vcpu_op$VCPUOP_get_runstate_info': { kind: 'value', why: 'times of Xen’s clock since boot (the reference’s clock starts at 0 and moves only when told)' },
  'sched_op$SCHEDOP_watchdog': {
    kind: 'skip',
    when: 'success',
    why: 'a watchdog runs on the host’s clock, in real time (the oracle’s moves only when told): whether it shuts the domain down before the run ends depends on how long the run takes',
  },
  'vcpu_op$VCPUOP_register_runstate_memory_area': {
    kind: 'skip',
    when: 'success',
    why: 'Xen writes the runstate (times of its clock) into the area at every context switch, over whatever the guest keeps there later',
  },
  'vcpu_op$VCPUOP_register_vcpu_time_memory_area': {
    kind: 'skip',
    when: 'success',
    why: 'Xen writes the time info (TSC stamps and scale of the host) into the area whenever it updates the vCPU’s time',
  },
};

/**
 * Where the reference VMM stops short of what Xen does, on paths the live machine always
 * takes: not run there when the oracle takes that path.
 */
export const MODEL_LIMITS: Readonly<Record<string, CallException>> = {
  'memory_op$XENMEM_decrease_reservation': {
    kind: 'skip',
    when: 'short',
    why: 'the reference VMM keeps a page that is still referenced elsewhere, where Xen drops it and frees it with the last reference (xen/common/memory.c guest_remove_page); on the live machine every data page is mapped by the kernel’s page tables, and giving them back would take the kernel’s own memory',
  },
};

const isSkip = (why: string): CallException => ({ kind: 'skip', why });

/** The exceptions of every operation of the spec on the live target. */
export function liveFuzzExceptions(spec: Spec, liveScenarios: readonly Scenario[] = loadScenarioFiles(join(SCENARIO_DIR, 'live'))): Map<string, CallException[]> {
  const out = new Map<string, CallException[]>();
  const add = (id: string, e: CallException) => {
    const l = out.get(id);
    if (l) l.push(e);
    else out.set(id, [e]);
  };
  // Every family's operations, as the fuzzer calls them (reference-vmm/coverage.ts counts the VMM's families only).
  const all = operations(spec, [...new Set(spec.hypercalls.map((h) => h.family))]);
  const vmm = new ReferenceVmm({ domains: [{ id: 0, abi: 'x86_64-pv', memoryPages: 1 }] }, {}, spec);
  for (const e of all) {
    const reason = e.op?.referenceVmm ?? e.hypercall.referenceVmm;
    if (reason && !reason.implemented) add(e.id, isSkip(`the reference VMM does not implement it: ${reason.reason}`));
    else if (!vmm.implements(e.id) && !(e.op && vmm.implements(e.hypercall.name))) add(e.id, isSkip('the reference VMM has no handler for it (it answers -ENOSYS); Xen 4.17 does'));
  }
  // The derived scenarios' limits: normal paths (a success) and error states the live host cannot run.
  for (const [id, r] of Object.entries(NORMAL)) {
    const why = r.limits?.[LIVE];
    if (why !== undefined) add(id, { kind: 'skip', when: 'success', why });
  }
  const codes = errnos(spec);
  for (const [state, r] of Object.entries(STATES)) {
    const why = typeof r === 'object' ? r.limits?.[LIVE] : undefined;
    if (why === undefined) continue;
    for (const e of all) {
      for (const d of declaredErrors(spec, e.id)) {
        const code = codes[d.code];
        if (d.trigger?.kind === 'state' && d.trigger.state === state && code !== undefined && (d.via ?? 'return') === 'return') add(e.id, { kind: 'skip', when: code, why });
      }
    }
  }
  // The hand-written live scenarios that cannot agree on the live target.
  for (const s of liveScenarios) {
    const why = s.limits?.[LIVE];
    if (why === undefined) continue;
    for (const id of scenarioOperations(spec, s)) add(id, { kind: 'value', why: `${s.id}: ${why}` });
  }
  for (const [id, e] of Object.entries(HOST_FACTS)) add(id, e);
  for (const [id, e] of Object.entries(MODEL_LIMITS)) add(id, e);
  return out;
}

export { LIVE_WHY };
