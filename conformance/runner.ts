/**
 * Runs scenarios on a target and judges what came back: pass, fail (with expected and
 * actual per check), error (the harness or target broke: crash, hang, garbage, an invariant
 * of the reference VMM) or skip (with the reason).
 */
import type { Spec } from '../spec/model.js';
import { xenSpec } from '../spec/index.js';
import { errnos, statuses } from '../reference-vmm/errno.js';
import { lower, programDomains, type Check, type Lowered } from './lower.js';
import type { InstrResult, Program } from './program.js';
import { ScenarioError, type Scenario } from './scenario.js';
import type { ExecResult, Target } from './target.js';

export type Status = 'pass' | 'fail' | 'error' | 'skip';

/** One check's verdict. */
export interface CheckOutcome {
  step: number;
  what: string;
  expected: string;
  actual: string;
  ok: boolean;
}

export interface Outcome {
  id: string;
  status: Status;
  /** Why it failed, errored or was skipped, in one line. */
  reason?: string;
  checks: CheckOutcome[];
  ms: number;
  notes?: string[];
}

const errnoNames = new Map<number, string>();
function errnoName(spec: Spec, v: bigint): string | undefined {
  if (errnoNames.size === 0) for (const [name, v] of Object.entries(errnos(spec))) if (!errnoNames.has(v)) errnoNames.set(v, name);
  return errnoNames.get(Number(v));
}

function showResult(spec: Spec, v: bigint): string {
  const n = v < 0n ? errnoName(spec, v) : undefined;
  return n ? `-${n} (${v})` : v < 0n || v < 10n ? `${v}` : `${v} (0x${v.toString(16)})`;
}

const statusNames = new Map<number, string>();
/** A field value: status fields (…status) by their status name (GNTST_okay), others as results. */
function showField(spec: Spec, path: string, v: bigint): string {
  if (!/(^|\.)status$/.test(path)) return showResult(spec, v);
  if (statusNames.size === 0) for (const [name, x] of Object.entries(statuses(spec))) if (!statusNames.has(x)) statusNames.set(x, name);
  const n = statusNames.get(Number(v));
  return n ? `${n} (${v})` : `${v}`;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Judges a program's results against the checks of its scenario. */
export function judge(spec: Spec, lowered: Lowered, exec: ExecResult): { checks: CheckOutcome[]; missing: boolean } {
  const out: CheckOutcome[] = [];
  let missing = false;
  for (const c of lowered.checks) {
    const r: InstrResult | undefined = exec.results[c.instr];
    if (r === undefined) {
      missing = true;
      out.push({ step: c.step, what: c.what, expected: describeExpect(spec, c), actual: 'not run', ok: false });
      continue;
    }
    out.push(checkOne(spec, c, r));
  }
  return { checks: out, missing };
}

function describeExpect(spec: Spec, c: Check): string {
  switch (c.kind) {
    case 'result':
      return typeof c.expect === 'bigint' ? showResult(spec, c.expect) : c.expect === 'ok' ? 'not an error' : 'anything';
    case 'fields':
      return c.expect.map((f) => `${f.path}=${showField(spec, f.path, f.value)}`).join(', ');
    case 'memory':
      return c.expect === 'fault' ? 'a fault' : hex(c.expect);
    case 'event':
      return c.expect ? 'set' : 'clear';
  }
}

function checkOne(spec: Spec, c: Check, r: InstrResult): CheckOutcome {
  const base = { step: c.step, what: c.what, expected: describeExpect(spec, c) };
  switch (c.kind) {
    case 'result': {
      if (r.op !== 'call') return { ...base, actual: 'no call result', ok: false };
      const v = BigInt.asIntN(c.bits, r.result);
      const ok = c.expect === 'any' ? true : c.expect === 'ok' ? !(v < 0n && v >= -4095n) : v === BigInt.asIntN(c.bits, c.expect);
      return { ...base, actual: showResult(spec, v), ok };
    }
    case 'fields': {
      if (r.op !== 'read' || !('bytes' in r)) return { ...base, actual: 'the argument could not be read back', ok: false };
      const value = c.codec.decode(new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength), 0);
      const bad: string[] = [];
      const seen: string[] = [];
      for (const f of c.expect) {
        const got = pick(value, f.path);
        const g = typeof got === 'bigint' ? got : typeof got === 'number' ? BigInt(got) : undefined;
        const gs = g === undefined ? String(got) : showField(spec, f.path, BigInt.asIntN(f.bits, g));
        seen.push(`${f.path}=${gs}`);
        if (g === undefined || BigInt.asUintN(f.bits, g) !== BigInt.asUintN(f.bits, f.value)) bad.push(f.path);
      }
      return { ...base, actual: seen.join(', '), ok: bad.length === 0 };
    }
    case 'memory':
      if (r.op !== 'read') return { ...base, actual: 'no read', ok: false };
      if ('fault' in r) return { ...base, actual: 'a fault', ok: c.expect === 'fault' };
      return { ...base, actual: hex(r.bytes), ok: c.expect !== 'fault' && hex(r.bytes) === hex(c.expect) };
    case 'event': {
      if (r.op !== 'read' || !('bytes' in r)) return { ...base, actual: 'shared_info not readable', ok: false };
      const set = (((r.bytes[0] ?? 0) >> c.bit) & 1) === 1;
      return { ...base, actual: set ? 'set' : 'clear', ok: set === c.expect };
    }
  }
}

function pick(v: unknown, path: string): unknown {
  let cur = v;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** The outcome of one scenario from its judged checks. */
export function outcomeOf(id: string, judged: { checks: CheckOutcome[]; missing: boolean }, exec: ExecResult, ms: number): Outcome {
  const failed = judged.checks.find((c) => !c.ok && c.actual !== 'not run');
  const notes = exec.notes && exec.notes.length > 0 ? { notes: exec.notes } : {};
  if (exec.error !== undefined && (failed === undefined || judged.missing)) return { id, status: 'error', reason: exec.error, checks: judged.checks, ms, ...notes };
  if (failed) return { id, status: 'fail', reason: `step ${failed.step + 1}: ${failed.what}: expected ${failed.expected}, got ${failed.actual}`, checks: judged.checks, ms, ...notes };
  if (judged.missing) return { id, status: 'error', reason: 'the target returned fewer results than instructions', checks: judged.checks, ms, ...notes };
  return { id, status: 'pass', checks: judged.checks, ms, ...notes };
}

export interface RunOptions {
  spec?: Spec;
  /** Told after each scenario. */
  progress?: (done: number, total: number, last: Outcome) => void;
  /** The most a scenario may take (ms) on an interactive target before it is an error (default 10 s). */
  scenarioTimeoutMs?: number;
}

/** Runs scenarios on a target; outcomes in the same order. */
export async function runScenarios(scenarios: readonly Scenario[], target: Target, options: RunOptions = {}): Promise<Outcome[]> {
  const spec = options.spec ?? xenSpec;
  const outcomes: Outcome[] = new Array<Outcome>(scenarios.length);
  const timeout = options.scenarioTimeoutMs ?? 10_000;
  let done = 0;
  const finish = (i: number, o: Outcome) => {
    outcomes[i] = o;
    options.progress?.(++done, scenarios.length, o);
  };
  const skipReason = (s: Scenario): string | undefined => {
    const lim = s.limits?.[target.name] ?? (target.kind === 'batch' ? s.limits?.['live-xen'] : undefined);
    if (lim && target.name !== 'reference') return lim;
    return target.unsupported?.(programDomains(s)) ?? (target.kind === 'interactive' ? target.skip?.(s.id, s) : undefined);
  };
  if (target.kind === 'batch') {
    const batch: { i: number; lowered: Lowered }[] = [];
    scenarios.forEach((s, i) => {
      const why = skipReason(s);
      if (why) return finish(i, { id: s.id, status: 'skip', reason: why, checks: [], ms: 0 });
      try {
        batch.push({ i, lowered: lower(spec, s, target.layouts(programDomains(s))) });
      } catch (e) {
        finish(i, { id: s.id, status: 'error', reason: `cannot lower: ${(e as Error).message}`, checks: [], ms: 0 });
      }
    });
    const t0 = performance.now();
    const results = await target.runAll(batch.map((b) => b.lowered.program));
    const per = batch.length > 0 ? (performance.now() - t0) / batch.length : 0;
    batch.forEach((b, k) => {
      const exec = results[k] ?? { results: [], error: 'the target returned no result for this program' };
      finish(b.i, outcomeOf(scenarios[b.i]!.id, judge(spec, b.lowered, exec), exec, per));
    });
    return outcomes;
  }
  for (const [i, s] of scenarios.entries()) {
    const why = skipReason(s);
    if (why) {
      finish(i, { id: s.id, status: 'skip', reason: why, checks: [], ms: 0 });
      continue;
    }
    const t0 = performance.now();
    let session;
    try {
      session = await withTimeout(target.open(programDomains(s), s.machine.preemptEvery !== undefined ? { preemptEvery: s.machine.preemptEvery } : undefined), timeout, 'creating the machine');
    } catch (e) {
      finish(i, { id: s.id, status: 'error', reason: `cannot create the machine: ${(e as Error).message}`, checks: [], ms: performance.now() - t0 });
      continue;
    }
    let lowered: Lowered;
    try {
      lowered = lower(spec, s, session.layouts);
    } catch (e) {
      await session.close().catch(() => undefined);
      const bad = e instanceof ScenarioError;
      finish(i, { id: s.id, status: 'error', reason: `${bad ? 'bad scenario' : 'cannot lower'}: ${(e as Error).message}`, checks: [], ms: performance.now() - t0 });
      continue;
    }
    let exec: ExecResult;
    try {
      exec = await withTimeout(session.exec(lowered.program.instrs), timeout, 'running the scenario');
    } catch (e) {
      exec = { results: [], error: (e as Error).message };
    }
    await session.close().catch(() => undefined);
    finish(i, outcomeOf(s.id, judge(spec, lowered, exec), exec, performance.now() - t0));
  }
  return outcomes;
}

/** Lowers and runs one scenario on the reference VMM synchronously (tests, fuzzing). */
export function lowerFor(spec: Spec, s: Scenario, layouts: Parameters<typeof lower>[2]): Lowered {
  return lower(spec, s, layouts);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms);
    }),
  ]);
}

export type { Program };
