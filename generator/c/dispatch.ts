/**
 * C hypervisor dispatch: handler prototypes and dispatch functions per ABI.
 * Stub: to be written (issue 4).
 */
import type { GeneratedFile } from '../files.js';
import type { GenModel } from '../model.js';

/** The dispatch header and source. */
export function cDispatch(_model: GenModel): GeneratedFile[] {
  return [];
}
