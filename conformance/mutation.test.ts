/**
 * The mutation check (issue 6): every mutant of conformance/mutants.ts must fail or error at
 * least one scenario of the suite on the reference target, and each catching scenario must
 * pass on the unmutated VMM built the same way (its control), so a catch is the mutant's doing.
 *
 * Speed: scenarios are lowered once, and a screening pass runs them on one machine per
 * machine shape, restored from a snapshot before each scenario (building a VMM costs far more
 * than running a scenario). Scenarios calling the mutant's operations go first, and the
 * screen stops after CAP catches. Every catch is then confirmed the official way: runScenarios
 * on referenceTarget({ factory }) fails or errors it, and on the control it passes. Only
 * confirmed catches count. MUTATION_FULL=1 screens every scenario for full counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineSnapshot } from '../reference-vmm/machine.js';
import { xenSpec } from '../spec/index.js';
import { findOperation } from '../spec/query.js';
import { lower, programDomains, type Lowered } from './lower.js';
import { mutantById, MutantError, mutants, type Mutant } from './mutants.js';
import { judge, outcomeOf, runScenarios, type Outcome } from './runner.js';
import type { Scenario } from './scenario.js';
import { loadSuite } from './suite.js';
import { machineConfig, referenceLayouts, referenceTarget, type ReferenceSession, type VmmFactory } from './targets/reference.js';

const FULL = process.env['MUTATION_FULL'] === '1';
const CAP = FULL ? Infinity : 3;

const byNumber = new Map(xenSpec.hypercalls.map((h) => [h.number, h.name]));
const byConstant = new Map(xenSpec.hypercalls.map((h) => [`__HYPERVISOR_${h.name}`, h.name]));

/** The operation ids and hypercall names a scenario calls. */
function callsOf(s: Scenario): Set<string> {
  const out = new Set<string>();
  for (const st of s.steps) {
    if ('call' in st) {
      out.add(st.call);
      out.add(st.call.split('$')[0] as string);
    } else if ('hypercall' in st) {
      const nr = st.hypercall.nr;
      const name = typeof nr === 'number' ? byNumber.get(nr) : (byConstant.get(nr) ?? (/^\d+$/.test(nr) ? byNumber.get(Number(nr)) : undefined));
      if (name) out.add(name);
    }
  }
  return out;
}

/** A scenario lowered for the reference target (its layouts do not depend on the VMM). */
interface Prepared {
  s: Scenario;
  lowered: Lowered;
  /** The machine shape: scenarios with the same one share a screening machine. */
  shape: string;
  calls: Set<string>;
}

/** Scenarios ordered for a mutant: those calling its operations first, then those calling their hypercalls, then the rest. */
function ordered(m: Mutant, list: readonly Prepared[]): Prepared[] {
  const rank = (p: Prepared): number => {
    if (m.ops.some((o) => p.calls.has(o))) return 0;
    if (m.ops.some((o) => p.calls.has(o.split('$')[0] as string))) return 1;
    return 2;
  };
  return list
    .map((p, i) => ({ p, i, r: rank(p) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.p);
}

/** Runs prepared scenarios on machines of one factory, one machine per shape, restored before each run. */
class Screen {
  private readonly machines = new Map<string, { session: ReferenceSession; snap: MachineSnapshot }>();
  constructor(private readonly factory: VmmFactory) {}

  run(p: Prepared): Outcome['status'] {
    let m = this.machines.get(p.shape);
    if (m === undefined) {
      const pe = p.s.machine.preemptEvery;
      const session = referenceTarget({ factory: this.factory }).openSync(p.lowered.program.domains, pe !== undefined ? { preemptEvery: pe } : undefined);
      m = { session, snap: session.vmm.machine.snapshot() };
      this.machines.set(p.shape, m);
    } else {
      m.session.vmm.machine.restore(m.snap);
    }
    const exec = m.session.execSync(p.lowered.program.instrs);
    return outcomeOf(p.s.id, judge(xenSpec, p.lowered, exec), exec, 0).status;
  }
}

interface Row {
  id: string;
  subsystem: string;
  first?: Outcome;
  caught: number;
  screened: number;
}

describe('mutation check: broken reference VMMs fail the conformance suite', () => {
  let suite: Scenario[] = [];
  let prepared: Prepared[] = [];
  const rows: Row[] = [];
  /** Ids of the scenarios the control passes in screening, by the control's options. */
  const controlPasses = new Map<string, Set<string>>();

  beforeAll(() => {
    suite = loadSuite();
    for (const s of suite) {
      const domains = programDomains(s);
      let lowered: Lowered;
      try {
        lowered = lower(xenSpec, s, referenceLayouts(domains));
      } catch {
        continue; // a scenario that cannot be lowered errors on every VMM: it can catch nothing
      }
      prepared.push({ s, lowered, shape: JSON.stringify([domains, s.machine.preemptEvery ?? null]), calls: callsOf(s) });
    }
  });

  afterAll(() => {
    prepared = [];
    if (rows.length === 0) return;
    const w = Math.max(...rows.map((r) => r.id.length));
    const lines = rows.map((r) => {
      const count = r.caught >= CAP ? `>=${CAP}` : String(r.caught);
      const first = r.first ? `${r.first.id} (${r.first.status})` : 'NOT CAUGHT';
      return `${r.id.padEnd(w)}  ${r.subsystem.padEnd(9)}  ${count.padStart(6)}  ${String(r.screened).padStart(8)}  ${first}`;
    });
    console.log(
      [
        `mutation check: ${rows.filter((r) => r.caught > 0).length} of ${rows.length} mutants caught by a suite of ${suite.length} scenarios`,
        `${'mutant'.padEnd(w)}  ${'subsystem'.padEnd(9)}  ${'caught'.padStart(6)}  ${'screened'.padStart(8)}  first catching scenario (outcome)`,
        ...lines,
      ].join('\n'),
    );
  });

  it('has at least 18 documented mutants with unique ids, real operation ids, a factory and a control', () => {
    expect(mutants.length).toBeGreaterThanOrEqual(18);
    expect(new Set(mutants.map((m) => m.id)).size).toBe(mutants.length);
    for (const m of mutants) {
      expect(m.id, m.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)+$/);
      expect(m.description.length, m.id).toBeGreaterThan(20);
      expect(m.ops.length, m.id).toBeGreaterThan(0);
      for (const op of m.ops) expect(findOperation(xenSpec, op) ?? xenSpec.hypercalls.find((h) => h.name === op), `${m.id}: ${op}`).toBeDefined();
    }
    expect(mutantById(mutants[0]!.id)).toBe(mutants[0]);
    expect(() => mutantById('no-such-mutant')).toThrow(MutantError);
  });

  it('every mutant plants on a machine of every ABI and leaves unrelated calls alone', () => {
    const domains = xenSpec.abis.map((a, i) => ({ id: i, abi: a.name, memoryPages: 16, vcpus: 2, privileged: i === 0 }));
    const nr = BigInt(xenSpec.hypercalls.find((h) => h.name === 'xen_version')!.number);
    for (const m of mutants) {
      const vmm = m.factory(machineConfig(domains), {});
      for (const [i, a] of xenSpec.abis.entries()) {
        const regs = { [a.convention.number]: nr, [a.convention.args[0] as string]: 0n, [a.convention.args[1] as string]: 0n };
        expect(vmm.hypercallSigned(i, 0, regs), `${m.id} on ${a.name}`).toBe(0x40011n);
      }
      expect(vmm.internalErrors, m.id).toEqual([]);
    }
  });

  it.each(mutants.map((m) => [m.id, m] as const))('%s fails a scenario its control passes', async (_id, m) => {
    const key = JSON.stringify(m.options ?? {});
    let passes = controlPasses.get(key);
    if (passes === undefined) {
      const screen = new Screen(m.control);
      passes = new Set(prepared.filter((p) => screen.run(p) === 'pass').map((p) => p.s.id));
      controlPasses.set(key, passes);
    }
    const screen = new Screen(m.factory);
    const catches: Outcome[] = [];
    let screened = 0;
    for (const p of ordered(m, prepared)) {
      if (!passes.has(p.s.id)) continue;
      screened++;
      const st = screen.run(p);
      if (st !== 'fail' && st !== 'error') continue;
      // Confirm the official way: a fresh machine per run, on the mutant and on its control.
      const [o] = await runScenarios([p.s], referenceTarget({ factory: m.factory }));
      const [c] = await runScenarios([p.s], referenceTarget({ factory: m.control }));
      if (!o || (o.status !== 'fail' && o.status !== 'error') || c?.status !== 'pass') continue;
      catches.push(o);
      if (catches.length >= CAP) break;
    }
    rows.push({ id: m.id, subsystem: m.subsystem, ...(catches[0] ? { first: catches[0] } : {}), caught: catches.length, screened });
    expect(catches.length, `${m.id} (${m.description}) passed all ${screened} scenarios its control passes: write a scenario under conformance/scenarios/mutants/ that a correct hypervisor passes and this one fails`).toBeGreaterThan(0);
  }, 120_000);
});
