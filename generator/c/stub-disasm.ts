/**
 * Checks compiled hypercall stubs against an ABI of the spec by reading their disassembly
 * (`objdump -d -r -w`, with `-M reg-names-raw` on Arm): which constant each register holds
 * when the entry instruction runs, and that the entry is the one the convention names (a
 * call to the hypercall page at nr * stubSize, or the trap instruction with its immediate).
 * Pure functions over objdump's text; the tests run the tools.
 */
import type { Abi, Arch } from '../../spec/index.js';

/** A relocation objdump printed under an instruction. */
export interface Relocation {
  offset: number;
  type: string;
  symbol: string;
  addend: bigint;
}

/** One disassembled instruction. */
export interface Instruction {
  address: number;
  bytes: number[];
  mnemonic: string;
  operands: string;
  relocs: Relocation[];
}

/** What a compiled call of a stub must do: the hypercall number and each argument register's value, in convention order. */
export interface StubExpectation {
  number: number;
  args: readonly bigint[];
}

/** An instruction's operands without objdump's comment (`@ 0x22`, `// #32`, `# 7 <x>`) or target symbol (`<probe+0x14>`). */
function stripComment(operands: string): string {
  return operands.replace(/\s+(?:@|\/\/|#\s).*$/, '').replace(/\s*<[^>]*>\s*$/, '').trim();
}

/** A relocation as objdump prints it: `b: R_X86_64_PC32\thypercall_page+0x3fc`. */
function relocation(text: string): Relocation | undefined {
  const m = /^\s*([0-9a-f]+): (R_\S+)\s+([^\s+-]+)(?:([+-])0x([0-9a-f]+))?\s*$/.exec(text);
  if (!m) return undefined;
  const mag = m[5] ? BigInt(`0x${m[5]}`) : 0n;
  return { offset: parseInt(m[1] as string, 16), type: m[2] as string, symbol: m[3] as string, addend: m[4] === '-' ? -mag : mag };
}

/** Instructions per function name from `objdump -d -r -w` output. */
export function parseObjdump(text: string): Map<string, Instruction[]> {
  const out = new Map<string, Instruction[]>();
  let current: Instruction[] | undefined;
  for (const line of text.split('\n')) {
    const fn = /^[0-9a-f]+ <([^>]+)>:$/.exec(line);
    if (fn) {
      current = [];
      out.set(fn[1] as string, current);
      continue;
    }
    if (!current) continue;
    const rel = relocation(line);
    if (rel) {
      current[current.length - 1]?.relocs.push(rel);
      continue;
    }
    const ins = /^\s+([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(\S+)\s*(.*)$/.exec(line);
    if (ins) {
      // Arm prints 16- and 32-bit halfwords and words; x86 prints bytes. Keep little-endian bytes.
      const bytes = (ins[2] as string)
        .trim()
        .split(/\s+/)
        .flatMap((h) => {
          const v = parseInt(h, 16);
          const n = h.length / 2;
          return Array.from({ length: n }, (_, i) => (v >> (8 * i)) & 0xff);
        });
      // With -w, objdump prints an instruction's relocations on its own line, after a tab.
      const [operands, ...relocs] = (ins[4] as string).split('\t');
      const instruction: Instruction = { address: parseInt(ins[1] as string, 16), bytes, mnemonic: ins[3] as string, operands: stripComment(operands ?? ''), relocs: [] };
      for (let i = 0; i + 1 < relocs.length; i += 2) {
        const r = relocation(`${relocs[i] as string}\t${relocs[i + 1] as string}`);
        if (r) instruction.relocs.push(r);
      }
      current.push(instruction);
    }
  }
  return out;
}

/** The ABI's name for a register objdump prints: edi and di → rdi, r10d → r10 (x86_64), w3 → x3 (arm64). */
function canonical(reg: string, abi: Abi): string {
  const known = new Set([abi.convention.number, abi.convention.result, ...abi.convention.args, ...abi.convention.clobbers]);
  const r = reg.replace(/^%/, '');
  if (known.has(r)) return r;
  const candidates = [
    /^e([a-z]{2})$/.exec(r) ? `r${r.slice(1)}` : undefined,
    /^([a-z]{2})$/.exec(r) ? `r${r}` : undefined,
    /^(r\d+)[dwb]$/.exec(r)?.[1],
    /^w(\d+)$/.exec(r) ? `x${r.slice(1)}` : undefined,
  ];
  return candidates.find((c) => c !== undefined && known.has(c)) ?? r;
}

function immediate(s: string): bigint | undefined {
  const m = /^[$#](-?)(0x[0-9a-f]+|\d+)$/.exec(s.trim());
  if (!m) return undefined;
  const v = BigInt(m[2] as string);
  return m[1] === '-' ? -v : v;
}

/** Mnemonics that write no general register (x86: AT&T syntax; Arm: unified syntax). */
const X86_NO_DEST = /^(push|call|ret|jmp|j[a-z]+|nop|cmp|test|ud2|int|syscall|vmcall|vmmcall|hlt)/;
const ARM_NO_DEST = /^(push|st|cmp|cmn|tst|teq|b|bl|blx|bx|cbz|cbnz|it|hvc|svc|smc|ret|nop|dmb|dsb|isb)(\.|$|[a-z]{0,2}$)/;

/** The register an instruction writes, if any, and what it writes when it is a move of an immediate or of a register. */
function effect(ins: Instruction, x86: boolean): { dest?: string; value?: bigint; from?: string } {
  const ops = ins.operands.split(',').map((o) => o.trim());
  if (x86) {
    if (ins.mnemonic === 'pop') return { dest: ops[0] };
    if (X86_NO_DEST.test(ins.mnemonic)) return {};
    const dest = ops[ops.length - 1];
    if (!dest?.startsWith('%')) return {};
    const isMov = /^mov[lqabs]*$/.test(ins.mnemonic);
    const value = isMov && ops.length === 2 ? immediate(ops[0] as string) : undefined;
    if (value !== undefined) return { dest, value };
    if (isMov && ops.length === 2 && ops[0]?.startsWith('%')) return { dest, from: ops[0] };
    if (/^xor/.test(ins.mnemonic) && ops[0] === ops[1]) return { dest, value: 0n };
    return { dest };
  }
  if (/^(push|pop)/.test(ins.mnemonic)) {
    return ins.mnemonic.startsWith('pop') ? { dest: `{list}` } : {};
  }
  if (ARM_NO_DEST.test(ins.mnemonic) && !/^(bic|bfi|bfc)/.test(ins.mnemonic)) return {};
  const dest = ops[0];
  const isMov = /^(mov|movs|movz|movw)(\.w|\.n)?$/.test(ins.mnemonic);
  const value = isMov && ops.length === 2 ? immediate(ops[1] as string) : undefined;
  if (value !== undefined) return { dest, value };
  if (/^movs?(\.w|\.n)?$/.test(ins.mnemonic) && ops.length === 2 && /^[a-z]+\d*$/.test(ops[1] as string)) return { dest, from: ops[1] };
  return { dest };
}

function hex(v: bigint | undefined): string {
  return v === undefined ? 'nothing known' : `0x${v.toString(16)}`;
}

/**
 * Problems with one compiled stub call (none: it is right): the number and arguments must be
 * in the convention's registers at the entry instruction, and the entry must be the spec's.
 */
export function checkStubCall(fn: readonly Instruction[], abi: Abi, arch: Arch, expect: StubExpectation, pageSymbol: string): string[] {
  const conv = abi.convention;
  const entry = conv.entry;
  const x86 = entry.kind === 'hypercall-page';
  const mask = (1n << BigInt(8 * arch.wordSize)) - 1n;
  const regs = new Map<string, bigint | undefined>();
  const problems: string[] = [];
  const wanted = entry.kind === 'hypercall-page' ? 'call' : (entry.instruction.split(/\s+/)[0] as string).toLowerCase();
  const at = fn.findIndex((i) => i.mnemonic === wanted || (wanted === 'call' && /^call[lq]?$/.test(i.mnemonic)));
  if (at < 0) return [`no ${wanted} instruction (the ${entry.kind} entry of ${abi.name})`];
  for (const ins of fn.slice(0, at)) {
    const e = effect(ins, x86);
    if (e.dest === undefined) continue;
    if (e.dest === '{list}') {
      for (const r of ins.operands.replace(/[{}]/g, '').split(',')) regs.set(canonical(r.trim(), abi), undefined);
      continue;
    }
    const value = e.from !== undefined ? regs.get(canonical(e.from, abi)) : e.value;
    regs.set(canonical(e.dest, abi), value === undefined ? undefined : value & mask);
  }
  const ins = fn[at] as Instruction;
  if (entry.kind === 'hypercall-page') {
    const rel = ins.relocs.find((r) => r.symbol === pageSymbol);
    if (!rel) problems.push(`the call at 0x${ins.address.toString(16)} is not relocated against ${pageSymbol}`);
    else {
      // PC-relative displacement: its field's implicit addend (REL, i386) plus the explicit one (RELA, x86_64),
      // counted from the end of the instruction.
      const field = rel.offset - ins.address;
      let implicit = 0n;
      for (let i = 3; i >= 0; i--) implicit = (implicit << 8n) | BigInt(ins.bytes[field + i] ?? 0);
      if (implicit >= 0x80000000n) implicit -= 0x100000000n;
      const offset = rel.addend + implicit + BigInt(ins.bytes.length - field);
      const want = BigInt(expect.number * (entry.stubSize ?? 0));
      if (offset !== want) problems.push(`call ${pageSymbol}+0x${offset.toString(16)}, expected +0x${want.toString(16)} (${expect.number} * ${entry.stubSize})`);
    }
  } else {
    const imm = immediate(ins.operands.split(/\s+/)[0] ?? '');
    if (entry.immediate !== undefined && imm !== BigInt(entry.immediate)) {
      problems.push(`${ins.mnemonic} ${ins.operands}: immediate ${hex(imm)}, expected 0x${entry.immediate.toString(16)}`);
    }
    const nr = regs.get(conv.number);
    if (nr !== BigInt(expect.number)) problems.push(`number register ${conv.number} holds ${hex(nr)}, expected ${expect.number}`);
  }
  expect.args.forEach((v, i) => {
    const reg = conv.args[i];
    if (reg === undefined) {
      problems.push(`argument ${i} has no register in ${abi.name}`);
      return;
    }
    const got = regs.get(reg);
    if (got !== (v & mask)) problems.push(`argument ${i} register ${reg} holds ${hex(got)}, expected ${hex(v & mask)}`);
  });
  return problems;
}
