/**
 * Certification of a declared subset. A target (a testee, in its hello) may declare the
 * operations it implements and the scenarios it claims (conformance/protocol/subset.ts).
 * The scenarios of the profile outside that subset are *not claimed*: they are not run,
 * the report lists them as skipped with the reason, and they do not count against the run;
 * the verdict then covers the Required scenarios inside the subset, and says so: "certified
 * for a subset of <profile>: N of M operations" (docs/certify.md).
 */
import type { Spec } from '../../spec/model.js';
import { profileOperations, scenarioOperation, type Profile } from '../profiles.js';
import { outsideSubset, type Subset as Declared } from '../protocol/subset.js';
import type { Scenario } from '../scenario.js';
import type { Subset } from './model.js';

/** The reason a scenario is not claimed by a declared subset ("not claimed: ..."), or undefined when it is claimed. */
export function notClaimedReason(spec: Spec, declared: Declared, s: Scenario): string | undefined {
  const why = outsideSubset(spec, declared, s);
  return why === undefined ? undefined : `not claimed: ${why}`;
}

/** Whether a target declared a subset at all (an ops= or scenarios= list). */
export const declaresSubset = (d: Declared | undefined): d is Declared => d !== undefined && (d.ops !== undefined || d.scenarios !== undefined);

/**
 * The subset record of a run: what was declared, the operations of the profile inside it
 * (listed in ops=, by themselves or by their hypercall; with no ops= list, the operations
 * that claimed scenarios are about) and how many of the run's scenarios it claims.
 */
export function subsetRecord(spec: Spec, profile: Profile, declared: Declared, scenarios: readonly Scenario[]): Subset {
  const claimed = scenarios.filter((s) => outsideSubset(spec, declared, s) === undefined);
  const ops = declared.ops ? new Set(declared.ops) : undefined;
  const about = new Set(claimed.map(scenarioOperation));
  const all = profileOperations(spec, profile);
  const inside = all.filter((op) => (ops ? ops.has(op) || ops.has(op.split('$')[0]!) : about.has(op)));
  return {
    ...(declared.ops ? { ops: [...declared.ops] } : {}),
    ...(declared.scenarios ? { scenarios: [...declared.scenarios] } : {}),
    operations: { claimed: inside, total: all.length },
    claimedScenarios: claimed.length,
  };
}

/** Whether a subset leaves part of the profile out (a scenario not claimed, or an operation). */
export const leavesOut = (subset: Subset | undefined, notClaimed: number): boolean =>
  subset !== undefined && (notClaimed > 0 || subset.operations.claimed.length < subset.operations.total);

/** "a subset of <profile>: N of M operations (K of L scenarios)". */
export const subsetWords = (profile: string, subset: Subset, scenarios: number): string =>
  `a subset of ${profile}: ${subset.operations.claimed.length} of ${subset.operations.total} operations (${subset.claimedScenarios} of ${scenarios} scenarios claimed)`;
