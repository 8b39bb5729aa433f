/**
 * Recipes: how a plan reaches a state. A recipe gets the context, the operation, the plan (built
 * for the normal path) and a setter that places a value at a trigger path; it edits the plan, or
 * throws NoRecipe with the reason it cannot.
 */
import type { Step, Value } from '../scenario.js';
import type { Ctx } from './context.js';
import type { OpInfo } from './ops.js';
import type { Plan } from './plan.js';

export interface RecipeArgs {
  ctx: Ctx;
  info: OpInfo;
  p: Plan;
  /** Places a value at a spec path: a struct field (arg.x), a register argument, an element behind a handle (arg.ports[]). */
  set(path: string, value: Value): void;
  /** The value the plan holds at a path (undefined when none). */
  get(path: string): Value | undefined;
}

export type Apply = (x: RecipeArgs) => void;

/** How a case is set up: on which caller, and what to change. */
export interface Recipe {
  /** The caller's ABI when it must differ from the derivation's (a 32-bit or HVM caller). */
  abi?: string;
  /** Whether the caller is the privileged domain (default true). */
  privileged?: boolean;
  /** What the scenario shows, in words, appended to the error's condition. */
  how?: string;
  apply?: Apply;
  /** Targets the case cannot run on, with the reason (the scenario's `limits`). */
  limits?: Readonly<Record<string, string>>;
  /**
   * Where the error shows when the spec reports it somewhere other than the call's result (a
   * multicall entry's result slot): a step that checks it there; the call itself then succeeds.
   */
  reportedIn?: (x: RecipeArgs, expected: string) => Step;
}

/** A normal-path recipe: what the operation needs beyond the generic defaults. */
export interface NormalRecipe {
  /** Why this operation has no normal path (it always fails, or needs what no machine here has), on every ABI or on this one. */
  none?: string | ((ctx: Ctx) => string | undefined);
  apply?: Apply;
  /**
   * Set-up only the normal path gets, after `apply`: its error cases start without it (an event
   * made pending so that a blocking call returns would end the call before the checks they reach).
   */
  only?: Apply;
  /**
   * Targets the normal path cannot run on, with the reason (the scenario's `limits`); the error
   * cases, which start from the same plan, may still run there.
   */
  limits?: Readonly<Record<string, string>>;
  /** The documented result, when the spec states one beyond success. */
  expect?: (x: RecipeArgs) => Value | 'ok';
}
