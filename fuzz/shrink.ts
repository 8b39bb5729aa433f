/**
 * Shrinking: delta debugging (Zeller's ddmin) over the steps of a failing sequence, then
 * single-step removal until no step can go. A candidate counts when it fails the same way:
 * the same kind of divergence at the same operation. The predicate may be asynchronous
 * (external targets); `budget` bounds the number of candidates tried.
 */
import type { Divergence } from './engine.js';
import type { FStep } from './step.js';

/** Whether two divergences are the same failure. */
export function sameFailure(a: Divergence, b: Divergence): boolean {
  return a.kind === b.kind && a.op === b.op;
}

export interface ShrinkResult {
  steps: FStep[];
  tries: number;
}

/** Shrinks `steps` while `fails` holds; the last step (where the failure shows) is kept as long as it is needed. */
export async function shrink(steps: readonly FStep[], fails: (candidate: FStep[]) => boolean | Promise<boolean>, budget = 4000): Promise<ShrinkResult> {
  let cur = [...steps];
  let tries = 0;
  const test = async (c: FStep[]): Promise<boolean> => {
    if (tries >= budget) return false;
    tries++;
    return await fails(c);
  };
  let n = 2;
  while (cur.length >= 2 && tries < budget) {
    const chunk = Math.ceil(cur.length / n);
    let reduced = false;
    for (let i = 0; i < n && !reduced; i++) {
      const complement = [...cur.slice(0, i * chunk), ...cur.slice((i + 1) * chunk)];
      if (complement.length > 0 && complement.length < cur.length && (await test(complement))) {
        cur = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(n * 2, cur.length);
    }
  }
  // One step at a time, from the end, until a whole pass removes nothing.
  for (let changed = true; changed && tries < budget; ) {
    changed = false;
    for (let i = cur.length - 1; i >= 0 && cur.length > 1; i--) {
      const c = [...cur.slice(0, i), ...cur.slice(i + 1)];
      if (await test(c)) {
        cur = c;
        changed = true;
      }
    }
  }
  return { steps: cur, tries };
}
