/** C guest stubs: emitting the stub headers of every ABI from a built model, and from the spec. */
import type { Bench } from 'tinybench';
import { xenSpec } from '../spec/index.js';
import { buildModel } from '../generator/model.js';
import { cStubs } from '../generator/c/stubs.js';

export function register(bench: Bench): void {
  const model = buildModel(xenSpec);
  bench
    .add('c-stubs: emit the 6 Xen stub headers (model built once)', () => {
      cStubs(model);
    })
    .add('c-stubs: build the model and emit the x86_32-pv stub header', () => {
      cStubs(buildModel(xenSpec, ['x86_32-pv']));
    });
}
