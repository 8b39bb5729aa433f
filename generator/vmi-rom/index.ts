/**
 * The native VMI option ROM generator: a ROM image built from the VMI spec, whose calls do
 * on bare hardware what they mean.
 */
export { buildVmiRom, DEFAULT_OPTIONS, RomError, type Rom, type RomOptions, type RelocEntry } from './rom.js';
export { NATIVE, NATIVE_HELPERS, type NativeImpl } from './native.js';
export { assemble, AsmError, ENCODINGS, type Assembled } from './asm.js';
