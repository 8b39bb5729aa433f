/**
 * Conformance targets: what runs lowered scenarios (conformance/program.ts).
 *
 * An interactive target opens a session per scenario (a fresh machine with the program's
 * domains, reporting where things are in each domain), runs its instructions and returns
 * what each produced. A batch target (real Xen under QEMU) takes many programs at once.
 */
import type { DomainLayout, Instr, InstrResult, ProgramDomain, Program } from './program.js';
import type { Scenario } from './scenario.js';

/** What a run of instructions produced; `error` when the target broke part-way (crash, hang, garbage). */
export interface ExecResult {
  results: InstrResult[];
  error?: string;
  /** Things the target says about the run (strict-mode findings, notes). */
  notes?: string[];
}

export interface Session {
  readonly layouts: readonly DomainLayout[];
  exec(instrs: readonly Instr[]): Promise<ExecResult>;
  close(): Promise<void>;
}

export interface InteractiveTarget {
  readonly kind: 'interactive';
  readonly name: string;
  /** Why this target cannot run a machine of these domains (undefined: it can). */
  unsupported?(domains: readonly ProgramDomain[]): string | undefined;
  /** Why this target cannot run this scenario (an implementation's declared subset: by id, or by the operations it calls). */
  skip?(id: string, scenario?: Scenario): string | undefined;
  /**
   * The subset of the ABI the implementation declares (a testee's hello ops= and scenarios=):
   * certification leaves the scenarios outside it out as not claimed (docs/certify.md).
   */
  readonly subset?: { readonly ops?: readonly string[]; readonly scenarios?: readonly string[] };
  /** Opens a fresh machine of these domains; `knobs` are the scenario's target-specific machine options (a target ignores what it does not know). */
  open(domains: readonly ProgramDomain[], knobs?: MachineKnobs): Promise<Session>;
  dispose(): Promise<void>;
}

/** Machine options a scenario may give for targets that can honour them (scenario.machine). */
export interface MachineKnobs {
  /** Xen's hypercall_preempt_check() answers yes at every n-th check (reference VMM). */
  preemptEvery?: number;
}

export interface BatchTarget {
  readonly kind: 'batch';
  readonly name: string;
  unsupported?(domains: readonly ProgramDomain[]): string | undefined;
  /** The layouts a machine of these domains will have (known before it runs). */
  layouts(domains: readonly ProgramDomain[]): DomainLayout[];
  /** Runs the programs; one result per program, in order. `progress` is told as they complete. */
  runAll(programs: readonly Program[], progress?: (done: number, total: number) => void): Promise<ExecResult[]>;
  dispose(): Promise<void>;
}

export type Target = InteractiveTarget | BatchTarget;
