/** VMI c-guest bindings and docs: emitting the types header and both stub headers, and the whole target from the spec. */
import type { Bench } from 'tinybench';
import { vmiSpec } from '../spec/index.js';
import { generate } from '../generator/index.js';
import { buildModel } from '../generator/model.js';
import { cVmiGuest } from '../generator/c/vmi-stubs.js';

export function register(bench: Bench): void {
  const model = buildModel(vmiSpec);
  bench
    .add('c-vmi: emit hyperabi_vmi.h and the 2 VMI stub headers (model built once)', () => {
      cVmiGuest(model);
    })
    .add('c-vmi: generate c-guest --spec vmi (model and files)', () => {
      generate('c-guest', 'vmi');
    })
    .add('c-vmi: generate docs --spec vmi (model and pages)', () => {
      generate('docs', 'vmi');
    });
}
