/**
 * The fuzzer's throughput (`npm run bench -- fuzz`), issue 8's goal: single worker,
 * differential against the reference VMM (every call on the model and on the target, results
 * and the memory each call may touch compared) with the target's invariants checked after
 * every call: over 200,000 hypercalls per second. One task is ~1000 hypercalls (whole
 * sequences until at least 1000 calls, so ops/s × 1000 is hypercalls/s within a sequence's
 * worth); the scaling with worker threads is measured apart (timed runs,
 * HYPERABI_BENCH_FUZZ_SECONDS each, default 10) and printed before the table.
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

  // Scaling with worker threads: timed runs long enough that worker start-up (each thread loads
  // the sources) is a small part; the wall rate counts it, the per-worker rates do not.
  const seconds = Number(process.env['HYPERABI_BENCH_FUZZ_SECONDS'] ?? 10);
  if (!(seconds > 0)) throw new Error(`HYPERABI_BENCH_FUZZ_SECONDS must be a positive number of seconds, not ${JSON.stringify(process.env['HYPERABI_BENCH_FUZZ_SECONDS'])}`);
  const one = await fuzz({ workers: 1, seconds, seed: 3 });
  const two = await fuzz({ workers: 2, seconds, seed: 3 });
  const rate = (n: number) => Math.round(n).toLocaleString('en-US');
  const steady = (r: typeof one) => r.perWorker.map((w) => rate((w.calls * 1000) / w.elapsedMs)).join(' + ');
  console.log(
    `fuzz scaling (${seconds} s runs, wall time including worker start-up): ` +
      `1 worker ${rate(one.callsPerSecond)} calls/s (${one.stats.calls} calls, ${(one.elapsedMs / 1000).toFixed(1)} s); ` +
      `2 workers ${rate(two.callsPerSecond)} calls/s (${two.stats.calls} calls, ${(two.elapsedMs / 1000).toFixed(1)} s; ` +
      `per worker ${steady(two)} calls/s): ×${(two.callsPerSecond / one.callsPerSecond).toFixed(2)}`,
  );
}
