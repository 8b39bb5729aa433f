/**
 * The one way a reference-VMM test claims that it exercised a declared error: `expectError`
 * asserts the value (and that the spec declares that error for that operation), and the
 * coverage table (reference-vmm/coverage.ts) counts an (operation id, code) pair as
 * exercised only where a test file calls it with both as string literals. A claim is
 * therefore always an assertion that ran green.
 */
import { expect } from 'vitest';
import { findErrorDecl } from '../reference-vmm/coverage.js';
import { constantValue, xenSpec } from '../spec/index.js';

/**
 * Asserts that `actual` (a signed hypercall result, or a status field) is the declared error
 * `code` of operation `op`: the negated errno for an errno, the status value for a status.
 */
export function expectError(op: string, code: string, actual: bigint | number): void {
  const decl = findErrorDecl(xenSpec, op, code);
  if (!decl) throw new Error(`spec declares no error ${code} for ${op}`);
  if (decl.via === 'status') {
    expect(BigInt(actual), `${op}: status ${code}`).toBe(BigInt(constantValue(xenSpec, code) as number));
  } else {
    expect(BigInt(actual), `${op}: -${code}`).toBe(-BigInt(constantValue(xenSpec, `XEN_${code}`) as number));
  }
}
