/**
 * `npm run bench`: throughput of hyperabi's hot paths, measured with tinybench on this
 * machine. Each `bench/*.bench.ts` module registers its tasks; no test depends on a timing.
 */
import { readdirSync } from 'node:fs';
import { Bench } from 'tinybench';

const bench = new Bench({ time: 1000 });
const only = process.argv[2];
for (const file of readdirSync(import.meta.dirname).filter((f) => f.endsWith('.bench.ts')).sort()) {
  if (only && !file.includes(only)) continue;
  const mod = (await import(`./${file}`)) as { register(b: Bench): void | Promise<void> };
  await mod.register(bench);
}

await bench.run();
console.log(`hyperabi bench on Node ${process.version}, ${process.arch}`);
console.table(
  bench.tasks.map((t) => {
    const r = t.result as { latency?: { mean: number }; throughput?: { mean: number } } | undefined;
    return {
      task: t.name,
      'mean (ms)': r?.latency ? r.latency.mean.toFixed(4) : 'n/a',
      'ops/s': r?.throughput ? Math.round(r.throughput.mean) : 'n/a',
    };
  }),
);
