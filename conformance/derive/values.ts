/**
 * Values for value triggers: one that meets a trigger (for the error's scenario) and one that
 * meets none of an argument's triggers (for the normal path).
 */
import type { Trigger } from '../../spec/model.js';
import type { RecipeArgs } from './recipe.js';
import { toBigInt } from '../../spec/query.js';
import type { Value } from '../scenario.js';

export type ValueTrigger = Extract<Trigger, { kind: 'value' }>;

/** Whether `v` meets the trigger. */
export function meets(t: ValueTrigger, v: bigint): boolean {
  const k = toBigInt(t.value);
  switch (t.op) {
    case 'eq':
      return v === k;
    case 'ne':
      return v !== k;
    case 'lt':
      return v < k;
    case 'le':
      return v <= k;
    case 'gt':
      return v > k;
    case 'ge':
      return v >= k;
    case 'mask':
      return (v & k) !== 0n;
  }
}

/** The simplest value that meets the trigger (the boundary; for a mask, its lowest bit). */
export function meeting(t: ValueTrigger): bigint {
  const k = toBigInt(t.value);
  switch (t.op) {
    case 'eq':
    case 'le':
    case 'ge':
      return k;
    case 'ne':
    case 'gt':
      return k + 1n;
    case 'lt':
      return k - 1n;
    case 'mask':
      return k & -k;
  }
}

/** A value near `current` that meets none of the triggers, or undefined. */
export function avoiding(triggers: readonly ValueTrigger[], current: bigint): bigint | undefined {
  const ok = (v: bigint) => v >= 0n && triggers.every((t) => !meets(t, v));
  if (ok(current)) return current;
  const candidates: bigint[] = [];
  for (const t of triggers) {
    const k = toBigInt(t.value);
    candidates.push(k, k - 1n, k + 1n, 0n, 1n);
  }
  return candidates.find(ok);
}

/** A bigint as a scenario value (a number when it is safe, else hex). */
export function asValue(v: bigint): Value {
  if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** A value combined with more bits: numbers ORed, expressions joined with `|`. */
export function orValue(cur: Value | undefined, bits: bigint): Value {
  if (cur === undefined) return asValue(bits);
  if (typeof cur === 'number') return asValue(BigInt(cur) | bits);
  if (/^(0x[0-9a-f]+|\d+)$/i.test(cur)) return asValue(BigInt(cur) | bits);
  return `${cur} | 0x${bits.toString(16)}`;
}

export function triggerKey(t: Trigger | undefined): string {
  if (!t) return 'none';
  switch (t.kind) {
    case 'value':
      return `value:${t.path}:${t.op}:${String(t.value)}`;
    case 'resource':
      return `resource:${t.path}:${t.resource}:${t.state}`;
    case 'fault':
      return `fault:${t.path}`;
    case 'privilege':
      return `privilege:${t.need}`;
    case 'state':
      return `state:${t.state}`;
  }
}


/** A value meeting a value trigger, combined with the operation's own bits when it is the selector. */
export function valueFor(x: RecipeArgs, t: ValueTrigger): Value {
  const v = meeting(t);
  const sel = t.path === x.info.selector?.name || (x.info.batch !== undefined && t.path === `${x.info.batch.array}[].${x.info.batch.field}`);
  if (sel && (t.op === 'ge' || t.op === 'mask') && x.info.op) {
    if (x.info.batch) return orValue(x.get(t.path) ?? 0, v | BigInt(x.info.op.value));
    return asValue(v | BigInt(x.info.op.value));
  }
  return asValue(v);
}

