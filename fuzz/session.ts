/**
 * One worker's fuzzing session, as the CLI and the worker threads start it: resolves the
 * target (the reference VMM, a planted bug of it, a testee command, live Xen), picks the
 * machine it can run, and runs the local or the external loop.
 */
import type { ProgramDomain } from '../conformance/program.js';
import type { Target } from '../conformance/target.js';
import { findSpec } from '../spec/index.js';
import type { Spec } from '../spec/model.js';
import { FuzzUsageError } from './errors.js';
import { runExternal } from './external.js';
import { FULL_MACHINE, machineFor, type ReadOnlyPages } from './machine.js';
import { plantedById } from './planted.js';
import { runLocal, type ProgressTick, type RunReport } from './run.js';

/** What a worker needs to run (plain data: it crosses to worker threads). */
export interface WorkerJob {
  spec: string;
  /** reference, cmd:"<command>" or live-xen. */
  target: string;
  /** A planted bug of the reference VMM (reference target only). */
  mutant?: string;
  seed: number;
  worker: number;
  seconds?: number;
  sequences?: number;
  corpus?: string;
  stopAtFirst?: boolean;
  minSteps?: number;
  maxSteps?: number;
}

/** A usage problem the CLI reports as such (exit code 2). */
export { FuzzUsageError };

/** The spec to fuzz, or why it cannot be fuzzed. */
export function fuzzSpec(name: string): Spec {
  if (name === 'vmi' || name === 'vmi-api13' || name === 'pvops') {
    throw new FuzzUsageError(
      `--spec ${name}: nothing executable to fuzz against. The fuzzer compares a target with an executable model of the spec, and ` +
        `hyperabi's only model is the reference VMM, which implements the Xen hypercall ABI (spec xen). The ${name} spec has ` +
        `no reference implementation and no testee protocol of its own: its calls are ROM entry points reached through ` +
        `regparm(3) registers, not hypercalls, and the native VMI ROM (hyperabi generate vmi-rom) is a build artefact checked ` +
        `under QEMU, not a model. Fuzz with --spec xen; to exercise VMI, boot the ROM with its test kernel ` +
        `(generator/vmi-rom, the QEMU test) or add a VMI model behind the testee protocol (docs/protocol.md).`,
    );
  }
  const spec = findSpec(name);
  if (!spec) throw new FuzzUsageError(`unknown spec '${name}'; the fuzzer runs --spec xen`);
  if (spec.name !== 'xen') throw new FuzzUsageError(`--spec ${name}: only the xen spec has an executable model (the reference VMM)`);
  return spec;
}

async function importOptional(path: string, what: string): Promise<Record<string, unknown>> {
  try {
    return (await import(path)) as Record<string, unknown>;
  } catch (e) {
    throw new FuzzUsageError(`${what} is not available: ${(e as Error).message}`);
  }
}

/** Opens an external target. */
export async function openExternal(form: string, spec: Spec): Promise<Target> {
  if (form.startsWith('cmd:')) {
    const command = form.slice(4).trim();
    if (command === '') throw new FuzzUsageError('--target cmd: needs a command line, e.g. --target cmd:"./my-testee"');
    const mod = await importOptional('../conformance/targets/process.js', 'the cmd: target (conformance/targets/process.ts)');
    const processTarget = mod['processTarget'] as ((c: string, o: { spec: Spec; name?: string }) => Promise<Target>) | undefined;
    if (typeof processTarget !== 'function') throw new FuzzUsageError('conformance/targets/process.ts does not export processTarget');
    try {
      return await processTarget(command, { spec, name: form });
    } catch (e) {
      throw new FuzzUsageError(`cannot start the testee '${command}': ${(e as Error).message}`);
    }
  }
  if (form === 'live-xen') {
    const mod = await importOptional('../live-xen/target.js', 'the live-xen target (live-xen/target.ts)');
    const liveXenTarget = mod['liveXenTarget'] as (() => Target | Promise<Target>) | undefined;
    if (typeof liveXenTarget !== 'function') throw new FuzzUsageError('live-xen/target.ts does not export liveXenTarget');
    try {
      return await liveXenTarget();
    } catch (e) {
      throw new FuzzUsageError(`the live-xen target is not usable here: ${(e as Error).message}`);
    }
  }
  throw new FuzzUsageError(`unknown target '${form}'; use reference, cmd:"<command>" or live-xen`);
}

/** Data pages a target's domains map read-only, when it says so (live Xen's page-table pages). */
function readOnlyPages(t: Target): ReadOnlyPages | undefined {
  const ro = (t as Target & { readOnlyPages?: ReadOnlyPages }).readOnlyPages;
  return ro && Number.isInteger(ro.first) && Number.isInteger(ro.count) ? ro : undefined;
}

/** The machine a job runs on (the full one on the reference VMM). */
export async function jobMachine(job: WorkerJob): Promise<readonly ProgramDomain[]> {
  if (job.target === 'reference') return FULL_MACHINE;
  const spec = fuzzSpec(job.spec);
  const t = await openExternal(job.target, spec);
  try {
    return machineFor(t.unsupported?.bind(t), readOnlyPages(t)).domains;
  } finally {
    await t.dispose();
  }
}

/** Runs one worker's job. */
export async function runJob(job: WorkerJob, progress?: (p: ProgressTick) => void): Promise<RunReport & { machine: readonly ProgramDomain[] }> {
  const spec = fuzzSpec(job.spec);
  const common = {
    spec,
    seed: job.seed,
    worker: job.worker,
    ...(job.seconds !== undefined ? { seconds: job.seconds } : {}),
    ...(job.sequences !== undefined ? { sequences: job.sequences } : {}),
    ...(job.corpus !== undefined ? { corpus: job.corpus } : {}),
    ...(job.stopAtFirst ? { stopAtFirst: true } : {}),
    ...(job.minSteps ? { minSteps: job.minSteps } : {}),
    ...(job.maxSteps ? { maxSteps: job.maxSteps } : {}),
    ...(progress ? { progress } : {}),
  };
  if (job.target === 'reference') {
    const m = job.mutant ? plantedById(job.mutant) : undefined;
    const report = await runLocal({ ...common, domains: FULL_MACHINE, targetName: 'reference', ...(m ? { factory: m.factory, mutant: m.id } : {}), ...(m?.options ? { vmm: m.options } : {}) });
    return { ...report, machine: FULL_MACHINE };
  }
  if (job.mutant) throw new FuzzUsageError('--mutant plants a bug in the reference VMM: use it with --target reference');
  const target = await openExternal(job.target, spec);
  try {
    const { domains } = machineFor(target.unsupported?.bind(target), readOnlyPages(target));
    const report = await runExternal({ ...common, domains, target, targetName: job.target });
    return { ...report, machine: domains };
  } finally {
    await target.dispose();
  }
}
