/** Generation time per target, all ABIs. */
import type { Bench } from 'tinybench';
import { generate, targets } from '../generator/index.js';

export function register(bench: Bench): void {
  for (const t of targets()) {
    for (const spec of t.specs) {
      bench.add(`generate: ${t.name} --spec ${spec} --abi all`, () => {
        generate(t.name, spec);
      });
    }
  }
}
