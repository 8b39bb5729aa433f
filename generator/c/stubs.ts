/**
 * C guest hypercall stubs per ABI (inline assembly and a transport variant).
 * Stub: to be written (issue 4).
 */
import type { GeneratedFile } from '../files.js';
import type { GenModel } from '../model.js';

/** The stub headers, one per ABI of the model. */
export function cStubs(_model: GenModel): GeneratedFile[] {
  return [];
}
