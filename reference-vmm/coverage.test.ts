/**
 * The coverage table (docs/reference-vmm-coverage.md) is what reference-vmm/coverage.ts
 * derives from the spec, the VMM's handler and the test files now; and its derivation of
 * "exercised" counts only assertions made through expectError.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { xenSpec } from '../spec/index.js';
import { scenarioClaims } from '../conformance/coverage.js';
import { COVERAGE_FILE, coverageMarkdown, declaredUnimplemented, exercisedErrors, implementedIds, operations } from './coverage.js';
import { ReferenceVmm } from './vmm.js';

const ROOT = resolve(import.meta.dirname, '..');

describe('reference-vmm coverage table', () => {
  it(`${COVERAGE_FILE} is fresh (else run: npx tsx cli/main.ts vmm coverage --write)`, async () => {
    let file = '';
    try {
      file = readFileSync(join(ROOT, COVERAGE_FILE), 'utf8');
    } catch {
      // missing: stale
    }
    const fresh = coverageMarkdown(xenSpec, join(ROOT, 'reference-vmm'), await scenarioClaims(xenSpec));
    expect(file === fresh, `${COVERAGE_FILE} is stale: run npx tsx cli/main.ts vmm coverage --write`).toBe(true);
  });

  it('counts only literal expectError claims in test files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hyperabi-cov-'));
    try {
      // Spelled in pieces, so that this file makes no claim itself.
      const claim = (args: string) => `expect${'Error'}(${args});\n`;
      writeFileSync(join(dir, 'a.test.ts'), `${claim("'multicall', 'EFAULT', x")}expect(y).toBe(E('EINVAL')); // not a claim\n${claim("id, 'EINVAL', z")}`);
      writeFileSync(join(dir, 'b.ts'), claim("'multicall', 'EINVAL', x"));
      const claims = exercisedErrors(dir);
      expect([...claims.keys()]).toEqual(['multicall']);
      expect([...claims.get('multicall')!.keys()]).toEqual(['EFAULT']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every operation the spec declares unimplemented answers -ENOSYS on every ABI that has it', () => {
    const impl = implementedIds(xenSpec);
    const vmm = new ReferenceVmm({ domains: xenSpec.abis.map((a, i) => ({ id: i, abi: a.name, memoryPages: 4 })) });
    for (const e of operations(xenSpec)) {
      if (declaredUnimplemented(e) === undefined) continue;
      expect(impl.has(e.id), `${e.id} is declared unimplemented but a handler answers it`).toBe(false);
      const h = e.hypercall;
      for (const [i, a] of xenSpec.abis.entries()) {
        if (!(a.name in h.abis) || (e.op?.abis && !e.op.abis.some((x) => a.name.startsWith(x)))) continue;
        const regs = { [a.convention.number]: BigInt(h.number) };
        if (e.op) {
          // Operations selected by an argument (cmd): that argument's register holds the value.
          const args = h.argsByAbi?.[a.name] ?? h.argsByAbi?.[a.arch] ?? h.args;
          const at = args.findIndex((x) => x.name === h.subops?.selector);
          if (at < 0) continue; // selected by a field of a batch element: covered by its own tests
          regs[a.convention.args[at]!] = BigInt(e.op.value);
        }
        const r = vmm.hypercallSigned(i, 0, regs);
        expect(r, `${e.id} on ${a.name}`).toBe(BigInt(vmm.machine.errno['ENOSYS'] as number));
      }
    }
  });
});
