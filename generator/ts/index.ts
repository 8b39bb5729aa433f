/**
 * TypeScript target: TypeBox types, codecs, guest stubs, handler interface and dispatcher.
 * Stub: to be written (issue 4).
 */
import type { GeneratedFile } from '../files.js';
import type { GenModel } from '../model.js';

/** The TypeScript files of a spec. */
export function tsFiles(_model: GenModel): GeneratedFile[] {
  return [];
}
