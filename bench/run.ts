/**
 * `npm run bench`: throughput of hyperabi's hot paths, measured with tinybench on this
 * machine. Benchmarks only report; no test depends on a timing.
 */
import { Bench } from 'tinybench';
import { exportFiles, flatConstants, LayoutEngine, xenSpec } from '../spec/index.js';
import { checkSpec } from '../spec/check.js';

const bench = new Bench({ time: 1000 });

bench
  .add('spec: lay out every Xen type on x86_32 (fresh engine)', () => {
    const e = new LayoutEngine(xenSpec, 'x86_32');
    for (const t of xenSpec.types) if (e.has(t.name)) e.named(t.name);
  })
  .add('spec: flat constants for x86_64', () => {
    flatConstants(xenSpec, 'x86_64');
  })
  .add('spec: check the Xen spec', () => {
    checkSpec(xenSpec, 'xen');
  })
  .add('spec: export xen.json + schema', () => {
    exportFiles([xenSpec]);
  });

await bench.run();
console.log(`hyperabi bench on ${process.version}, ${process.arch}`);
console.table(
  bench.tasks.map((t) => {
    const r = t.result as { latency?: { mean: number }; throughput?: { mean: number } } | undefined;
    return {
      task: t.name,
      'mean (ms)': r?.latency ? r.latency.mean.toFixed(3) : 'n/a',
      'ops/s': r?.throughput ? Math.round(r.throughput.mean) : 'n/a',
    };
  }),
);
