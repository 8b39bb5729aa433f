/**
 * Markdown reference docs per hypercall family, and an index.
 * Stub: to be written (issue 4).
 */
import type { GeneratedFile } from '../files.js';
import type { GenModel } from '../model.js';

/** The reference pages of a spec. */
export function docsFiles(_model: GenModel): GeneratedFile[] {
  return [];
}
