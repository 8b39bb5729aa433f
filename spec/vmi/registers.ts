/**
 * Where each argument of a call travels under a register convention with `split64: lo-hi`
 * (GCC regparm on i386): the convention's registers in order, a 64-bit value in two
 * consecutive ones (low first) when two remain, the rest on the stack in words. Once an
 * argument does not fit, the registers left are abandoned (GCC's rule).
 */
import { LayoutEngine } from '../layout.js';
import type { Abi, Arg, Spec, TypeRef } from '../model.js';
import { findArch } from '../query.js';

/** Size in bytes of an argument type on the ABI's arch. */
function sizeOf(engine: LayoutEngine, t: TypeRef): number {
  if (t.kind === 'pointer' || t.kind === 'handle') return engine.arch.pointerSize;
  if (t.kind === 'name') return engine.named(t.name).size;
  throw new Error(`argument of kind ${t.kind} has no register assignment`);
}

/** The register (or hi:lo pair, or stack slot) of each argument, in the notation of `Arg.register`. */
export function registerAssignment(spec: Spec, abi: Abi, args: readonly Arg[]): string[] {
  const arch = findArch(spec, abi.name);
  if (!arch) throw new Error(`ABI ${abi.name} has no arch in spec ${spec.name}`);
  const engine = new LayoutEngine(spec, arch);
  const regs = abi.convention.args;
  const word = arch.wordSize;
  let next = 0;
  let slot = 0;
  return args.map((a) => {
    const words = Math.ceil(sizeOf(engine, a.type) / word);
    if (words > 2) throw new Error(`argument ${a.name} is wider than two words`);
    const inRegs = next + words <= regs.length;
    const parts: string[] = [];
    for (let i = 0; i < words; i++) parts.push(inRegs ? (regs[next + i] as string) : `stack[${slot + i}]`);
    if (inRegs) next += words;
    else {
      next = regs.length;
      slot += words;
    }
    return parts.reverse().join(':');
  });
}

/** Where a result of the given size comes back: the result register, or edx:eax for two words. */
export function resultRegister(spec: Spec, abi: Abi, t: TypeRef): string | undefined {
  const arch = findArch(spec, abi.name);
  if (!arch) throw new Error(`ABI ${abi.name} has no arch in spec ${spec.name}`);
  if (t.kind === 'name' && t.name === 'void') return undefined;
  const size = sizeOf(new LayoutEngine(spec, arch), t);
  return size > arch.wordSize ? `edx:${abi.convention.result}` : abi.convention.result;
}
