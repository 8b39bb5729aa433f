/**
 * The fuzzer's throughput (`npm run bench -- fuzz`), issue 8's goal: single worker,
 * differential against the reference VMM (every call on the model and on the target, results
 * and the memory each call may touch compared) with the target's invariants checked after
 * every call: over 200,000 hypercalls per second. One task is ~1000 hypercalls (whole
 * sequences until at least 1000 calls, so ops/s × 1000 is hypercalls/s within a sequence's
 * worth). Two more tasks replay recorded fuzz sequences on one reference VMM (without and with
 * its invariants): the part of a differential call that is the VMM's own work. The scaling
 * with worker threads is measured apart (timed runs, HYPERABI_BENCH_FUZZ_SECONDS each, default
 * 10) and printed before the table. The scaling runs use the compiled fuzzer (dist/, built
 * first: `npm run build`), as the installed CLI does: worker threads started under tsx compile
 * the sources again each and run slower.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench } from 'tinybench';
import type { Instr } from '../conformance/program.js';
import { machineConfig } from '../conformance/targets/reference.js';
import { LocalFuzzer, LocalSide } from '../fuzz/engine.js';
import type { fuzz as fuzzFn } from '../fuzz/index.js';
import { FULL_MACHINE } from '../fuzz/machine.js';
import { SpecPlans } from '../fuzz/plan.js';
import { ReferenceVmm } from '../reference-vmm/vmm.js';
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

  // Where the time goes: the same kind of sequences (recorded from this fuzzer), replayed on one
  // reference VMM from its snapshot, without and with the invariants after every call. A
  // differential call costs at least one of each (the model runs without them, the target
  // with), so these bound what the fuzzer can reach however fast its own part gets.
  const recorded: { programs: Instr[][]; calls: number }[] = [];
  let recordedCalls = 0;
  while (recordedCalls < 20 * CALLS) {
    const before = fz.stats.calls;
    const discarded = fz.stats.discarded;
    if (fz.runSequence(seq++)) throw new Error('the fuzzer found a divergence on the correct reference VMM');
    // (A sequence thrown away broke both VMMs' invariants on purpose: not one to replay.)
    if (fz.stats.discarded !== discarded) continue;
    recorded.push({ programs: fz.last.lowered.map((l) => l.instrs), calls: fz.stats.calls - before });
    recordedCalls += fz.stats.calls - before;
  }
  for (const invariants of [false, true]) {
    const side = new LocalSide(xenSpec, new ReferenceVmm(machineConfig(FULL_MACHINE), {}, xenSpec), FULL_MACHINE, invariants);
    let next = 0;
    bench.add(`fuzz: the reference VMM alone replaying the fuzzer's sequences, ${invariants ? 'invariants after every call' : 'no invariants'} ×${CALLS} hypercalls`, () => {
      let calls = 0;
      while (calls < CALLS) {
        const r = recorded[next++ % recorded.length]!;
        side.reset();
        for (const p of r.programs) {
          const out = side.session.execSync(p);
          if (out.error !== undefined) throw new Error(`replaying a recorded fuzz sequence: ${out.error}`);
        }
        calls += r.calls;
      }
    });
  }

  // Scaling with worker threads: timed runs long enough that worker start-up (each thread loads
  // the sources) is a small part; the wall rate counts it, the per-worker rates do not.
  const seconds = Number(process.env['HYPERABI_BENCH_FUZZ_SECONDS'] ?? 10);
  if (!(seconds > 0)) throw new Error(`HYPERABI_BENCH_FUZZ_SECONDS must be a positive number of seconds, not ${JSON.stringify(process.env['HYPERABI_BENCH_FUZZ_SECONDS'])}`);
  const root = fileURLToPath(new URL('..', import.meta.url));
  console.log('fuzz scaling: building dist/ (npm run build) for the compiled fuzzer…');
  try {
    execFileSync(process.execPath, [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  } catch {
    throw new Error('fuzz scaling: `npm run build` failed (see the errors above); fix them, or run the bench without the fuzz file');
  }
  const { fuzz } = (await import(pathToFileURL(`${root}/dist/fuzz/index.js`).href)) as { fuzz: typeof fuzzFn };
  const one = await fuzz({ workers: 1, seconds, seed: 3 });
  const two = await fuzz({ workers: 2, seconds, seed: 3 });
  const rate = (n: number) => Math.round(n).toLocaleString('en-US');
  const steady = (r: typeof one) => r.perWorker.map((w) => rate((w.calls * 1000) / w.elapsedMs)).join(' + ');
  console.log(
    `fuzz scaling (compiled, ${seconds} s runs, wall time including worker start-up): ` +
      `1 worker ${rate(one.callsPerSecond)} calls/s (${one.stats.calls} calls, ${(one.elapsedMs / 1000).toFixed(1)} s); ` +
      `2 workers ${rate(two.callsPerSecond)} calls/s (${two.stats.calls} calls, ${(two.elapsedMs / 1000).toFixed(1)} s; ` +
      `per worker ${steady(two)} calls/s): ×${(two.callsPerSecond / one.callsPerSecond).toFixed(2)}`,
  );
}
