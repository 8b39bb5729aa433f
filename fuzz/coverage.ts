/**
 * Spec coverage of a fuzzing run: which operations were called and which declared errors
 * were triggered (an operation returned the error's code: the negated errno as its result,
 * or the status value in a status field), against the operations the reference VMM
 * implements for the machine's ABIs, and against the whole spec.
 */
import { declaredErrors, operations } from '../reference-vmm/coverage.js';
import type { Spec } from '../spec/model.js';
import type { SpecPlans } from './plan.js';

export interface CoverageSummary {
  /** Implemented operations some domain of the machine can call. */
  ops: { reached: number; total: number; missing: string[] };
  /** Declared errors (operation id, code) of those operations. */
  errors: { triggered: number; total: number };
  /** Every operation of the spec's families (implemented or not) called at least once. */
  specOps: { called: number; total: number };
  /** Per operation: declared codes and which were triggered. */
  perOp: { id: string; calls: number; codes: string[]; triggered: string[] }[];
}

export function summarize(spec: Spec, plans: SpecPlans, abis: readonly string[], calls: ReadonlyMap<string, number>, errors: ReadonlyMap<string, ReadonlySet<string>>): CoverageSummary {
  const callable = new Set<string>();
  for (const abi of abis) for (const p of plans.byAbi.get(abi) ?? []) callable.add(p.id);
  const all = operations(spec);
  const universe = all.filter((e) => plans.implemented.has(e.id) && callable.has(e.id));
  const perOp = universe.map((e) => {
    const codes = [...new Set(declaredErrors(spec, e.id).map((x) => x.code))];
    const seen = errors.get(e.id) ?? new Set<string>();
    return { id: e.id, calls: calls.get(e.id) ?? 0, codes, triggered: codes.filter((c) => seen.has(c)) };
  });
  const reached = perOp.filter((o) => o.calls > 0);
  return {
    ops: { reached: reached.length, total: perOp.length, missing: perOp.filter((o) => o.calls === 0).map((o) => o.id) },
    errors: { triggered: perOp.reduce((n, o) => n + o.triggered.length, 0), total: perOp.reduce((n, o) => n + o.codes.length, 0) },
    specOps: { called: all.filter((e) => (calls.get(e.id) ?? 0) > 0).length, total: all.length },
    perOp,
  };
}

export const pct = (a: number, b: number): string => (b === 0 ? '—' : `${((100 * a) / b).toFixed(1)}%`);
