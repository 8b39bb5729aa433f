/**
 * `hyperabi xen diff`: the same scenarios on real Xen (the live target) and on the reference
 * VMM, and every place where they disagree.
 *
 * Two outcomes are compared check by check (both are judged from the same lowering of the
 * scenario): a divergence is a check one target passes and the other fails, or an exact
 * check (a number, bytes, an event bit) where the two observed different values. Checks
 * that accept any value or any non-error result compare only their verdicts: what they
 * observe depends on the host (frame numbers, memory sizes). A scenario that errors or is
 * skipped on one side only is a divergence too; a scenario with `limits: { live-xen }` is
 * listed as an exception with its reason and not run on Xen.
 */
import { lower, programDomains } from '../conformance/lower.js';
import { runScenarios, type CheckOutcome, type Outcome } from '../conformance/runner.js';
import type { Scenario } from '../conformance/scenario.js';
import type { Target } from '../conformance/target.js';
import { referenceLayouts, referenceTarget } from '../conformance/targets/reference.js';
import { xenSpec } from '../spec/index.js';
import type { Spec } from '../spec/model.js';
import { LIVE_XEN } from './target.js';

export interface Divergence {
  scenario: string;
  /** 1-based step number, or undefined for the scenario as a whole. */
  step?: number;
  what: string;
  expected: string;
  reference: string;
  xen: string;
}

export interface DiffReport {
  scenarios: number;
  /** Scenarios run on both targets. */
  compared: number;
  /** Hypercalls (call instructions) in the compared scenarios. */
  hypercalls: number;
  /** Scenarios that carry a live-xen limit, with the reason and their hypercalls. */
  exceptions: { scenario: string; reason: string; hypercalls: number }[];
  /** Scenarios neither side can run (a machine the live target does not build), with the reason. */
  unsupported: { scenario: string; reason: string }[];
  divergences: Divergence[];
  /** Scenarios that agree on every check. */
  agreeing: number;
  /** Each target's outcome per scenario. */
  outcomes: { scenario: string; reference: Outcome; xen: Outcome }[];
  ms: { reference: number; xen: number };
  notes: string[];
}

const loose = (c: CheckOutcome) => c.expected === 'anything' || c.expected === 'not an error';

/** Compares two outcomes of one scenario. */
export function compareOutcomes(id: string, ref: Outcome, xen: Outcome): Divergence[] {
  const broken = (o: Outcome) => o.status === 'error' || o.status === 'skip';
  if (broken(ref) || broken(xen)) {
    if (ref.status === xen.status && ref.reason === xen.reason) return [];
    return [{ scenario: id, what: 'outcome', expected: 'both run', reference: `${ref.status}${ref.reason ? `: ${ref.reason}` : ''}`, xen: `${xen.status}${xen.reason ? `: ${xen.reason}` : ''}` }];
  }
  const out: Divergence[] = [];
  ref.checks.forEach((r, i) => {
    const x = xen.checks[i];
    if (!x) {
      out.push({ scenario: id, step: r.step + 1, what: r.what, expected: r.expected, reference: r.actual, xen: 'no check' });
      return;
    }
    const differ = r.ok !== x.ok || (!loose(r) && r.actual !== x.actual);
    if (differ) out.push({ scenario: id, step: r.step + 1, what: r.what, expected: r.expected, reference: r.actual, xen: x.actual });
  });
  return out;
}

function callsOf(spec: Spec, s: Scenario): number {
  try {
    return lower(spec, s, referenceLayouts(programDomains(s))).program.instrs.filter((i) => i.op === 'call').length;
  } catch {
    return 0;
  }
}

/** Runs scenarios on both targets and compares them. `live` is the live target (liveXenTarget()); the reference side is its twin unless given. */
export async function diffScenarios(
  scenarios: readonly Scenario[],
  live: Target,
  options: { spec?: Spec; progress?: (what: string) => void; reference?: Target } = {},
): Promise<DiffReport> {
  const spec = options.spec ?? xenSpec;
  const reference = options.reference ?? ('twin' in live && typeof live.twin === 'function' ? (live.twin as () => Target)() : referenceTarget());
  options.progress?.(`running ${scenarios.length} scenarios on the reference VMM`);
  let t0 = performance.now();
  const ref = await runScenarios(scenarios, reference, { spec });
  const refMs = performance.now() - t0;
  options.progress?.(`running them on real Xen (${live.name})`);
  t0 = performance.now();
  const xen = await runScenarios(scenarios, live, { spec });
  const xenMs = performance.now() - t0;
  const report: DiffReport = { scenarios: scenarios.length, compared: 0, hypercalls: 0, exceptions: [], unsupported: [], divergences: [], agreeing: 0, outcomes: [], ms: { reference: refMs, xen: xenMs }, notes: [] };
  const notes = new Set<string>();
  scenarios.forEach((s, i) => {
    const r = ref[i] as Outcome;
    const x = xen[i] as Outcome;
    report.outcomes.push({ scenario: s.id, reference: r, xen: x });
    const limit = s.limits?.[LIVE_XEN];
    if (limit !== undefined) {
      report.exceptions.push({ scenario: s.id, reason: limit, hypercalls: callsOf(spec, s) });
      return;
    }
    if (x.status === 'skip') {
      report.unsupported.push({ scenario: s.id, reason: x.reason ?? '' });
      return;
    }
    report.compared++;
    report.hypercalls += callsOf(spec, s);
    for (const n of x.notes ?? []) notes.add(n.replace(/^instruction \d+: /, '').replace(/spun \d+ ns/, 'spins as long as asked'));
    const d = compareOutcomes(s.id, r, x);
    if (d.length === 0) report.agreeing++;
    report.divergences.push(...d);
  });
  report.notes = [...notes];
  return report;
}

/** The report as text, one divergence a line. */
export function formatDiff(r: DiffReport): string {
  const lines: string[] = [];
  for (const d of r.divergences) {
    lines.push(`DIVERGE ${d.scenario}${d.step !== undefined ? ` step ${d.step}` : ''}: ${d.what}: expected ${d.expected}; reference ${d.reference}; Xen ${d.xen}`);
  }
  for (const e of r.exceptions) lines.push(`EXCEPT  ${e.scenario} (${e.hypercalls} hypercalls): ${e.reason}`);
  for (const u of r.unsupported) lines.push(`SKIP    ${u.scenario}: ${u.reason}`);
  // Compared scenarios whose expectations neither target meets: the scenario is wrong, or both are.
  for (const o of r.outcomes) {
    if (o.xen.status === 'skip') continue;
    if (o.reference.status === 'fail' || o.reference.status === 'error') lines.push(`BOTH-${o.reference.status.toUpperCase()} ${o.scenario}: reference: ${o.reference.reason ?? ''}`);
  }
  for (const n of r.notes) lines.push(`NOTE    ${n}`);
  const exceptCalls = r.exceptions.reduce((n, e) => n + e.hypercalls, 0);
  const total = r.hypercalls + exceptCalls;
  lines.push(
    `${r.compared} scenarios compared (${r.hypercalls} hypercalls), ${r.agreeing} agree, ${r.divergences.length} divergences; ` +
      `${r.exceptions.length} exceptions (${exceptCalls} hypercalls, ${total ? ((100 * exceptCalls) / total).toFixed(1) : '0.0'}%), ${r.unsupported.length} not runnable on dom0; ` +
      `reference ${(r.ms.reference / 1000).toFixed(1)} s, Xen ${(r.ms.xen / 1000).toFixed(1)} s`,
  );
  return `${lines.join('\n')}\n`;
}
