/**
 * The reference VMM as a conformance target, in process: a fresh machine per scenario, the
 * data area at guest-physical 0, shared_info right above it (where the reference machine
 * puts it), and guest frame numbers turned into machine frames for PV domains.
 */
import { isTranslated } from '../../reference-vmm/mm/pagetables.js';
import { gaddr, gfn } from '../../reference-vmm/addr.js';
import type { MachineConfig } from '../../reference-vmm/machine.js';
import { DEFAULT_MAX_GRANT_FRAMES } from '../../reference-vmm/grant/state.js';
import { ReferenceVmm, type VmmOptions } from '../../reference-vmm/vmm.js';
import type { DomainLayout, Instr, InstrResult, Operand, ProgramDomain } from '../program.js';
import type { ExecResult, InteractiveTarget, MachineKnobs, Session } from '../target.js';

/** A guest address no reference domain maps (far above any p2m the model keeps). */
export const REFERENCE_UNMAPPED = 0xdead_0000_0000n;

/** Builds a VMM for a program's domains; the mutation check swaps in broken ones. */
export type VmmFactory = (config: MachineConfig, options: VmmOptions) => ReferenceVmm;

export interface ReferenceTargetOptions {
  /** Check the machine's invariants after every call (default true): a violation is an error outcome. */
  invariants?: boolean;
  factory?: VmmFactory;
  vmm?: VmmOptions;
  name?: string;
}

/**
 * Where things are in a reference domain: the data area at guest-physical 0, shared_info in
 * the page after it, then the grant table's shared frames and, after room for the most of
 * them, its v2 status frames (reference-vmm/grant/state.ts).
 */
export function referenceLayouts(domains: readonly ProgramDomain[]): DomainLayout[] {
  return domains.map((d) => ({
    id: d.id,
    dataBase: 0n,
    unmapped: REFERENCE_UNMAPPED,
    sharedInfo: BigInt(d.memoryPages) * 4096n,
    grantTable: BigInt(d.memoryPages + 1) * 4096n,
    grantStatus: BigInt(d.memoryPages + 1 + DEFAULT_MAX_GRANT_FRAMES) * 4096n,
  }));
}

export class ReferenceSession implements Session {
  readonly layouts: DomainLayout[];
  constructor(
    readonly vmm: ReferenceVmm,
    domains: readonly ProgramDomain[],
    private readonly checkInvariants: boolean,
  ) {
    this.layouts = referenceLayouts(domains);
  }

  private operand(o: Operand): bigint | string {
    if (typeof o === 'bigint') return o;
    if ('frame' in o) {
      const d = this.vmm.machine.domain(o.frame.dom);
      if (!d) return `no domain ${o.frame.dom}`;
      let f: bigint;
      if (isTranslated(d)) f = BigInt(o.frame.page);
      else {
        const m = d.memory.lookup(gfn(o.frame.page));
        if (m === undefined) return `page ${o.frame.page} of domain ${o.frame.dom} has no frame`;
        f = BigInt(m);
      }
      return ((f << BigInt(o.shl ?? 0)) | (o.or ?? 0n));
    }
    const d = this.vmm.machine.domain(o.load.dom);
    const buf = new Uint8Array(o.load.size);
    if (!d || !d.memory.read(gaddr(Number(o.load.addr)), buf)) return `cannot load ${o.load.size} bytes at 0x${o.load.addr.toString(16)}`;
    let v = 0n;
    for (let k = o.load.size - 1; k >= 0; k--) v = (v << 8n) | BigInt(buf[k] as number);
    return (v + (o.add ?? 0n)) | (o.or ?? 0n);
  }

  /** Read results are views into 64 KiB chunks, never reused (a fresh typed array per read costs ten times more). */
  private chunk = new Uint8Array(0);
  private chunkUsed = 0;

  private bytes(n: number): Uint8Array {
    if (n > 4096) return new Uint8Array(n);
    if (this.chunkUsed + n > this.chunk.length) {
      this.chunk = new Uint8Array(65536);
      this.chunkUsed = 0;
    }
    const out = this.chunk.subarray(this.chunkUsed, this.chunkUsed + n);
    this.chunkUsed += n;
    return out;
  }

  exec(instrs: readonly Instr[]): Promise<ExecResult> {
    return Promise.resolve(this.execSync(instrs));
  }

  execSync(instrs: readonly Instr[]): ExecResult {
    const results: InstrResult[] = [];
    const vmm = this.vmm;
    for (let k = 0; k < instrs.length; k++) {
      const ins = instrs[k] as Instr;
      switch (ins.op) {
        case 'write': {
          const d = vmm.machine.domain(ins.dom);
          if (!d || !d.memory.write(gaddr(Number(ins.addr)), ins.bytes)) return { results, error: `instruction ${k}: cannot write ${ins.bytes.length} bytes at 0x${ins.addr.toString(16)} of domain ${ins.dom}` };
          results.push({ op: 'done' });
          break;
        }
        case 'store': {
          const v = this.operand(ins.value);
          if (typeof v === 'string') return { results, error: `instruction ${k}: ${v}` };
          const b = new Uint8Array(ins.size);
          for (let j = 0; j < ins.size; j++) b[j] = Number((v >> BigInt(8 * j)) & 0xffn);
          const d = vmm.machine.domain(ins.dom);
          if (!d || !d.memory.write(gaddr(Number(ins.addr)), b)) return { results, error: `instruction ${k}: cannot store at 0x${ins.addr.toString(16)}` };
          results.push({ op: 'done' });
          break;
        }
        case 'call': {
          const regs: Record<string, bigint> = {};
          for (const r in ins.regs) {
            const o = ins.regs[r] as Operand;
            const v = typeof o === 'bigint' ? o : this.operand(o);
            if (typeof v === 'string') return { results, error: `instruction ${k}: ${v}` };
            regs[r] = v;
          }
          const before = vmm.internalErrors.length;
          const result = vmm.hypercall(ins.dom, ins.vcpu, regs);
          if (vmm.internalErrors.length > before) return { results, error: `instruction ${k}: the reference VMM raised ${String(vmm.internalErrors[before]?.error)}` };
          results.push({ op: 'call', result });
          if (this.checkInvariants) {
            const v = vmm.machine.invariants();
            if (v.length > 0) return { results, error: `instruction ${k}: invariants broken: ${v.slice(0, 3).join('; ')}` };
          }
          break;
        }
        case 'read': {
          const d = vmm.machine.domain(ins.dom);
          const out = this.bytes(ins.length);
          results.push(d && d.memory.read(gaddr(Number(ins.addr)), out) ? { op: 'read', bytes: out } : { op: 'read', fault: true });
          break;
        }
        case 'advance':
          vmm.machine.advance(ins.ns);
          results.push({ op: 'done' });
          break;
      }
    }
    return { results };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export function machineConfig(domains: readonly ProgramDomain[]): MachineConfig {
  return {
    domains: domains.map((d) => ({
      id: d.id,
      abi: d.abi,
      memoryPages: d.memoryPages,
      vcpus: d.vcpus,
      privileged: d.privileged,
      ...(d.maxEvtchnPort !== undefined ? { maxEvtchnPort: d.maxEvtchnPort } : {}),
      ...(d.maxPages !== undefined ? { maxPages: d.maxPages } : {}),
    })),
  };
}

/** The reference VMM target. */
export function referenceTarget(options: ReferenceTargetOptions = {}): InteractiveTarget & { openSync(domains: readonly ProgramDomain[], knobs?: MachineKnobs): ReferenceSession } {
  const factory = options.factory ?? ((c, o) => new ReferenceVmm(c, o));
  const openSync = (domains: readonly ProgramDomain[], knobs?: MachineKnobs) =>
    new ReferenceSession(factory(machineConfig(domains), knobs?.preemptEvery !== undefined ? { ...options.vmm, preemptEvery: knobs.preemptEvery } : (options.vmm ?? {})), domains, options.invariants ?? true);
  return {
    kind: 'interactive',
    name: options.name ?? 'reference',
    openSync,
    open: (domains, knobs) => Promise.resolve(openSync(domains, knobs)),
    dispose: () => Promise.resolve(),
  };
}
