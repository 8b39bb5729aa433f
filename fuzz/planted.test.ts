/**
 * The planted-bug table: every planted bug (the mutation check's and the fuzzer's own) is
 * found by one worker within 60 s, reported as a reproducer of at most 8 calls that passes on
 * the reference VMM and fails (or errors) on the bug. Prints time to find and reproducer
 * length per bug. Timing is reported, not asserted beyond the 60 s budget each run has.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { xenSpec } from '../spec/index.js';
import { FULL_MACHINE } from './machine.js';
import { allPlanted } from './planted.js';
import { SpecPlans } from './plan.js';
import { runLocal, type FindingReport } from './run.js';

const BUDGET_S = 60;
const plans = new SpecPlans(xenSpec, [...new Set(FULL_MACHINE.map((d) => d.abi))]);
const rows: { id: string; found?: FindingReport; calls: number }[] = [];

// The whole table takes about 30 s on this 2-core machine, so it is part of every `npm test`;
// `npm run test:planted` runs it alone, and HYPERABI_PLANTED_SEED=S runs it with another seed.
const SEED = Number(process.env['HYPERABI_PLANTED_SEED'] ?? 1);
if (!Number.isSafeInteger(SEED) || SEED < 0) throw new Error(`HYPERABI_PLANTED_SEED must be a non-negative integer, not ${JSON.stringify(process.env['HYPERABI_PLANTED_SEED'])}`);

describe('planted bugs', () => {
  afterAll(() => {
    const line = (a: string, b: string, c: string, d: string, e: string) => `${a.padEnd(40)} ${b.padStart(8)} ${c.padStart(6)} ${d.padEnd(12)} ${e}`;
    const out = [line('planted bug', 'found in', 'calls', 'kind', 'operation (reproducer: reference / bug)')];
    for (const r of rows) {
      const f = r.found;
      out.push(f ? line(r.id, `${(f.foundAfterMs / 1000).toFixed(1)} s`, String(f.calls), f.kind, `${f.op} (${f.verified.reference} / ${f.verified.target})`) : line(r.id, 'NOT', '—', '—', `not found in ${BUDGET_S} s (${r.calls} calls)`));
    }
    const found = rows.filter((r) => r.found);
    out.push(`seed ${SEED}: ${found.length}/${rows.length} found; median ${median(found.map((r) => r.found!.foundAfterMs / 1000)).toFixed(1)} s, longest reproducer ${Math.max(0, ...found.map((r) => r.found!.calls))} calls`);
    console.log(out.join('\n'));
  });

  for (const m of allPlanted()) {
    it(m.id, { timeout: (BUDGET_S + 60) * 1000 }, async () => {
      const r = await runLocal({ spec: xenSpec, plans, domains: FULL_MACHINE, factory: m.factory, ...(m.options ? { vmm: m.options } : {}), mutant: m.id, seed: SEED, seconds: BUDGET_S, stopAtFirst: true });
      const f = r.findings[0];
      rows.push({ id: m.id, ...(f ? { found: f } : {}), calls: r.stats.calls });
      expect(f, `${m.id} not found in ${BUDGET_S} s`).toBeDefined();
      expect(f!.calls).toBeLessThanOrEqual(8);
      expect(f!.verified.reference).toBe('pass');
      expect(['fail', 'error']).toContain(f!.verified.target);
    });
  }
});

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}
