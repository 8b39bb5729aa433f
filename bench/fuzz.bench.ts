/**
 * The fuzzer's throughput (`npm run bench -- fuzz`), issue 8's goal: single worker,
 * differential against the reference VMM (every call on the model and on the target, results
 * and the memory each call may touch compared) with the target's invariants checked after
 * every call: over 200,000 hypercalls per second. One task is ~1000 hypercalls (whole
 * sequences until at least 1000 calls, so ops/s × 1000 is hypercalls/s within a sequence's
 * worth); the scaling with worker threads is measured apart (fixed sequence counts) and
 * printed before the table.
 */
import type { Bench } from 'tinybench';
import { LocalFuzzer } from '../fuzz/engine.js';
import { fuzz } from '../fuzz/index.js';
import { FULL_MACHINE } from '../fuzz/machine.js';
import { SpecPlans } from '../fuzz/plan.js';
import { xenSpec } from '../spec/index.js';

const CALLS = 1000;

export async function register(bench: Bench): Promise<void> {
  const plans = new SpecPlans(xenSpec, [...new Set(FULL_MACHINE.map((d) => d.abi))]);
  const fz = new LocalFuzzer({ spec: xenSpec, plans, domains: FULL_MACHINE, seed: 1 });
  let seq = 0;
  // Warm the corpus and the JIT as a run would be after its first seconds.
  while (fz.stats.calls < 50_000) fz.runSequence(seq++);
  bench.add(`fuzz: single worker, differential vs the reference VMM, invariants after every call ×${CALLS} hypercalls`, () => {
    const end = fz.stats.calls + CALLS;
    while (fz.stats.calls < end) {
      if (fz.runSequence(seq++)) throw new Error('the fuzzer found a divergence on the correct reference VMM');
    }
  });

  // Scaling with worker threads: the same number of sequences per worker.
  const per = 1500;
  const one = await fuzz({ workers: 1, sequences: per, seed: 3 });
  const two = await fuzz({ workers: 2, sequences: per, seed: 3 });
  const rate = (r: typeof one) => Math.round(r.callsPerSecond).toLocaleString('en-US');
  console.log(
    `fuzz scaling (${per} sequences per worker, wall time including worker start-up): ` +
      `1 worker ${rate(one)} calls/s (${one.stats.calls} calls, ${(one.elapsedMs / 1000).toFixed(1)} s); ` +
      `2 workers ${rate(two)} calls/s (${two.stats.calls} calls, ${(two.elapsedMs / 1000).toFixed(1)} s; ` +
      `per worker ${two.perWorker.map((w) => Math.round((w.calls * 1000) / w.elapsedMs).toLocaleString('en-US')).join(', ')} calls/s): ×${(two.callsPerSecond / one.callsPerSecond).toFixed(2)}`,
  );
}
