/**
 * A small table-driven x86 (32-bit protected mode) assembler for the handful of
 * instructions the native VMI ROM needs. AT&T syntax (`mnemonic src, dst`), one instruction
 * or `label:` per line, `#` comments. Immediates and displacements are numbers or symbols
 * (resolved by the caller: spec constants, layout offsets, labels). Branches always use
 * 32-bit displacements, so one pass plus fix-ups suffices.
 *
 * Each row of ENCODINGS is one instruction form: mnemonic, operand pattern, opcode bytes and
 * how the operands are encoded (ModRM reg/rm, an opcode extension digit, +r, immediate,
 * relative branch).
 */

const REG32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const REG16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const REG8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];

/** A parsed operand. */
export type Operand =
  | { kind: 'r32' | 'r16' | 'r8' | 'cr' | 'dr'; n: number }
  | { kind: 'imm'; value: string }
  | { kind: 'mem'; disp: string | undefined; base: number | undefined; index: number | undefined; scale: number }
  | { kind: 'label'; name: string };

/** Operand patterns of the encoding table. */
type Pattern = 'r32' | 'r16' | 'r8' | 'al' | 'eax' | 'rm32' | 'rm16' | 'rm8' | 'm' | 'imm8' | 'imm8s' | 'imm32' | 'cr' | 'dr' | 'rel';

/** How an instruction form is encoded. */
interface Encoding {
  mn: string;
  ops: Pattern[];
  opcode: number[];
  /** ModRM: `reg` and `rm` operand indexes, or an opcode-extension `digit` with `rm`. */
  modrm?: { reg?: number; digit?: number; rm: number };
  /** Register operand added to the last opcode byte. */
  plusr?: number;
  /** Immediate operand index and size. */
  imm?: { op: number; size: 1 | 4 };
  /** Relative branch target operand (rel32). */
  rel?: number;
}

/** ALU forms in the order GNU as prefers them: sign-extended imm8, the short eax form, then imm32. */
const alu = (mn: string, rmr: number, digit: number): Encoding[] => [
  { mn, ops: ['imm8s', 'rm32'], opcode: [0x83], modrm: { digit, rm: 1 }, imm: { op: 0, size: 1 } },
  { mn, ops: ['imm32', 'eax'], opcode: [rmr + 4], imm: { op: 0, size: 4 } },
  { mn, ops: ['r32', 'rm32'], opcode: [rmr], modrm: { reg: 0, rm: 1 } },
  { mn, ops: ['rm32', 'r32'], opcode: [rmr + 2], modrm: { reg: 1, rm: 0 } },
  { mn, ops: ['imm32', 'rm32'], opcode: [0x81], modrm: { digit, rm: 1 }, imm: { op: 0, size: 4 } },
];
const none = (mn: string, ...opcode: number[]): Encoding => ({ mn, ops: [], opcode });
const jcc = (mn: string, cc: number): Encoding => ({ mn, ops: ['rel'], opcode: [0x0f, 0x80 + cc], rel: 0 });

/** The instruction forms this assembler knows. */
export const ENCODINGS: Encoding[] = [
  none('ret', 0xc3), none('lret', 0xcb), none('iret', 0xcf), none('nop', 0x90),
  none('cli', 0xfa), none('sti', 0xfb), none('hlt', 0xf4), none('pushf', 0x9c), none('popf', 0x9d),
  none('cpuid', 0x0f, 0xa2), none('rdtsc', 0x0f, 0x31), none('rdmsr', 0x0f, 0x32), none('wrmsr', 0x0f, 0x30),
  none('rdpmc', 0x0f, 0x33), none('wbinvd', 0x0f, 0x09), none('clts', 0x0f, 0x06), none('sysexit', 0x0f, 0x35),
  { mn: 'mov', ops: ['r32', 'rm32'], opcode: [0x89], modrm: { reg: 0, rm: 1 } },
  { mn: 'mov', ops: ['rm32', 'r32'], opcode: [0x8b], modrm: { reg: 1, rm: 0 } },
  { mn: 'mov', ops: ['imm32', 'r32'], opcode: [0xb8], plusr: 1, imm: { op: 0, size: 4 } },
  { mn: 'mov', ops: ['imm8', 'al'], opcode: [0xb0], imm: { op: 0, size: 1 } },
  { mn: 'mov', ops: ['cr', 'r32'], opcode: [0x0f, 0x20], modrm: { reg: 0, rm: 1 } },
  { mn: 'mov', ops: ['r32', 'cr'], opcode: [0x0f, 0x22], modrm: { reg: 1, rm: 0 } },
  { mn: 'mov', ops: ['dr', 'r32'], opcode: [0x0f, 0x21], modrm: { reg: 0, rm: 1 } },
  { mn: 'mov', ops: ['r32', 'dr'], opcode: [0x0f, 0x23], modrm: { reg: 1, rm: 0 } },
  { mn: 'movzbl', ops: ['rm8', 'r32'], opcode: [0x0f, 0xb6], modrm: { reg: 1, rm: 0 } },
  { mn: 'lea', ops: ['m', 'r32'], opcode: [0x8d], modrm: { reg: 1, rm: 0 } },
  { mn: 'push', ops: ['r32'], opcode: [0x50], plusr: 0 },
  { mn: 'pop', ops: ['r32'], opcode: [0x58], plusr: 0 },
  ...alu('add', 0x01, 0), ...alu('or', 0x09, 1), ...alu('and', 0x21, 4), ...alu('sub', 0x29, 5),
  ...alu('xor', 0x31, 6), ...alu('cmp', 0x39, 7), ...alu('adc', 0x11, 2), ...alu('sbb', 0x19, 3),
  // Unsigned multiply and divide: edx:eax = eax × rm32; eax, edx = edx:eax ÷ rm32 (quotient, remainder).
  { mn: 'mul', ops: ['rm32'], opcode: [0xf7], modrm: { digit: 4, rm: 0 } },
  { mn: 'div', ops: ['rm32'], opcode: [0xf7], modrm: { digit: 6, rm: 0 } },
  // Shifts by an immediate count (GNU as prefers D1 for a count of 1: write 2 or more here).
  { mn: 'shr', ops: ['imm8', 'rm32'], opcode: [0xc1], modrm: { digit: 5, rm: 1 }, imm: { op: 0, size: 1 } },
  { mn: 'shrd', ops: ['imm8', 'r32', 'rm32'], opcode: [0x0f, 0xac], modrm: { reg: 1, rm: 2 }, imm: { op: 0, size: 1 } },
  { mn: 'test', ops: ['r32', 'rm32'], opcode: [0x85], modrm: { reg: 0, rm: 1 } },
  { mn: 'test', ops: ['imm32', 'eax'], opcode: [0xa9], imm: { op: 0, size: 4 } },
  { mn: 'test', ops: ['imm32', 'rm32'], opcode: [0xf7], modrm: { digit: 0, rm: 1 }, imm: { op: 0, size: 4 } },
  { mn: 'lgdt', ops: ['m'], opcode: [0x0f, 0x01], modrm: { digit: 2, rm: 0 } },
  { mn: 'lidt', ops: ['m'], opcode: [0x0f, 0x01], modrm: { digit: 3, rm: 0 } },
  { mn: 'sgdt', ops: ['m'], opcode: [0x0f, 0x01], modrm: { digit: 0, rm: 0 } },
  { mn: 'sidt', ops: ['m'], opcode: [0x0f, 0x01], modrm: { digit: 1, rm: 0 } },
  { mn: 'invlpg', ops: ['m'], opcode: [0x0f, 0x01], modrm: { digit: 7, rm: 0 } },
  { mn: 'sldt', ops: ['r32'], opcode: [0x0f, 0x00], modrm: { digit: 0, rm: 0 } },
  { mn: 'str', ops: ['r32'], opcode: [0x0f, 0x00], modrm: { digit: 1, rm: 0 } },
  { mn: 'lldt', ops: ['rm16'], opcode: [0x0f, 0x00], modrm: { digit: 2, rm: 0 } },
  { mn: 'ltr', ops: ['rm16'], opcode: [0x0f, 0x00], modrm: { digit: 3, rm: 0 } },
  { mn: 'out', ops: ['al', 'imm8'], opcode: [0xe6], imm: { op: 1, size: 1 } },
  { mn: 'in', ops: ['imm8', 'al'], opcode: [0xe4], imm: { op: 0, size: 1 } },
  { mn: 'jmp', ops: ['rel'], opcode: [0xe9], rel: 0 },
  { mn: 'call', ops: ['rel'], opcode: [0xe8], rel: 0 },
  jcc('jb', 0x2), jcc('jae', 0x3), jcc('je', 0x4), jcc('jz', 0x4), jcc('jne', 0x5), jcc('jnz', 0x5),
  jcc('jbe', 0x6), jcc('ja', 0x7),
];

/** An assembly error, with the line. */
export class AsmError extends Error {
  constructor(message: string, readonly line: string) {
    super(`${message}: '${line}'`);
    this.name = 'AsmError';
  }
}

function parseReg(s: string): Operand | undefined {
  const name = s.slice(1);
  const cr = /^cr([0-4])$/.exec(name);
  if (cr) return { kind: 'cr', n: Number(cr[1]) };
  const dr = /^d[br]([0-7])$/.exec(name);
  if (dr) return { kind: 'dr', n: Number(dr[1]) };
  for (const [kind, table] of [['r32', REG32], ['r16', REG16], ['r8', REG8]] as const) {
    const n = table.indexOf(name);
    if (n >= 0) return { kind, n };
  }
  return undefined;
}

/** Parses one operand. */
export function parseOperand(s: string, line: string): Operand {
  const t = s.trim();
  if (t.startsWith('%')) {
    const r = parseReg(t);
    if (!r) throw new AsmError(`unknown register ${t}`, line);
    return r;
  }
  if (t.startsWith('$')) return { kind: 'imm', value: t.slice(1) };
  const mem = /^([^(]*)\(([^)]*)\)$/.exec(t);
  if (mem) {
    const parts = (mem[2] as string).split(',').map((x) => x.trim());
    const reg = (x: string | undefined) => {
      if (x === undefined || x === '') return undefined;
      const r = parseReg(x);
      if (!r || r.kind !== 'r32') throw new AsmError(`bad address register ${x}`, line);
      return r.n;
    };
    const scale = parts[2] === undefined ? 1 : Number(parts[2]);
    if (![1, 2, 4, 8].includes(scale)) throw new AsmError(`bad scale ${parts[2]}`, line);
    const index = reg(parts[1]);
    if (index === 4) throw new AsmError('%esp cannot be an index', line);
    return { kind: 'mem', disp: (mem[1] as string).trim() || undefined, base: reg(parts[0]), index, scale };
  }
  if (/^[A-Za-z_.][A-Za-z0-9_.]*$/.test(t)) return { kind: 'label', name: t };
  throw new AsmError(`bad operand ${t}`, line);
}

/** AT&T operands split at top-level commas (not inside parentheses), trimmed. */
export function splitOperands(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out.map((x) => x.trim());
}

function matches(p: Pattern, o: Operand, value: (o: Operand) => number | undefined): boolean {
  switch (p) {
    case 'eax':
      return o.kind === 'r32' && o.n === 0;
    case 'imm8s': {
      const v = o.kind === 'imm' ? value(o) : undefined;
      if (v === undefined) return false;
      const s = v > 0x7fffffff ? v - 0x100000000 : v;
      return s >= -128 && s <= 127;
    }
    case 'r32':
    case 'r16':
    case 'r8':
    case 'cr':
    case 'dr':
      return o.kind === p;
    case 'al':
      return o.kind === 'r8' && o.n === 0;
    case 'rm32':
      return o.kind === 'r32' || o.kind === 'mem';
    case 'rm16':
      return o.kind === 'r16' || o.kind === 'mem';
    case 'rm8':
      return o.kind === 'r8' || o.kind === 'mem';
    case 'm':
      return o.kind === 'mem';
    case 'imm8':
    case 'imm32':
      return o.kind === 'imm';
    case 'rel':
      return o.kind === 'label';
  }
}

/** Resolves a symbol or number to a value. */
export type Resolver = (name: string) => number | undefined;

function evaluate(expr: string, resolve: Resolver, line: string): number {
  const e = expr.trim();
  if (e.startsWith('~')) return ~evaluate(e.slice(1), resolve, line) >>> 0;
  if (e.startsWith('-')) return -evaluate(e.slice(1), resolve, line);
  if (/^(0x[0-9a-f]+|\d+)$/i.test(e)) return Number(e);
  const v = resolve(e);
  if (v === undefined) throw new AsmError(`unknown symbol ${e}`, line);
  return v;
}

const le = (v: number, size: number): number[] => {
  const out: number[] = [];
  for (let i = 0; i < size; i++) out.push(Math.floor(v / 256 ** i) & 0xff);
  return out;
};

function modrmBytes(regField: number, rm: Operand, resolve: Resolver, line: string): number[] {
  if (rm.kind === 'r32' || rm.kind === 'r16' || rm.kind === 'r8' || rm.kind === 'cr' || rm.kind === 'dr') return [0xc0 | (regField << 3) | rm.n];
  if (rm.kind !== 'mem') throw new AsmError('operand cannot be a ModRM operand', line);
  const disp = rm.disp === undefined ? 0 : evaluate(rm.disp, resolve, line) >>> 0;
  const signed = disp > 0x7fffffff ? disp - 0x100000000 : disp;
  if (rm.base === undefined && rm.index === undefined) return [(regField << 3) | 5, ...le(disp, 4)];
  const needSib = rm.index !== undefined || rm.base === 4 || rm.base === undefined;
  let mod: number;
  let dispBytes: number[];
  if (rm.base === undefined) {
    mod = 0;
    dispBytes = le(disp, 4);
  } else if (disp === 0 && rm.base !== 5) {
    mod = 0;
    dispBytes = [];
  } else if (signed >= -128 && signed <= 127) {
    mod = 1;
    dispBytes = le(signed & 0xff, 1);
  } else {
    mod = 2;
    dispBytes = le(disp, 4);
  }
  if (!needSib) return [(mod << 6) | (regField << 3) | (rm.base as number), ...dispBytes];
  const ss = [1, 2, 4, 8].indexOf(rm.scale);
  const sib = (ss << 6) | ((rm.index ?? 4) << 3) | (rm.base ?? 5);
  return [(mod << 6) | (regField << 3) | 4, sib, ...dispBytes];
}

/** The result of assembling a program. */
export interface Assembled {
  bytes: Uint8Array;
  /** Label → absolute offset (origin + position). */
  labels: Map<string, number>;
}

/**
 * Assembles lines at `origin` (the offset of the first byte in the final image). `resolve`
 * supplies symbols that are not labels of this program (labels of other programs included).
 */
export function assemble(source: readonly string[], origin: number, resolve: Resolver = () => undefined): Assembled {
  const out: number[] = [];
  const labels = new Map<string, number>();
  const fixups: { at: number; label: string; line: string }[] = [];
  for (const raw of source) {
    let line = raw.replace(/#.*$/, '').trim();
    const lab = /^([A-Za-z_.][A-Za-z0-9_.]*):\s*(.*)$/.exec(line);
    if (lab) {
      if (labels.has(lab[1] as string)) throw new AsmError(`label defined twice`, raw);
      labels.set(lab[1] as string, origin + out.length);
      line = (lab[2] as string).trim();
    }
    if (!line) continue;
    const sp = line.search(/\s/);
    const mn = sp < 0 ? line : line.slice(0, sp);
    const ops = sp < 0 ? [] : splitOperands(line.slice(sp + 1)).map((o) => parseOperand(o, raw));
    const value = (o: Operand) => {
      if (o.kind !== 'imm') return undefined;
      try {
        return evaluate(o.value, (n) => resolve(n) ?? labels.get(n), raw) >>> 0;
      } catch {
        return undefined;
      }
    };
    const enc = ENCODINGS.find((e) => e.mn === mn && e.ops.length === ops.length && e.ops.every((p, i) => matches(p, ops[i] as Operand, value)));
    if (!enc) {
      if (!ENCODINGS.some((e) => e.mn === mn)) throw new AsmError(`unknown mnemonic ${mn}`, raw);
      throw new AsmError(`no form of ${mn} takes these operands`, raw);
    }
    const opc = [...enc.opcode];
    if (enc.plusr !== undefined) {
      const r = ops[enc.plusr] as Operand;
      opc[opc.length - 1] = (opc[opc.length - 1] as number) + (r as { n: number }).n;
    }
    out.push(...opc);
    if (enc.modrm) {
      const rmOp = ops[enc.modrm.rm] as Operand;
      const regField = enc.modrm.digit ?? ((ops[enc.modrm.reg as number] as { n: number }).n);
      out.push(...modrmBytes(regField, rmOp, (n) => resolve(n) ?? labels.get(n), raw));
    }
    if (enc.imm) {
      const o = ops[enc.imm.op] as { value: string };
      const v = evaluate(o.value, (n) => resolve(n) ?? labels.get(n), raw);
      if (v < -0x80000000 || v > 0xffffffff) throw new AsmError(`immediate ${v} does not fit 32 bits`, raw);
      const u = v >>> 0;
      if (enc.imm.size === 1 && u > 0xff && u < 0xffffff80) throw new AsmError(`immediate ${v} does not fit a byte`, raw);
      out.push(...le(u, enc.imm.size));
    }
    if (enc.rel !== undefined) {
      fixups.push({ at: out.length, label: (ops[enc.rel] as { name: string }).name, line: raw });
      out.push(0, 0, 0, 0);
    }
  }
  for (const f of fixups) {
    const target = labels.get(f.label) ?? resolve(f.label);
    if (target === undefined) throw new AsmError(`unknown label ${f.label}`, f.line);
    const rel = (target - (origin + f.at + 4)) >>> 0;
    le(rel, 4).forEach((b, i) => (out[f.at + i] = b));
  }
  return { bytes: Uint8Array.from(out), labels };
}
