/**
 * Spec coverage of a certification run: which operation ids of the profile's scope the
 * scenarios called, and which declared errors they provoked and checked.
 *
 * - An operation is exercised by a scenario that ran (not skipped) and has a call step of
 *   that id, or a raw hypercall step whose number (and, for a multiplexed call, first
 *   argument) names it.
 * - A declared error is exercised by a scenario that lists it in `covers: [{op, code}]`, or
 *   that expects it: a step of the operation expecting `-E<CODE>` as its result, or a
 *   status field equal to a declared status code (GNTST_...). Errors an operation declares
 *   count per operation (`<operation id> <code>`); errors its hypercall declares for every
 *   operation count once per hypercall (`<hypercall> <code>`).
 * "Passed" counts only scenarios that passed.
 */
import type { Spec } from '../../spec/model.js';
import { findAbi, findArch, findOperation } from '../../spec/query.js';
import { declaredErrors } from '../../reference-vmm/coverage.js';
import { abiSelected, profileOperations, type Profile } from '../profiles.js';
import type { Scenario, Step } from '../scenario.js';
import type { Status } from '../runner.js';
import type { Coverage } from './model.js';

/** A (operation id, code) pair a scenario claims to cover (issue 6's optional `covers` field). */
interface Covers {
  op: string;
  code: string;
}

const INT = /^(0x[0-9a-f]+|[0-9]+)$/i;

function intOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && INT.test(v.trim())) return Number(BigInt(v.trim()));
  return undefined;
}

/** The operation id a raw hypercall step calls, when its number (and selector) are literal. */
function rawOperation(spec: Spec, step: Extract<Step, { hypercall: unknown }>): string | undefined {
  const nr = step.hypercall.nr;
  const named = typeof nr === 'string' && nr.startsWith('__HYPERVISOR_') ? spec.hypercalls.find((h) => `__HYPERVISOR_${h.name}` === nr) : undefined;
  const n = intOf(nr);
  const h = named ?? (n === undefined ? undefined : spec.hypercalls.find((x) => x.number === n));
  if (!h) return undefined;
  if (!h.subops) return h.name;
  const sel = step.hypercall.args?.[0];
  const v = intOf(sel);
  const op = h.subops.ops.find((o) => (typeof sel === 'string' && o.name === sel) || (v !== undefined && o.value === v));
  return op ? `${h.name}$${op.name}` : undefined;
}

const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : [];

/**
 * Where a declared error lives: `<operation id> <code>` when the operation declares it,
 * `<hypercall> <code>` when the hypercall itself does (any of its operations), else undefined.
 */
export function errorKey(spec: Spec, op: string, code: string): string | undefined {
  const found = findOperation(spec, op);
  const h = found?.hypercall ?? spec.hypercalls.find((x) => x.name === op);
  if (found?.op?.errors.some((e) => e.code === code)) return `${op} ${code}`;
  if (h?.errors.some((e) => e.code === code)) return `${h.name} ${code}`;
  return undefined;
}

/** The operations a scenario calls and the errors it provokes (by the rules above). */
export function scenarioUses(spec: Spec, s: Scenario): { ops: Set<string>; errors: Set<string> } {
  const ops = new Set<string>();
  const errors = new Set<string>();
  const add = (op: string, code: string, via?: 'status') => {
    const k = errorKey(spec, op, code);
    if (!k) return;
    if (via && !declaredErrors(spec, op).some((d) => d.code === code && d.via === 'status')) return;
    errors.add(k);
  };
  const expectResult = (op: string, expect: unknown) => {
    if (typeof expect === 'string' && /^-E[A-Z0-9]+$/.test(expect.trim())) add(op, expect.trim().slice(1));
  };
  for (const st of s.steps) {
    if ('call' in st) {
      ops.add(st.call);
      const e = st.expect;
      if (typeof e === 'object' && e !== null) {
        expectResult(st.call, e.result);
        for (const v of strings(e.arg)) add(st.call, v.trim(), 'status');
      } else expectResult(st.call, e);
    } else if ('hypercall' in st) {
      const op = rawOperation(spec, st);
      if (op) {
        ops.add(op);
        expectResult(op, st.expect);
      }
    }
  }
  for (const c of (s as { covers?: Covers[] }).covers ?? []) add(c.op, c.code);
  return { ops, errors };
}

/** Coverage of a profile's operations and declared errors by a run's scenarios and outcomes. */
export function specCoverage(spec: Spec, profile: Profile, runs: readonly { scenario: Scenario; status: Status }[]): Coverage {
  const opIds = profileOperations(spec, profile);
  const abi = findAbi(spec, profile.abi);
  const arch = abi ? findArch(spec, abi.arch) : undefined;
  const errorIds = new Set<string>();
  const hypercallsDone = new Set<string>();
  for (const op of opIds) {
    const found = findOperation(spec, op)!;
    for (const e of found.op?.errors ?? []) if (arch && abiSelected(spec, e.abis, profile.abi)) errorIds.add(`${op} ${e.code}`);
    if (hypercallsDone.has(found.hypercall.name)) continue;
    hypercallsDone.add(found.hypercall.name);
    for (const e of found.hypercall.errors) if (arch && abiSelected(spec, e.abis, profile.abi)) errorIds.add(`${found.hypercall.name} ${e.code}`);
  }
  const opCount = new Map(opIds.map((id) => [id, { scenarios: 0, passed: 0 }]));
  const errCount = new Map([...errorIds].map((id) => [id, { scenarios: 0, passed: 0 }]));
  for (const r of runs) {
    if (r.status === 'skip') continue;
    const u = scenarioUses(spec, r.scenario);
    for (const [set, counts] of [
      [u.ops, opCount],
      [u.errors, errCount],
    ] as const) {
      for (const id of set) {
        const c = counts.get(id);
        if (!c) continue;
        c.scenarios++;
        if (r.status === 'pass') c.passed++;
      }
    }
  }
  const part = (counts: Map<string, { scenarios: number; passed: number }>) => {
    const items = [...counts].map(([id, c]) => ({ id, ...c }));
    return {
      total: items.length,
      exercised: items.filter((i) => i.scenarios > 0).length,
      passed: items.filter((i) => i.passed > 0).length,
      items,
      missing: items.filter((i) => i.scenarios === 0).map((i) => i.id),
    };
  };
  return { operations: part(opCount), errors: part(errCount) };
}
