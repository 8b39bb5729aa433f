/** Spec tooling: layout, constants, check and export. */
import type { Bench } from 'tinybench';
import { exportFiles, flatConstants, LayoutEngine, xenSpec } from '../spec/index.js';
import { checkSpec } from '../spec/check.js';

export function register(bench: Bench): void {
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
}
