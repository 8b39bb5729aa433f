/**
 * Derived scenarios: generated from the spec (to be filled in: one normal path per
 * operation and one scenario per declared error trigger).
 */
import type { Spec } from '../spec/model.js';
import type { Scenario } from './scenario.js';

export function deriveScenarios(_spec: Spec): Scenario[] {
  return [];
}
