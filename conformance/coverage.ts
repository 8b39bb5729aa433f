/**
 * Declared errors exercised by conformance scenarios: the `covers` claims of the scenarios that
 * pass on the reference VMM. The coverage table (reference-vmm/coverage.ts) shows them next to
 * the VMM unit tests' claims. A claim must name an error the spec declares for that operation
 * (or hypercall), else the scenario is at fault and the error says which.
 */
import type { Claims } from '../reference-vmm/coverage.js';
import { findErrorDecl } from '../reference-vmm/coverage.js';
import { xenSpec } from '../spec/index.js';
import type { Spec } from '../spec/model.js';
import { runScenarios } from './runner.js';
import { ScenarioError, type Scenario } from './scenario.js';
import { loadSuite } from './suite.js';
import { referenceTarget } from './targets/reference.js';

/** Checks every `covers` claim names a declared error; throws a ScenarioError naming the first that does not. */
export function checkCovers(spec: Spec, scenarios: readonly Scenario[]): void {
  for (const s of scenarios) {
    for (const c of s.covers ?? []) {
      if (!findErrorDecl(spec, c.op, c.code)) throw new ScenarioError(s.id, `covers ${c.op} ${c.code}, which the spec does not declare`);
    }
  }
}

const suiteClaims = new WeakMap<Spec, Promise<Claims>>();

/** The claims of the scenarios that pass on the reference VMM (default: the whole suite, run once per process). */
export function scenarioClaims(spec: Spec = xenSpec, scenarios?: readonly Scenario[]): Promise<Claims> {
  if (scenarios) return claimsOf(spec, scenarios);
  let p = suiteClaims.get(spec);
  if (!p) suiteClaims.set(spec, (p = claimsOf(spec, loadSuite(spec))));
  return p;
}

async function claimsOf(spec: Spec, scenarios: readonly Scenario[]): Promise<Claims> {
  const claiming = scenarios.filter((s) => (s.covers ?? []).length > 0);
  checkCovers(spec, claiming);
  const outcomes = await runScenarios(claiming, referenceTarget(), { spec });
  const out = new Map<string, Map<string, Set<string>>>();
  claiming.forEach((s, i) => {
    if (outcomes[i]?.status !== 'pass') return;
    for (const c of s.covers ?? []) {
      let codes = out.get(c.op);
      if (!codes) out.set(c.op, (codes = new Map()));
      let ids = codes.get(c.code);
      if (!ids) codes.set(c.code, (ids = new Set()));
      ids.add(s.id);
    }
  });
  return out;
}
