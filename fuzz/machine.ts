/**
 * The machines the fuzzer builds: several domains of different ABIs and privilege, so that
 * calls between domains, permission checks, 32-bit compat paths, translated (HVM, Arm)
 * guests and small port limits are all in reach. A target that cannot run the full machine
 * gets the largest of the smaller ones it accepts.
 */
import type { ProgramDomain } from '../conformance/program.js';
import { FuzzUsageError } from './errors.js';
import { payloadPages } from './gen.js';

/** Pages of each domain's data area: the first half are frames calls name, the rest scratch for arguments. */
export const DATA_PAGES = 16;

/** The full machine: a control domain, a 64-bit PV guest with few ports, a 32-bit PV guest, an HVM guest and an Arm guest. */
export const FULL_MACHINE: readonly ProgramDomain[] = [
  { id: 0, abi: 'x86_64-pv', memoryPages: DATA_PAGES, vcpus: 2, privileged: true },
  { id: 1, abi: 'x86_64-pv', memoryPages: DATA_PAGES, vcpus: 2, privileged: false, maxEvtchnPort: 4 },
  { id: 2, abi: 'x86_32-pv', memoryPages: DATA_PAGES, vcpus: 1, privileged: false },
  { id: 3, abi: 'x86_64-hvm', memoryPages: DATA_PAGES, vcpus: 2, privileged: false },
  { id: 4, abi: 'arm64', memoryPages: DATA_PAGES, vcpus: 1, privileged: false },
];

/** Two 64-bit PV domains (a control domain and a guest). */
export const PAIR_MACHINE: readonly ProgramDomain[] = FULL_MACHINE.slice(0, 2);

/** One 64-bit PV control domain (what the live Xen target runs). */
export const SINGLE_MACHINE: readonly ProgramDomain[] = FULL_MACHINE.slice(0, 1);

/** A machine with one vCPU per domain (targets that boot their domains with one, like live Xen's dom0). */
const oneVcpu = (m: readonly ProgramDomain[]): readonly ProgramDomain[] => m.map((d) => ({ ...d, vcpus: 1 }));

/** The machines tried, largest first. */
export const MACHINES: readonly (readonly ProgramDomain[])[] = [FULL_MACHINE, PAIR_MACHINE, SINGLE_MACHINE, oneVcpu(PAIR_MACHINE), oneVcpu(SINGLE_MACHINE)];

/** Data pages a target's domains map read-only (live Xen's page-table pages): Xen cannot write results there. */
export interface ReadOnlyPages {
  first: number;
  count: number;
}

/**
 * The machine with data areas large enough that the scratch half (the second half of the data
 * area, where the generator puts arguments: fuzz/gen.ts payloadPages) starts after the pages
 * the target maps read-only; those stay frames that calls name (and may make page tables).
 */
export function clearOfReadOnly(m: readonly ProgramDomain[], ro: ReadOnlyPages | undefined): readonly ProgramDomain[] {
  if (!ro || ro.count <= 0) return m;
  const grow = (n: number): number => (payloadPages({ memoryPages: n }) >= ro.first + ro.count ? n : grow(n + 1));
  return m.map((d) => ({ ...d, memoryPages: grow(d.memoryPages) }));
}

/** The largest machine a target accepts, and why the larger ones were refused. */
export function machineFor(unsupported: ((domains: readonly ProgramDomain[]) => string | undefined) | undefined, readOnly?: ReadOnlyPages): { domains: readonly ProgramDomain[]; refused: string[] } {
  const refused: string[] = [];
  for (const base of MACHINES) {
    const m = clearOfReadOnly(base, readOnly);
    const why = unsupported?.(m);
    if (why === undefined) return { domains: m, refused };
    refused.push(`${m.length} domain${m.length > 1 ? 's' : ''}${m.every((d) => d.vcpus === 1) ? ' with one vCPU each' : ''}: ${why}`);
  }
  throw new FuzzUsageError(`the target accepts none of the fuzzer's machines (${refused.join('; ')}); a testee must run at least one domain with one vCPU (see docs/fuzz.md, machines)`);
}
