/**
 * The fuzzer's steps as fast-check model-based commands, for property tests of one's own:
 *
 *   const h = hypercallCommands({ spec: xenSpec, factory: myVmm });
 *   fc.assert(fc.property(fc.commands(h.commands, { maxCommands: 30 }), (cmds) => h.run(cmds)), { seed: 42 });
 *
 * Each command is a seed (and, for the per-operation arbitraries, an operation); when it runs
 * it becomes a concrete step through the same spec-driven generator as `hyperabi fuzz`, drawn
 * from the state the commands before it reached (ports they allocated, grants they offered),
 * and runs on the reference VMM (the model) and on the target, with the same oracles: the
 * result, the memory the call may touch, the target's invariants after the call, and at the end
 * every page of every domain. A divergence throws a `HypercallDivergence`; fast-check then
 * shrinks the command list (and the seeds), and `reproducerOf` turns the shrunk list into a
 * scenario `hyperabi replay` and `certify` take.
 *
 * `hyperabi fuzz` does not go through fast-check: it runs its own loop over the same generator
 * and oracles (fuzz/engine.ts), with coverage steering and a corpus of sequences that reached
 * something new, and a shrinker of its own, which fast-check's commands do not have.
 */
import fc from 'fast-check';
import type { ProgramDomain } from '../conformance/program.js';
import type { Scenario } from '../conformance/scenario.js';
import type { VmmFactory } from '../conformance/targets/reference.js';
import type { VmmOptions } from '../reference-vmm/vmm.js';
import type { Spec } from '../spec/model.js';
import { type Divergence, LocalFuzzer } from './engine.js';
import { SeqState } from './gen.js';
import { PAIR_MACHINE } from './machine.js';
import { type OpPlan, SpecPlans } from './plan.js';
import { reproducer } from './reproducer.js';
import { Rng } from './rng.js';
import type { FStep } from './step.js';

/** What the commands of one run share on the model side: the sequence state and the steps so far. */
export interface CommandModel {
  readonly st: SeqState;
  readonly steps: FStep[];
}

/** The two machines of one run (the reference VMM and the target), and the generator. */
export interface CommandReal {
  readonly fz: LocalFuzzer;
}

/** A divergence between the target and the reference VMM, with the steps that led to it. */
export class HypercallDivergence extends Error {
  constructor(
    readonly divergence: Divergence,
    readonly steps: readonly FStep[],
  ) {
    super(`${divergence.kind} at step ${divergence.step} (${divergence.op}): ${divergence.message}`);
    this.name = 'HypercallDivergence';
  }
}

/** One generated step: a seed, and the operation when the command names one (else the generator picks the step). */
export class HypercallCommand implements fc.Command<CommandModel, CommandReal> {
  /** The concrete step of the last run (for fast-check's report). */
  private made: FStep | undefined;

  constructor(
    readonly seed: number,
    readonly op?: { plan: OpPlan; dom: number },
  ) {}

  check(): boolean {
    return true;
  }

  run(m: CommandModel, r: CommandReal): void {
    const rng = new Rng(this.seed);
    const gen = r.fz.gen;
    let step: FStep;
    if (this.op) {
      const caller = r.fz.doms.find((d) => d.id === this.op?.dom);
      if (!caller) throw new Error(`hypercall command: no domain ${this.op.dom} on this machine`);
      step = gen.call(rng, m.st, caller, this.op.plan);
    } else step = gen.step(rng, m.st);
    this.made = step;
    const d = r.fz.runStep(step, m.steps.length, m.st, true);
    // The model cannot run it (its argument memory is not mapped): as if the guest had not made it.
    if (d === 'skip') return;
    m.steps.push(step);
    // The guest broke its own discipline (a page table of its argument pages): this run says nothing.
    if (d === 'discard') fc.pre(false);
    if (d) throw new HypercallDivergence(d, m.steps.slice());
  }

  toString(): string {
    const s = this.made;
    const what = s === undefined ? (this.op ? this.op.plan.id : 'step') : s.kind === 'call' ? `${s.doc} [domain ${s.dom}]` : s.kind === 'write' ? s.doc : `advance ${s.ns} ns`;
    return `${what} (seed ${this.seed})`;
  }
}

export interface HypercallCommandsOptions {
  spec: Spec;
  /** The machine (default: dom0 and an unprivileged domain 1, both x86_64 PV). */
  domains?: readonly ProgramDomain[];
  /** The target: a VMM built like the reference VMM (a broken variant, another implementation); default the reference VMM itself. */
  factory?: VmmFactory;
  vmm?: VmmOptions;
}

export interface HypercallCommands {
  /** Arbitraries of commands: steps the generator picks, and steps of each operation of each domain's ABI. */
  readonly commands: fc.Arbitrary<HypercallCommand>[];
  /** A fresh pair of machines and an empty sequence, for `fc.modelRun`. */
  setup(): { model: CommandModel; real: CommandReal };
  /** Runs the commands from a fresh setup and compares the end state (every page) too; throws a HypercallDivergence. */
  run(cmds: Iterable<fc.Command<CommandModel, CommandReal>>): void;
  /** The scenario reproducing a failing command list (fast-check's shrunk counterexample). */
  reproducerOf(cmds: Iterable<fc.Command<CommandModel, CommandReal>>): Scenario | undefined;
}

/** fast-check model-based commands over the fuzzer's generator and oracles. */
export function hypercallCommands(o: HypercallCommandsOptions): HypercallCommands {
  const domains = o.domains ?? PAIR_MACHINE;
  const plans = new SpecPlans(o.spec, [...new Set(domains.map((d) => d.abi))]);
  const fresh = () => new LocalFuzzer({ spec: o.spec, plans, domains, seed: 0, ...(o.factory ? { factory: o.factory } : {}), ...(o.vmm ? { vmm: o.vmm } : {}) });
  // The generator's plans of each domain (what the reference VMM implements): per-operation commands shrink toward the first.
  const ops: { plan: OpPlan; dom: number }[] = [];
  for (const d of fresh().doms) for (const p of d.plans) if (p.implemented) ops.push({ plan: p, dom: d.id });
  const seed = fc.integer({ min: 0, max: 0x7fff_ffff });
  const commands = [seed.map((s) => new HypercallCommand(s)), fc.tuple(seed, fc.constantFrom(...ops)).map(([s, op]) => new HypercallCommand(s, op))];

  const setup = () => {
    const fz = fresh();
    fz.model.reset();
    fz.target.reset();
    return { model: { st: new SeqState(), steps: [] as FStep[] }, real: { fz } };
  };

  const run = (cmds: Iterable<fc.Command<CommandModel, CommandReal>>): void => {
    let last: ReturnType<typeof setup> | undefined;
    fc.modelRun(() => (last = setup()), cmds);
    if (!last) return;
    const end = last.real.fz.endState(last.model.steps);
    if (end) throw new HypercallDivergence(end, last.model.steps);
  };

  const reproducerOf = (cmds: Iterable<fc.Command<CommandModel, CommandReal>>): Scenario | undefined => {
    let failure: HypercallDivergence | undefined;
    try {
      run(cmds);
    } catch (e) {
      if (!(e instanceof HypercallDivergence)) throw e;
      failure = e;
    }
    if (!failure) return undefined;
    // The steps again on a fresh pair, for the model's results the scenario expects.
    const fz = fresh();
    const steps = failure.steps.slice(0, failure.divergence.step + 1);
    const replay = fz.replay(steps);
    const divergence = replay.divergence ?? failure.divergence;
    return reproducer({
      spec: o.spec,
      domains,
      ...(o.vmm?.preemptEvery !== undefined ? { preemptEvery: o.vmm.preemptEvery } : {}),
      steps,
      keepVolatile: true,
      results: replay.results,
      lowered: replay.lowered,
      divergence,
      provenance: { target: 'fast-check commands', seed: 0, worker: 0, sequence: 0, originalSteps: failure.steps.length },
    });
  };

  return { commands, setup, run, reproducerOf };
}
