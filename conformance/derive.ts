/**
 * Derived scenarios: generated from the spec (conformance/derive/): for every operation of the
 * reference VMM's families its normal path and one scenario per declared error trigger.
 */
export { deriveScenarios, deriveSummary, derive, formatSummary, DERIVED_ABIS, type DeriveSummary, type ErrorCase } from './derive/index.js';
