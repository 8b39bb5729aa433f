/**
 * Strict mode never breaks on what a guest sends: every hypercall and operation of every ABI,
 * with zeroed and with random arguments and memory, is recorded and checked without an
 * exception (the checker's or the VMM's), and the offline check of the whole trace gives the
 * live findings.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { xenSpec } from '../../spec/index.js';
import { checkTrace } from './checker.js';
import { GuestCheck } from './strict.js';
import { parseTrace } from './trace.js';

describe('strict mode: robustness', () => {
  for (const abi of xenSpec.abis) {
    it(`${abi.name}: every operation with zeroed and random arguments and memory`, () => {
      const check = new GuestCheck({ domains: [{ id: 0, abi: abi.name, memoryPages: 8, privileged: true }, { id: 1, abi: abi.name, memoryPages: 16, vcpus: 2 }] });
      const conv = abi.convention;
      const rnd = fc.sample(fc.tuple(fc.uint8Array({ minLength: 512, maxLength: 512 }), fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 6, maxLength: 6 })), { numRuns: 64, seed: 42 });
      let k = 0;
      for (const h of xenSpec.hypercalls) {
        for (const value of h.subops ? h.subops.ops.map((o) => o.value) : [0]) {
          for (const random of [false, true]) {
            const [bytes, words] = rnd[k++ % rnd.length] as [Uint8Array, bigint[]];
            check.write(1, 0x3000n, random ? bytes : new Uint8Array(512));
            const regs: Record<string, bigint> = { [conv.number]: BigInt(h.number) };
            conv.args.forEach((r, i) => {
              regs[r] = random && i > 0 ? (words[i] as bigint) : 0x3000n;
            });
            const first = conv.args[0] as string;
            if (h.subops && !h.subops.selector.includes('[]')) regs[first] = BigInt(value);
            check.strict.hypercall(1, 0, regs);
          }
        }
      }
      check.end(1);
      expect(check.vmm.internalErrors).toEqual([]);
      expect(check.findings.length).toBeGreaterThan(0);
      expect(checkTrace(parseTrace(check.traceText()))).toEqual(check.findings);
    });
  }
});
