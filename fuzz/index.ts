/**
 * `hyperabi fuzz`: spec-driven, stateful, differential fuzzing (docs/fuzz.md). Runs K workers
 * (worker threads, or this thread for one) with the same seed and distinct worker indexes
 * (each derives its own sequence seeds), merges their findings (one per kind of divergence
 * and operation) and statistics, and reports spec coverage.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ProgramDomain } from '../conformance/program.js';
import { summarize, type CoverageSummary } from './coverage.js';
import { Coverage, type Stats } from './engine.js';
import { SpecPlans } from './plan.js';
import type { FindingReport, ProgressTick, RunReport } from './run.js';
import { FuzzUsageError, fuzzSpec, runJob, type WorkerJob } from './session.js';

export interface FuzzOptions {
  spec?: string;
  target?: string;
  mutant?: string;
  seed?: number;
  workers?: number;
  seconds?: number;
  sequences?: number;
  corpus?: string;
  stopAtFirst?: boolean;
  minSteps?: number;
  maxSteps?: number;
  /** Told about four times a second with the merged figures. */
  progress?: (p: FuzzProgress) => void;
}

export interface FuzzProgress {
  elapsedMs: number;
  calls: number;
  sequences: number;
  findings: number;
  callsPerSecond: number;
  ops: { reached: number; total: number };
  errors: { triggered: number; total: number };
}

export interface FuzzReport {
  spec: string;
  target: string;
  mutant?: string;
  seed: number;
  workers: number;
  machine: readonly ProgramDomain[];
  elapsedMs: number;
  stats: Stats;
  /** Hypercalls on the target per second of wall time, all workers. */
  callsPerSecond: number;
  perWorker: { worker: number; elapsedMs: number; calls: number; sequences: number }[];
  coverage: CoverageSummary;
  findings: FindingReport[];
  /** External targets: steps, sequences and bytes left out or ended early, by reason (fuzz/external.ts EXCLUDED_WHY). */
  excluded?: Record<string, number>;
}

const WORKER_FILE = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url));

function sumStats(list: readonly Stats[]): Stats {
  const out: Stats = { sequences: 0, steps: 0, calls: 0, skipped: 0, genErrors: 0, discarded: 0 };
  for (const s of list) for (const k of Object.keys(out) as (keyof Stats)[]) out[k] += s[k];
  return out;
}

/** Runs a fuzzing campaign. */
export async function fuzz(o: FuzzOptions = {}): Promise<FuzzReport> {
  const specName = o.spec ?? 'xen';
  const spec = fuzzSpec(specName);
  const target = o.target ?? 'reference';
  const workers = o.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new FuzzUsageError(`--workers must be an integer from 1 to 64, got ${o.workers}`);
  if (o.seconds === undefined && o.sequences === undefined) throw new FuzzUsageError('give --seconds N or --sequences N (how long to fuzz)');
  if (o.mutant && target !== 'reference') throw new FuzzUsageError('--mutant plants a bug in the reference VMM: use it with --target reference');
  const seed = (o.seed ?? 1) >>> 0;
  const base: Omit<WorkerJob, 'worker'> = {
    spec: specName,
    target,
    seed,
    ...(o.mutant ? { mutant: o.mutant } : {}),
    ...(o.seconds !== undefined ? { seconds: o.seconds } : {}),
    ...(o.sequences !== undefined ? { sequences: o.sequences } : {}),
    ...(o.corpus ? { corpus: o.corpus } : {}),
    ...(o.stopAtFirst ? { stopAtFirst: true } : {}),
    ...(o.minSteps ? { minSteps: o.minSteps } : {}),
    ...(o.maxSteps ? { maxSteps: o.maxSteps } : {}),
  };
  const t0 = performance.now();
  const ticks = new Map<number, ProgressTick>();
  let plans: SpecPlans | undefined;
  let abis: string[] = [];
  const onTick = (t: ProgressTick) => {
    ticks.set(t.worker, t);
    if (!o.progress) return;
    if (abis.join() !== t.abis.join()) {
      abis = t.abis;
      plans = undefined;
    }
    const cov = new Coverage();
    for (const x of ticks.values()) cov.merge(x.coverage);
    const stats = sumStats([...ticks.values()].map((x) => x.stats));
    plans ??= new SpecPlans(spec, abis);
    const sum = summarize(spec, plans, abis, cov.calls, cov.errorsSeen);
    const elapsedMs = performance.now() - t0;
    o.progress({ elapsedMs, calls: stats.calls, sequences: stats.sequences, findings: [...ticks.values()].reduce((n, x) => n + x.findings, 0), callsPerSecond: elapsedMs > 0 ? (stats.calls * 1000) / elapsedMs : 0, ops: { reached: sum.ops.reached, total: sum.ops.total }, errors: { triggered: sum.errors.triggered, total: sum.errors.total } });
  };
  let reports: (RunReport & { machine: readonly ProgramDomain[] })[];
  if (workers === 1) {
    const r = await runJob({ ...base, worker: 0 }, (t) => onTick(t));
    reports = [r];
  } else {
    reports = await Promise.all(Array.from({ length: workers }, (_, w) => runWorker({ ...base, worker: w }, onTick)));
  }
  const machine = reports[0]?.machine ?? [];
  abis = [...new Set(machine.map((d) => d.abi))];
  plans = new SpecPlans(spec, abis);
  const cov = new Coverage();
  for (const r of reports) cov.merge(r.coverage);
  const stats = sumStats(reports.map((r) => r.stats));
  const seen = new Set<string>();
  const findings = reports
    .flatMap((r) => r.findings)
    .sort((a, b) => a.foundAfterMs - b.foundAfterMs)
    .filter((f) => (seen.has(f.signature) ? false : (seen.add(f.signature), true)));
  const elapsedMs = performance.now() - t0;
  let excluded: Record<string, number> | undefined;
  for (const r of reports) for (const [k, n] of Object.entries(r.excluded ?? {})) (excluded ??= {})[k] = (excluded[k] ?? 0) + n;
  return {
    spec: specName,
    target,
    ...(o.mutant ? { mutant: o.mutant } : {}),
    seed,
    workers,
    machine,
    elapsedMs,
    stats,
    callsPerSecond: elapsedMs > 0 ? (stats.calls * 1000) / elapsedMs : 0,
    perWorker: reports.map((r) => ({ worker: r.worker, elapsedMs: r.elapsedMs, calls: r.stats.calls, sequences: r.stats.sequences })),
    coverage: summarize(spec, plans, abis, cov.calls, cov.errorsSeen),
    findings,
    ...(excluded ? { excluded } : {}),
  };
}

function runWorker(job: WorkerJob, onTick: (t: ProgressTick) => void): Promise<RunReport & { machine: readonly ProgramDomain[] }> {
  return new Promise((resolve, reject) => {
    // From the TypeScript sources (run through tsx), the worker registers tsx's loader in its own thread first.
    const w = WORKER_FILE.endsWith('.ts')
      ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(WORKER_FILE).href)}); });`, { eval: true, workerData: job })
      : new Worker(WORKER_FILE, { workerData: job });
    w.on('message', (m: { type: string; tick?: ProgressTick; report?: RunReport & { machine: readonly ProgramDomain[] }; message?: string; usage?: boolean }) => {
      if (m.type === 'progress' && m.tick) onTick(m.tick);
      else if (m.type === 'done' && m.report) resolve(m.report);
      else if (m.type === 'error') reject(m.usage ? new FuzzUsageError(m.message ?? 'worker failed') : new Error(`fuzz worker ${job.worker}: ${m.message}`));
    });
    w.on('error', (e) => reject(new Error(`fuzz worker ${job.worker} crashed: ${e.message}`)));
    w.on('exit', (code) => {
      if (code !== 0) reject(new Error(`fuzz worker ${job.worker} exited with code ${code}`));
    });
  });
}

export { FuzzUsageError };
export type { FindingReport };
