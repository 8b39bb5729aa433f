/**
 * The reference VMM: a Machine plus hypercall entry at the ABI. `hypercall(domid, vcpu,
 * registers)` takes the registers of the domain's ABI, dispatches through the generated
 * dispatcher of that ABI (which decodes arguments and reads guest structs through the
 * generated codecs), runs the handler, and returns the result register.
 *
 * Guest input never makes it throw: a bad pointer is -EFAULT, an unknown call -ENOSYS. An
 * exception from a handler is a bug of ours: it is recorded in `internalErrors` (which tests
 * and the fuzzer check) and the call returns -EFAULT.
 */
import { dispatchers } from '../generated/xen/dispatch.js';
import type { XenHandler } from '../generated/xen/handler.js';
import type { HypercallResult, Registers } from '../generated/xen/runtime.js';
import type { Spec } from '../spec/index.js';
import { xenSpec } from '../spec/index.js';
import { EventChannels } from './evtchn/ops.js';
import { xenHandler, type CallContext } from './handlers.js';
import { Machine, type MachineConfig } from './machine.js';

type Dispatcher = (h: XenHandler<CallContext>, ctx: CallContext, regs: Readonly<Registers>, mem: CallContext['domain']['memory']) => HypercallResult;

/** A host-side misuse of the VMM API (unknown domain or vCPU): not a guest error. */
export class VmmError extends Error {
  override name = 'VmmError';
}

/** Identity strings xen_version reports; defaults describe this reference VMM. */
export interface VersionInfo {
  extraversion: string;
  compiler: string;
  compileBy: string;
  compileDomain: string;
  compileDate: string;
  capabilities: string;
  changeset: string;
  commandline: string;
}

/** Options of a reference VMM beyond the machine. */
export interface VmmOptions {
  version?: Partial<VersionInfo>;
}

/** The reference VMM. */
export class ReferenceVmm {
  readonly machine: Machine;
  readonly evtchn: EventChannels;
  readonly version: VersionInfo;
  /** Exceptions raised inside handlers (bugs of ours), with the call that raised them. */
  readonly internalErrors: { domid: number; regs: Registers; error: unknown }[] = [];
  private readonly handler: XenHandler<CallContext>;
  private readonly efault: number;

  constructor(config: MachineConfig, options: VmmOptions = {}, spec: Spec = xenSpec) {
    this.machine = new Machine(spec, config);
    this.evtchn = new EventChannels(this.machine);
    this.version = {
      extraversion: '.0-hyperabi',
      compiler: 'hyperabi reference VMM',
      compileBy: 'hyperabi',
      compileDomain: 'hyperabi.dev',
      compileDate: 'n/a',
      capabilities: 'xen-3.0-x86_64 xen-3.0-x86_32p',
      changeset: 'hyperabi reference',
      commandline: '',
      ...options.version,
    };
    this.handler = xenHandler(this);
    this.efault = this.machine.errno['EFAULT'] as number;
  }

  /**
   * Issues a hypercall from vCPU `vcpu` of domain `domid` with the registers of its ABI
   * (missing registers read as 0); returns the result register, unsigned, as the guest sees it.
   */
  hypercall(domid: number, vcpu: number, regs: Readonly<Registers>): bigint {
    const domain = this.machine.domain(domid);
    if (!domain) throw new VmmError(`no domain ${domid}`);
    if (!Number.isInteger(vcpu) || domain.vcpus[vcpu] === undefined) throw new VmmError(`domain ${domid} has no vCPU ${vcpu}`);
    const conv = domain.abi.convention;
    const full: Registers = {};
    for (const r of [conv.number, ...conv.args]) full[r] = regs[r] ?? 0n;
    const dispatch = dispatchers[domain.abi.name as keyof typeof dispatchers] as unknown as Dispatcher | undefined;
    if (!dispatch) throw new VmmError(`no dispatcher for ABI ${domain.abi.name}`);
    let result: HypercallResult;
    try {
      result = dispatch(this.handler, { vmm: this, domain, vcpu }, full, domain.memory);
    } catch (error) {
      this.internalErrors.push({ domid, regs: full, error });
      result = this.efault;
    } finally {
      domain.memory.flush();
    }
    return BigInt.asUintN(domain.arch.wordSize * 8, BigInt(result));
  }

  /** The result register read as a signed value (a negative errno or a count). */
  hypercallSigned(domid: number, vcpu: number, regs: Readonly<Registers>): bigint {
    const d = this.machine.domain(domid);
    if (!d) throw new VmmError(`no domain ${domid}`);
    return BigInt.asIntN(d.arch.wordSize * 8, this.hypercall(domid, vcpu, regs));
  }
}
