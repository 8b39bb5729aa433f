/**
 * Derived scenarios (issue 6): generated from the spec, they all pass on the reference VMM; the
 * expectation of each is the spec's declared error (never the VMM's answer); every declared
 * error has a scenario unless a recipe table or rule says why not (listed in the output).
 */
import { describe, expect, it } from 'vitest';
import { xenSpec } from '../spec/index.js';
import { declaredErrors, operations, VMM_FAMILIES } from '../reference-vmm/coverage.js';
import { derive, formatSummary } from './derive.js';
import { runScenarios } from './runner.js';
import { validateScenario, type CallStep, type Scenario, type Step } from './scenario.js';
import { referenceTarget } from './targets/reference.js';
import { TABLE_FIRST, TABLE_PAGES } from './derive/plan.js';
import { KERNEL_LAYOUT } from '../live-xen/build.js';

const derived = derive(xenSpec);
const { scenarios, summary } = derived;
const pv = scenarios.filter((s) => !s.id.endsWith('.arm64'));

/** The step under test: the last call or raw hypercall (memory checks may follow it). */
function underTest(s: Scenario): Step {
  const calls = s.steps.filter((st) => 'call' in st || 'hypercall' in st);
  return calls[calls.length - 1] as Step;
}

describe('derived scenarios', () => {
  it('all pass on the reference VMM', async () => {
    const outcomes = await runScenarios(scenarios, referenceTarget());
    const bad = outcomes.filter((o) => o.status !== 'pass').map((o) => `${o.id}: ${o.status}: ${o.reason ?? ''}`);
    console.log(`derived scenarios: ${scenarios.length} (x86_64-pv ${pv.length}, arm64 ${scenarios.length - pv.length}); not passing: ${bad.length}`);
    expect(bad).toEqual([]);
  });

  it('number at least 450 on x86_64-pv, with a normal path for nearly every operation', () => {
    console.log(formatSummary(summary, { list: true }));
    expect(pv.length).toBeGreaterThanOrEqual(450);
    const ops = summary.operations['x86_64-pv'] ?? 0;
    expect(summary.normal['x86_64-pv']).toBeGreaterThanOrEqual(ops - 5);
  });

  it('are valid scenario documents with unique <operation id>/<case> ids, kind derived and the family of their hypercall', () => {
    const ids = new Set<string>();
    const families = new Map(xenSpec.hypercalls.map((h) => [h.name, h.family]));
    for (const s of scenarios) {
      expect(() => validateScenario(JSON.parse(JSON.stringify(s)) as unknown, s.id)).not.toThrow();
      expect(ids.has(s.id), s.id).toBe(false);
      ids.add(s.id);
      expect(s.kind).toBe('derived');
      expect(s.family).toBe(families.get(s.id.split(/[$/]/)[0] as string));
    }
  });

  it('expect what the spec declares: the errno returned, or the status in the status field, and cover that error', () => {
    let checked = 0;
    for (const s of scenarios) {
      if (/\/ok(\.|$)/.test(s.id)) {
        expect(s.covers, s.id).toBeUndefined();
        continue;
      }
      expect(s.covers?.length, s.id).toBe(1);
      const { op, code } = s.covers![0]!;
      const decl = declaredErrors(xenSpec, op).find((e) => e.code === code);
      expect(decl, `${s.id} covers ${op} ${code}`).toBeDefined();
      const step = underTest(s);
      const shown = JSON.stringify([step, ...s.steps.filter((x) => 'memory' in x)]);
      if ((decl!.via ?? 'return') === 'return') expect(shown, s.id).toContain(`"-${code}"`);
      else expect(((step as CallStep).expect as { arg?: Record<string, unknown> }).arg?.['status'], s.id).toBe(code);
      checked++;
    }
    expect(checked).toBeGreaterThan(400);
  });

  it('give every declared error of a derived operation a scenario, or a reason; value, fault and privilege triggers all have recipes', () => {
    const ops = new Set(operations(xenSpec, VMM_FAMILIES).map((e) => e.id));
    for (const e of summary.errors) {
      expect(ops.has(e.op) || xenSpec.hypercalls.some((h) => h.name === e.op), e.op).toBe(true);
      expect(e.id !== undefined || (e.reason ?? '').length > 0, `${e.abi} ${e.op} ${e.code}`).toBe(true);
    }
    const unrecipied = summary.errors.filter((e) => !e.id && e.because === 'no-recipe');
    console.log(`declared errors with no recipe: ${unrecipied.length}\n${unrecipied.map((e) => `  ${e.abi} ${e.op} ${e.code} (${e.trigger}): ${e.reason ?? ''}`).join('\n')}`);
    expect(unrecipied.filter((e) => ['value', 'fault', 'privilege'].includes(e.trigger))).toEqual([]);
    // On x86_64-pv, most declared errors have a scenario.
    const x = summary.errors.filter((e) => e.abi === 'x86_64-pv');
    expect(x.filter((e) => e.id).length / x.length).toBeGreaterThan(0.75);
  });

  it('make page tables and pinned frames of the table pages only, and pass no hypercall a pointer into them', () => {
    // A real PV kernel maps its memory; the pages a frame may be typed as a page table in are the
    // ones it maps read-only for that (the live test kernel's are these).
    expect([TABLE_FIRST, TABLE_PAGES]).toEqual([KERNEL_LAYOUT.tableFirst, KERNEL_LAYOUT.tablePages]);
    const isTable = (page: number) => page >= TABLE_FIRST && page < TABLE_FIRST + TABLE_PAGES;
    const tableCalls = /^mmuext_op\$MMUEXT_(PIN_L\d_TABLE|UNPIN_TABLE|NEW_BASEPTR|NEW_USER_BASEPTR)$/;
    let tables = 0;
    for (const s of pv) {
      for (const st of s.steps) {
        if ('call' in st && tableCalls.test(st.call)) {
          const mfn = String((st.arg as { arg1?: { mfn?: unknown } } | undefined)?.arg1?.mfn ?? '');
          const m = /^frame\((\d+)\)$/.exec(mfn);
          // Error cases may name a frame of no table (never pinned, another domain's, none at all).
          if (m && (st.expect === 'ok' || st.expect === 0)) {
            expect(isTable(Number(m[1])), `${s.id}: ${st.call} of ${mfn}`).toBe(true);
            tables++;
          }
        }
        if ('call' in st || 'hypercall' in st) {
          // Pointers the call passes (its struct's fields and its arguments): never into a table page.
          const passed = 'call' in st ? [st.arg ?? null, st.args ?? null] : [st.hypercall.args ?? null];
          for (const v of JSON.stringify(passed).match(/"@0x[0-9a-f]+/g) ?? []) {
            expect(isTable(Math.floor(Number(v.slice(2)) / 4096)), `${s.id}: a pointer ${v.slice(1)}`).toBe(false);
          }
        }
      }
    }
    expect(tables).toBeGreaterThan(20);
  });

  it('are deterministic: the same list twice', () => {
    const again = derive(xenSpec, { abis: ['x86_64-pv', 'arm64'] });
    expect(JSON.stringify(again.scenarios)).toBe(JSON.stringify(scenarios));
  });
});
