/**
 * What every handler method receives, and the copy-in/copy-out helper of Xen's do_*_op
 * wrappers.
 */
import type { GuestRef } from '../generated/xen/runtime.js';
import { findConstant } from '../spec/query.js';
import type { Domain } from './machine.js';
import type { ReferenceVmm } from './vmm.js';

/** What the dispatcher passes to every handler method. */
export interface CallContext {
  vmm: ReferenceVmm;
  domain: Domain;
  vcpu: number;
}

/** Copy in, run, copy out on success (Xen's pattern for every struct-carrying sub-op). */
export function inOut<T>(ref: GuestRef<T>, run: (v: T) => number): number {
  const v = ref.read();
  const rc = run(v);
  if (rc === 0) ref.write(v);
  return rc;
}

/** A NUL-terminated, zero-padded byte array of `size` bytes holding `s` (truncated to fit). */
export function cString(s: string, size: number): number[] {
  const out = new Array<number>(size).fill(0);
  const bytes = new TextEncoder().encode(s);
  for (let i = 0; i < Math.min(bytes.length, size - 1); i++) out[i] = bytes[i] as number;
  return out;
}

/** A numeric spec constant, or an error naming it. */
export function specNumber(vmm: ReferenceVmm, name: string): number {
  // findConstant indexes the spec once (machines are created per scenario: a linear search here dominated their creation).
  const c = findConstant(vmm.machine.spec, name)?.constant;
  if (!c || typeof c.value !== 'number') throw new Error(`spec has no numeric constant ${name}`);
  return c.value;
}
