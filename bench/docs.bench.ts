/** Reference docs: building the Markdown pages of the Xen spec from a ready model, and end to end. */
import type { Bench } from 'tinybench';
import { xenSpec } from '../spec/index.js';
import { generate } from '../generator/index.js';
import { buildModel } from '../generator/model.js';
import { docsFiles } from '../generator/docs/index.js';

export function register(bench: Bench): void {
  const model = buildModel(xenSpec);
  bench
    .add('docs: render every Xen page from a built model (all ABIs)', () => {
      docsFiles(model);
    })
    .add('docs: generate docs --spec xen --abi all (model + pages)', () => {
      generate('docs', 'xen');
    })
    .add('docs: generate docs --spec xen --abi arm64', () => {
      generate('docs', 'xen', 'arm64');
    });
}
