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
import { HOST_CPUS, NR_CPUS } from './sched/state.js';

/** A handler method as `patchHandler` sees it: the call context, then the decoded arguments. */
export type HandlerMethod = (ctx: CallContext, ...args: never[]) => HypercallResult;

type Dispatcher = (h: XenHandler<CallContext>, ctx: CallContext, regs: Readonly<Registers>, mem: CallContext['domain']['memory']) => HypercallResult;

interface DomainEntry {
  domain: CallContext['domain'];
  dispatch: Dispatcher;
  ctxs: readonly CallContext[];
  regNames: readonly string[];
  bits: number;
}

/** `regs` itself when it has every register of the convention, else a copy with 0 for the missing ones. */
function complete(names: readonly string[], regs: Readonly<Registers>): Readonly<Registers> {
  // Unrolled for the usual six (number + five arguments): one register name per load site
  // keeps each site's inline cache monomorphic, which a loop over the names does not.
  if (
    names.length === 6 &&
    regs[names[0] as string] !== undefined &&
    regs[names[1] as string] !== undefined &&
    regs[names[2] as string] !== undefined &&
    regs[names[3] as string] !== undefined &&
    regs[names[4] as string] !== undefined &&
    regs[names[5] as string] !== undefined
  ) {
    return regs;
  }
  if (names.every((r) => regs[r] !== undefined)) return regs;
  const full: Registers = {};
  for (const r of names) full[r] = regs[r] ?? 0n;
  return full;
}

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
  /** XENVER_build_id's bytes, as hex; absent: Xen built without a build id (-ENODATA). */
  buildId?: string;
}

/** Options of a reference VMM beyond the machine. */
export interface VmmOptions {
  version?: Partial<VersionInfo>;
  /**
   * Preemption: Xen's hypercall_preempt_check() (a softirq or an event pending) answers true
   * at every n-th check within one run of a hypercall (default: never), so that long
   * operations continue through `createContinuation` exactly as in Xen.
   */
  preemptEvery?: number;
  /**
   * Physical CPUs of the model host (default HOST_CPUS, 2): what pin overrides accept,
   * VCPUOP_get_physid answers and the hardware domain's PIRQ count follow from it. The live
   * twin sets the host it stands for (QEMU -smp 1).
   */
  hostCpus?: number;
}

/** The most restarts of one hypercall through continuations before the VMM calls it a bug of ours. */
const MAX_RESTARTS = 1 << 20;

/** The reference VMM. */
export class ReferenceVmm {
  readonly machine: Machine;
  readonly evtchn: EventChannels;
  readonly version: VersionInfo;
  /** Exceptions raised inside handlers (bugs of ours), with the call that raised them. */
  readonly internalErrors: { domid: number; regs: Registers; error: unknown }[] = [];
  private readonly handler: XenHandler<CallContext>;
  private readonly efault: number;
  private readonly entries = new Map<number, DomainEntry>();
  /** The registers of the call being dispatched (the innermost one, inside a multicall): for handlers that need bits the dispatcher masks off. */
  callRegs: Readonly<Registers> = {};
  /**
   * The argument registers the guest holds after the last `hypercall()` when Xen preempted it
   * and continued it (rewritten by hypercall_create_continuation, restarted transparently);
   * undefined when it ran through at once.
   */
  lastContinuation: Readonly<Registers> | undefined;
  private readonly preemptEvery: number;
  /** Checks left in this run of a hypercall until one answers true (counts down from preemptEvery). */
  private preemptCountdown = Infinity;
  private continuation: Registers | undefined;
  /** Physical CPUs of the model host (VmmOptions.hostCpus). */
  readonly hostCpus: number;

  constructor(config: MachineConfig, options: VmmOptions = {}, spec: Spec = xenSpec) {
    this.hostCpus = options.hostCpus ?? HOST_CPUS;
    if (!Number.isInteger(this.hostCpus) || this.hostCpus < 1 || this.hostCpus > NR_CPUS) throw new VmmError(`hostCpus must be an integer from 1 to ${NR_CPUS}, got ${options.hostCpus}`);
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
    this.preemptEvery = options.preemptEvery ?? Infinity;
    if (!(this.preemptEvery >= 1) || (this.preemptEvery !== Infinity && !Number.isInteger(this.preemptEvery))) {
      throw new VmmError(`preemptEvery must be an integer of at least 1, got ${options.preemptEvery}`);
    }
    this.handler = xenHandler(this);
    this.efault = this.machine.errno['EFAULT'] as number;
  }

  /**
   * Issues a hypercall from vCPU `vcpu` of domain `domid` with the registers of its ABI
   * (missing registers read as 0); returns the result register, unsigned, as the guest sees it.
   */
  hypercall(domid: number, vcpu: number, regs: Readonly<Registers>): bigint {
    const e = this.entry(domid);
    const ctx = e.ctxs[vcpu];
    if (ctx === undefined) throw new VmmError(`domain ${domid} has no vCPU ${vcpu}`);
    let full = complete(e.regNames, regs);
    let result: HypercallResult;
    this.lastContinuation = undefined;
    try {
      // A continuation rewrites the registers and the guest re-executes the call: restart.
      for (let restarts = 0; ; restarts++) {
        this.preemptCountdown = this.preemptEvery;
        this.continuation = undefined;
        this.callRegs = full;
        result = e.dispatch(this.handler, ctx, full, e.domain.memory);
        const next = this.continuation as Registers | undefined;
        if (next === undefined) break;
        if (restarts === MAX_RESTARTS) throw new Error(`hypercall restarted ${MAX_RESTARTS} times without finishing`);
        e.domain.memory.flush();
        this.lastContinuation = full = next;
      }
    } catch (error) {
      this.internalErrors.push({ domid, regs: full === regs ? { ...regs } : full, error });
      result = this.efault;
    } finally {
      this.continuation = undefined;
      e.domain.memory.flush();
    }
    return BigInt.asUintN(e.bits, BigInt(result));
  }

  /**
   * Xen's hypercall_preempt_check(): whether a long operation should stop here and continue
   * later (see `VmmOptions.preemptEvery`). Handlers check between units of work, never before
   * the first, as Xen's do.
   */
  preemptCheck(): boolean {
    // A countdown rather than a modulo: mmu_update consults this once per entry.
    if (--this.preemptCountdown !== 0) return false;
    this.preemptCountdown = this.preemptEvery;
    return true;
  }

  /**
   * Xen's hypercall_create_continuation(op, args...): the call stops and is re-executed with
   * hypercall `op` and these arguments in the argument registers of the caller's ABI (the
   * rest unchanged). Returns what the handler returns meanwhile (`op`, as Xen). Inside a
   * multicall, the multicall takes the continuation into the entry (`takeContinuation`).
   */
  createContinuation(ctx: CallContext, op: number, args: readonly bigint[]): HypercallResult {
    const conv = ctx.domain.abi.convention;
    const next: Registers = { ...this.callRegs, [conv.number]: BigInt(op) };
    args.forEach((a, i) => {
      const r = conv.args[i];
      if (r === undefined) throw new Error(`continuation of hypercall ${op} has ${args.length} arguments; ${ctx.domain.abi.name} passes ${conv.args.length}`);
      next[r] = BigInt.asUintN(ctx.domain.arch.wordSize * 8, a);
    });
    this.continuation = next;
    return op;
  }

  /** The continuation the last dispatched call asked for (cleared): for multicall. */
  takeContinuation(): Readonly<Registers> | undefined {
    const c = this.continuation;
    this.continuation = undefined;
    return c;
  }

  /**
   * Runs one call inside another (a multicall entry) through the caller's ABI dispatcher:
   * same domain and vCPU, these registers; returns the handler's result (a negative errno or
   * a value), -EFAULT for an unreadable argument. Exceptions of ours propagate to the
   * enclosing `hypercall()`.
   */
  dispatch(ctx: CallContext, regs: Readonly<Registers>): HypercallResult {
    const e = this.entry(ctx.domain.id);
    const full = complete(e.regNames, regs);
    const outer = this.callRegs;
    this.callRegs = full;
    try {
      return e.dispatch(this.handler, ctx, full, e.domain.memory);
    } finally {
      this.callRegs = outer;
    }
  }

  /**
   * Replaces the handler method `method` (an operation id, or a hypercall's catch-all) with
   * `wrap(previous)`. The reference VMM never calls this: it is how the planted bugs of the
   * mutation check and the fuzzer (conformance/mutants.ts) reach a handler entry.
   */
  patchHandler(method: string, wrap: (previous: HandlerMethod) => HandlerMethod): void {
    const h = this.handler as unknown as Record<string, HandlerMethod | undefined>;
    const previous = h[method];
    if (typeof previous !== 'function') throw new VmmError(`no subsystem implements ${method}`);
    h[method] = wrap(previous);
  }

  /** Whether the call being dispatched has asked for a continuation (for wrappers of handler methods). */
  get continuing(): boolean {
    return this.continuation !== undefined;
  }

  /** Whether a handler method of this VMM is named so (an operation id, or a hypercall's catch-all). */
  implements(method: string): boolean {
    return typeof (this.handler as Record<string, unknown>)[method] === 'function';
  }

  /** The cached dispatch facts of a domain (rebuilt when the domain object changes). */
  private entry(domid: number): DomainEntry {
    const domain = this.machine.domain(domid);
    if (!domain) throw new VmmError(`no domain ${domid}`);
    let e = this.entries.get(domid);
    if (e === undefined || e.domain !== domain) {
      const conv = domain.abi.convention;
      const dispatch = dispatchers[domain.abi.name as keyof typeof dispatchers] as unknown as Dispatcher | undefined;
      if (!dispatch) throw new VmmError(`no dispatcher for ABI ${domain.abi.name}`);
      e = {
        domain,
        dispatch,
        // One frozen context per vCPU: handlers only read it, so calls allocate none.
        ctxs: domain.vcpus.map((_, vcpu) => Object.freeze({ vmm: this, domain, vcpu })),
        regNames: [conv.number, ...conv.args],
        bits: domain.arch.wordSize * 8,
      };
      this.entries.set(domid, e);
    }
    return e;
  }

  /** The result register read as a signed value (a negative errno or a count). */
  hypercallSigned(domid: number, vcpu: number, regs: Readonly<Registers>): bigint {
    const d = this.machine.domain(domid);
    if (!d) throw new VmmError(`no domain ${domid}`);
    return BigInt.asIntN(d.arch.wordSize * 8, this.hypercall(domid, vcpu, regs));
  }
}
