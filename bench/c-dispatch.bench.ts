/**
 * c-dispatch: generation time (plan and C text, all ABIs), and the native speed of the
 * generated dispatch (x86_64 host, x86_64-pv, every number and sub-op of the spec, weak
 * default handlers), measured inside a C program and printed beside the table.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bench } from 'tinybench';
import { xenSpec } from '../spec/index.js';
import { generate } from '../generator/index.js';
import { buildModel } from '../generator/model.js';
import { abiPlan, cDispatch, dispatchName, regsStructName } from '../generator/c/dispatch.js';

/** Nanoseconds per dispatch of the generated C, or why it could not be measured. */
function nativeDispatch(): string {
  if (spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status !== 0) return 'skipped: gcc is not installed';
  const abi = xenSpec.abis.find((a) => a.name === 'x86_64-pv');
  if (!abi) return 'skipped: no x86_64-pv ABI';
  const plan = abiPlan(buildModel(xenSpec, [abi.name]), abi);
  const conv = abi.convention;
  // One register file per hypercall (and per sub-op of register-selected calls).
  const rows = plan.calls.flatMap((c) => {
    const sel = c.selector ? c.params.indexOf(c.selector) : -1;
    const values = c.kind === 'subops' ? c.ops.map((o) => o.op.value) : [0];
    return values.map((v) => [c.hypercall.number, ...conv.args.map((_, i) => (i === sel ? v : i + 1))]);
  });
  const dir = mkdtempSync(join(tmpdir(), 'hyperabi-bench-dispatch-'));
  try {
    for (const f of generate('c-dispatch', 'xen', abi.name)) writeFileSync(join(dir, f.path), f.content);
    const set = [`r[i].${conv.number} = (uint64_t)rows[i][0];`, ...conv.args.map((reg, k) => `r[i].${reg} = (uint64_t)rows[i][${k + 1}];`)].join(' ');
    writeFileSync(
      join(dir, 'bench.c'),
      [
        '#define _POSIX_C_SOURCE 199309L',
        '#include <stdio.h>',
        '#include <time.h>',
        '#include "hyperabi_xen_dispatch.h"',
        'struct hyperabi_ctx { int unused; };',
        `static const long long rows[][${conv.args.length + 1}] = {`,
        ...rows.map((r) => `  { ${r.join(', ')} },`),
        '};',
        '#define NROWS (sizeof rows / sizeof rows[0])',
        'int main(void) {',
        `  static ${regsStructName(xenSpec, abi)} r[NROWS];`,
        `  for (unsigned i = 0; i < NROWS; i++) { ${set} }`,
        '  struct hyperabi_ctx ctx = { 0 };',
        '  volatile int64_t sink = 0;',
        '  const long rounds = 200000;',
        '  struct timespec a, b;',
        '  clock_gettime(CLOCK_MONOTONIC, &a);',
        `  for (long k = 0; k < rounds; k++) for (unsigned i = 0; i < NROWS; i++) sink += ${dispatchName(xenSpec, abi)}(&ctx, &r[i]);`,
        '  clock_gettime(CLOCK_MONOTONIC, &b);',
        '  double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);',
        '  printf("%.2f ns per dispatch over %u register files (%.1f million per second)\\n", ns / (rounds * NROWS), (unsigned)NROWS, rounds * NROWS / ns * 1e3);',
        '  return sink == 1;',
        '}',
      ].join('\n'),
    );
    execFileSync('gcc', ['-std=c11', '-O2', '-I', dir, join(dir, 'bench.c'), join(dir, 'hyperabi_xen_dispatch.c'), '-o', join(dir, 'bench')]);
    return spawnSync(join(dir, 'bench'), { encoding: 'utf8' }).stdout.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function register(bench: Bench): void {
  const model = buildModel(xenSpec);
  console.log(`c-dispatch native (gcc -O2, x86_64-pv, weak default handlers): ${nativeDispatch()}`);
  bench
    .add('c-dispatch: plan every ABI (decoded types, sub-op tables)', () => {
      for (const abi of model.abis) abiPlan(model, abi);
    })
    .add('c-dispatch: emit header + source for all ABIs (prebuilt model)', () => {
      cDispatch(model);
    });
}
