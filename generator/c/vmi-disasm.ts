/**
 * Checks a compiled call of a VMI stub (i386, `objdump -d -r -w`): at the first CALL, each
 * argument's words must be where the spec's `register` puts them (a register, a hi:lo pair,
 * or stack words counted from the stack pointer), and the CALL must be indirect through the
 * entry-point table at the call's offset. A small forward interpreter of the instructions
 * before the CALL tracks immediates, loads from relocated addresses and the stack. Pure.
 */
import type { Instruction } from './stub-disasm.js';
import type { Placement } from './vmi-stubs.js';
import { splitOperands } from '../vmi-rom/asm.js';

/** What a register or stack word holds before the call. */
type Val = { kind: 'imm'; v: bigint } | { kind: 'addr'; symbol: string; addend: bigint } | { kind: 'load'; symbol: string; addend: bigint };

/** What a compiled call must do: each argument's value and placement, and the table entry it calls. */
export interface VmiCallExpectation {
  args: readonly { name: string; placement: Placement; value: bigint; size: number }[];
  table: string;
  /** Byte offset of the call's entry in the table. */
  offset: number;
}

const WORD = 0xffffffffn;

/** Full i386 register of a register operand (`%al` → eax, `%dx` → edx). */
function reg32(op: string): string | undefined {
  const r = op.replace(/^%/, '');
  if (/^e(ax|bx|cx|dx|si|di|bp|sp)$/.test(r)) return r;
  const m = /^([abcd])[lhx]$/.exec(r);
  if (m) return `e${m[1] as string}x`;
  if (/^(si|di|bp|sp)$/.test(r)) return `e${r}`;
  return undefined;
}

function imm(s: string): bigint | undefined {
  const m = /^\$(-?)(0x[0-9a-f]+|\d+)$/.exec(s.trim());
  if (!m) return undefined;
  const v = BigInt(m[2] as string);
  return (m[1] === '-' ? -v : v) & WORD;
}


/** The 32-bit implicit addend stored in an instruction at a relocation (i386 REL relocations). */
function implicit(ins: Instruction, offset: number): bigint {
  const at = offset - ins.address;
  let v = 0n;
  for (let i = 3; i >= 0; i--) v = (v << 8n) | BigInt(ins.bytes[at + i] ?? 0);
  return v;
}

/** A memory operand: `disp`, `disp(%reg)`, `(%reg)`; undefined for anything else. */
function memOperand(op: string): { disp: bigint; base?: string } | undefined {
  const m = /^(-?0x[0-9a-f]+|-?\d+)?(?:\((%[a-z]+)\))?$/.exec(op);
  if (!m || (m[1] === undefined && m[2] === undefined)) return undefined;
  const d = m[1] ?? '0';
  const disp = d.startsWith('-') ? -BigInt(d.slice(1)) : BigInt(d);
  return m[2] ? { disp, base: reg32(m[2]) as string } : { disp };
}

function show(v: Val | undefined): string {
  if (!v) return 'nothing known';
  if (v.kind === 'imm') return `0x${v.v.toString(16)}`;
  return `${v.kind === 'addr' ? '&' : ''}${v.symbol}+0x${v.addend.toString(16)}`;
}

/** Problems with one compiled stub call (none: it is right). */
export function checkVmiCall(fn: readonly Instruction[], expect: VmiCallExpectation): string[] {
  const regs = new Map<string, Val | undefined>();
  const stack = new Map<number, Val | undefined>();
  let sp: number | undefined = 0;
  const at = fn.findIndex((i) => /^call[l]?$/.test(i.mnemonic) && i.operands.startsWith('*'));
  if (at < 0) return ['no indirect call instruction'];
  const valueOf = (ins: Instruction, op: string): Val | undefined => {
    const r = reg32(op);
    if (r) return regs.get(r);
    const rel = ins.relocs[0];
    const i = imm(op);
    if (i !== undefined) return rel && /R_386_(32|GOT32X?)$/.test(rel.type) ? { kind: 'addr', symbol: rel.symbol, addend: implicit(ins, rel.offset) } : { kind: 'imm', v: i };
    const m = memOperand(op);
    if (!m) return undefined;
    if (m.base === undefined && rel?.type === 'R_386_32') return { kind: 'load', symbol: rel.symbol, addend: implicit(ins, rel.offset) };
    if (m.base !== undefined) {
      const base = regs.get(m.base);
      if (base?.kind === 'addr') return { kind: 'load', symbol: base.symbol, addend: base.addend + m.disp };
      // A GOT slot holds the symbol's address (PIC code).
      if (rel && /GOT32X?$/.test(rel.type)) return { kind: 'addr', symbol: rel.symbol, addend: 0n };
      if (m.base === 'esp' && sp !== undefined) return stack.get(sp + Number(m.disp));
    }
    return undefined;
  };
  const write = (ins: Instruction, dest: string, v: Val | undefined) => {
    const r = reg32(dest);
    if (r === 'esp') sp = undefined;
    else if (r) regs.set(r, /^%e/.test(dest) ? v : undefined);
    else {
      const m = memOperand(dest);
      if (m?.base === 'esp' && sp !== undefined) stack.set(sp + Number(m.disp), v);
    }
    void ins;
  };
  for (const ins of fn.slice(0, at)) {
    const ops = splitOperands(ins.operands);
    const mn = ins.mnemonic.replace(/l$/, '');
    if (mn === 'push') {
      if (sp !== undefined) {
        sp -= 4;
        stack.set(sp, valueOf(ins, ops[0] ?? ''));
      }
    } else if (mn === 'pop') {
      const v = sp !== undefined ? stack.get(sp) : undefined;
      if (sp !== undefined) sp += 4;
      write(ins, ops[0] ?? '', v);
    } else if ((mn === 'sub' || mn === 'add') && ops[1] === '%esp' && imm(ops[0] ?? '') !== undefined) {
      if (sp !== undefined) sp += (mn === 'sub' ? -1 : 1) * Number(imm(ops[0] as string));
    } else if (mn === 'mov' && ops.length === 2) {
      write(ins, ops[1] as string, valueOf(ins, ops[0] as string));
    } else if (mn === 'xor' && ops.length === 2 && ops[0] === ops[1]) {
      write(ins, ops[1] as string, { kind: 'imm', v: 0n });
    } else if (/^(nop|lea|cmp|test)/.test(mn) && !(mn === 'lea' && ops[1] !== undefined && reg32(ops[1]))) {
      // no register written
    } else if (ops.length > 0) {
      write(ins, ops[ops.length - 1] as string, undefined);
    }
  }
  const call = fn[at] as Instruction;
  const problems: string[] = [];
  const target = valueOf(call, call.operands.slice(1));
  if (target?.kind !== 'load' || target.symbol !== expect.table || target.addend !== BigInt(expect.offset)) {
    problems.push(`call ${call.operands} reaches ${show(target)}, expected the table entry ${expect.table}+0x${expect.offset.toString(16)}`);
  }
  const word = (where: string): Val | undefined => {
    const s = /^stack\[(\d+)\]$/.exec(where);
    if (s) return sp === undefined ? undefined : stack.get(sp + 4 * Number(s[1]));
    return regs.get(where);
  };
  for (const a of expect.args) {
    const p = a.placement;
    const v = a.value & ((1n << BigInt(8 * a.size)) - 1n);
    const parts: [string, bigint][] =
      p.kind === 'reg'
        ? [[p.reg, v & WORD]]
        : p.kind === 'pair'
          ? [[p.lo, v & WORD], [p.hi, (v >> 32n) & WORD]]
          : p.slots.map((slot, i) => [`stack[${slot}]`, (v >> BigInt(32 * i)) & WORD]);
    for (const [where, want] of parts) {
      const got = word(where);
      if (got?.kind !== 'imm' || got.v !== want) problems.push(`argument '${a.name}': ${where} holds ${show(got)}, expected 0x${want.toString(16)}`);
    }
  }
  return problems;
}
