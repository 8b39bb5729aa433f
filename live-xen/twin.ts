/**
 * The reference VMM as the live kernel's twin: the reference target with the machine a PV
 * dom0 really starts from, so that the two can be compared on more than error paths.
 *
 * The twin differs from the plain reference target on machines of dom0 alone (x86_64-pv, id
 * 0) and of dom0 and domain 1 (both x86_64-pv), the machines the live target builds; other
 * machines start as usual. domain 1 gets the same boot address space as dom0 (the live
 * kernel builds it so) and the room to grow the kernel gives it.
 *
 * - Boot page tables. Xen builds dom0 an address space (xen/arch/x86/pv/dom0_build.c): its
 *   image, with our data area in it, is mapped writable through an L4/L3/L2/L1 chain that
 *   is vCPU 0's base pointer; the live kernel then maps its table pages read-only
 *   (live-xen/build.ts KERNEL_LAYOUT) and shared_info next to its data. The twin gives each
 *   x86_64-pv domain the same: four page-table frames (RAM of the domain, without a guest
 *   frame number) that map the data area at its reference address 0 (writable, the table
 *   pages read-only) and shared_info at the page after it, validated and installed as the
 *   base pointer through the reference VMM's own page-table code. So the frames of the data
 *   area carry a writable type reference as on Xen (pinning one is refused), and
 *   update_va_mapping finds an L1 for the data area.
 * - Room to grow: as many pages between the domain's page count and its maximum as dom0 has
 *   on the live target (dom0_mem=...,max:...), so that it can populate and give back pages.
 * - Identity: the host's build id (read from the Xen image) and command line, so that
 *   XENVER_build_id and XENVER_commandline answer as the host does; its CPU count (what the
 *   hardware domain's PIRQ count and pin overrides follow).
 *
 * Memory accesses of the reference stay guest-physical: the data area and shared_info are
 * where the reference layout says, whatever a program does to these mappings.
 */
import { readFileSync } from 'node:fs';
import { gfn, PAGE_SIZE } from '../reference-vmm/addr.js';
import { PageType } from '../reference-vmm/memory/frames.js';
import { ramFrames } from '../reference-vmm/memory/handlers.js';
import { pvMmu } from '../reference-vmm/mm/handlers.js';
import { pteFrom } from '../reference-vmm/mm/pagetables.js';
import { ReferenceVmm, type VersionInfo } from '../reference-vmm/vmm.js';
import type { MachineConfig } from '../reference-vmm/machine.js';
import { referenceTarget } from '../conformance/targets/reference.js';
import { KERNEL_LAYOUT } from './build.js';
import { DOMU_ID } from './domu.js';

/** x86 entry flags (hardware facts): present, writable, user, accessed, dirty. */
const P = 0x1;
const RW = 0x2;
const US = 0x4;
const A = 0x20;
const D = 0x40;
const TABLE = P | RW | US | A | D;
const DATA_RW = P | RW | US | A | D;
const DATA_RO = P | US | A;

/**
 * Gives every x86_64-pv domain of `vmm` the boot address space of the live kernel, and
 * `slack` pages of room between its page count and its maximum (dom0_mem=...,max:...);
 * without `zeroPage`, page 0 of the data area is left unmapped (TwinOptions.zeroPage).
 */
export function addBootPageTables(
  vmm: ReferenceVmm,
  layout: { tableFirst: number; tablePages: number } = KERNEL_LAYOUT,
  slack: number | ((domid: number) => number) = 0,
  zeroPage = true,
  at?: { data: bigint; sharedInfo: bigint },
): void {
  const mm = pvMmu(vmm);
  const ram = ramFrames(vmm);
  if (!mm || !ram) throw new Error('the reference VMM has no PV MMU or memory subsystem');
  const m = vmm.machine;
  for (const d of m.domains.values()) {
    if (d.abi.name !== 'x86_64-pv') continue;
    const pages = d.sharedInfoGfn as number;
    if (pages + 1 > PAGE_SIZE / 8) throw new Error(`domain ${d.id}: ${pages} data pages do not fit one L1 table`);
    const frames: number[] = [];
    for (let i = 0; i < 4; i++) {
      const f = m.frames.alloc(d.id);
      if (f === undefined) throw new Error(`domain ${d.id}: no free frame for its boot page tables (raise hostFrames)`);
      frames.push(f);
      ram.owner[f] = d.id;
      d.totPages += 1;
      d.maxPages += 1;
    }
    const [l4, l3, l2, l1] = frames as [number, number, number, number];
    // The data area at virtual address 0 (slot 0 of every level) and shared_info after it, or where `at` says.
    const dataVa = at?.data ?? 0n;
    const sharedVa = at?.sharedInfo ?? BigInt(pages) * BigInt(PAGE_SIZE);
    const slot = (va: bigint, level: number) => Number((va >> BigInt(12 + 9 * level)) & 511n);
    const region = (va: bigint) => va >> 21n;
    if (region(dataVa) !== region(dataVa + BigInt(pages * PAGE_SIZE - 1)) || region(dataVa) !== region(sharedVa)) {
      throw new Error(`domain ${d.id}: the data area (0x${dataVa.toString(16)}, ${pages} pages) and shared_info (0x${sharedVa.toString(16)}) must lie in one 2 MiB region (one L1 table)`);
    }
    mm.pt.write(l4, slot(dataVa, 3), pteFrom(l3, TABLE));
    mm.pt.write(l3, slot(dataVa, 2), pteFrom(l2, TABLE));
    mm.pt.write(l2, slot(dataVa, 1), pteFrom(l1, TABLE));
    if (!zeroPage) d.memory.set(gfn(0), undefined);
    for (let p = 0; p < pages; p++) {
      const f = d.memory.lookup(gfn(p));
      if (f === undefined) continue;
      const ro = p >= layout.tableFirst && p < layout.tableFirst + layout.tablePages;
      mm.pt.write(l1, slot(dataVa + BigInt(p * PAGE_SIZE), 0), pteFrom(f, ro ? DATA_RO : DATA_RW));
    }
    mm.pt.write(l1, slot(sharedVa, 0), pteFrom(d.sharedInfoFrame, DATA_RW));
    d.maxPages += typeof slack === 'number' ? slack : slack(d.id);
    const rc = mm.pt.getPageAndType(l4, PageType.L4, d);
    if (rc !== 0) throw new Error(`domain ${d.id}: its boot page tables do not validate (${rc})`);
    mm.state.vcpu(d.id, 0, d.vcpus.length).kernel = l4;
  }
}

/** The GNU build id of an ELF image (the NT_GNU_BUILD_ID note), as hex; undefined when it has none. */
export function elfBuildId(image: Uint8Array): string | undefined {
  const b = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  // A note: namesz 4, descsz, type 3 (NT_GNU_BUILD_ID), "GNU\0", desc.
  for (let at = b.indexOf('GNU\0', 0, 'latin1'); at >= 12; at = b.indexOf('GNU\0', at + 1, 'latin1')) {
    if (b.readUInt32LE(at - 12) !== 4 || b.readUInt32LE(at - 4) !== 3) continue;
    const size = b.readUInt32LE(at - 8);
    if (size < 8 || size > 64) continue;
    return b.subarray(at + 4, at + 4 + size).toString('hex');
  }
  return undefined;
}

export interface TwinOptions {
  /** The uncompressed Xen image the live target boots (for its build id). */
  xenImage?: string;
  /** Xen's command line on the live target. */
  commandline?: string;
  /** Check the reference machine's invariants after every call (default true). */
  invariants?: boolean;
  /** Pages a domain may grow by (dom0's max: minus its start size). */
  slackPages?: number;
  /**
   * Whether page 0 of each data area is mapped (default true). False: it stays the domain's
   * but is mapped nowhere, like a kernel's zero page, so that NULL and small pointers fault
   * as they do on the live kernel, whose data area is not at address 0 (the fuzzer's twin:
   * its guest never uses page 0).
   */
  zeroPage?: boolean;
  /** Physical CPUs of the host (the reference VMM's hostCpus: QEMU's -smp). */
  hostCpus?: number;
  /**
   * Where the boot page tables map the data area and shared_info (default: the reference
   * layout's addresses, 0 and the page after the data). The fuzzer's twin takes the live
   * kernel's (its layout's dataBase and sharedInfo), so that linear addresses (update_va_mapping,
   * a grant's host_addr) find page tables where, and only where, they do on the live kernel;
   * memory accesses stay guest-physical.
   */
  virtualAt?: { data: bigint; sharedInfo: bigint };
}

/** The reference target as the live kernel's twin (named `reference`); `openSync` gives its session in this process (the fuzzer's oracle). */
export function referenceTwin(o: TwinOptions = {}): ReturnType<typeof referenceTarget> {
  const version: Partial<VersionInfo> = {};
  if (o.xenImage) {
    const id = elfBuildId(readFileSync(o.xenImage));
    if (id) version.buildId = id;
  }
  if (o.commandline !== undefined) version.commandline = o.commandline;
  return referenceTarget({
    invariants: o.invariants ?? true,
    vmm: { version, ...(o.hostCpus !== undefined ? { hostCpus: o.hostCpus } : {}) },
    factory: (config: MachineConfig, options) => {
      const vmm = new ReferenceVmm(config, options);
      // Only a machine the live target builds (dom0 alone, or dom0 and domain 1) starts as the live kernel does.
      const [d0, d1] = config.domains;
      const pv = (d: { abi: string } | undefined) => d?.abi === 'x86_64-pv';
      const built = config.domains.length === 1 ? d0?.id === 0 && pv(d0) : config.domains.length === 2 && d0?.id === 0 && d1?.id === DOMU_ID && pv(d0) && pv(d1);
      if (built) addBootPageTables(vmm, KERNEL_LAYOUT, (id) => (id === 0 ? (o.slackPages ?? 0) : KERNEL_LAYOUT.domuSlackPages), o.zeroPage ?? true, o.virtualAt);
      return vmm;
    },
  });
}
