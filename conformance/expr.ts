/**
 * Value expressions of scenarios: integers and strings that name what a target alone knows.
 *
 *   42, "0x7ff0", "-1"         integers (decimal or 0x hex; JSON numbers too)
 *   "DOMID_SELF", "-EINVAL"    spec constants for the caller's arch; -E... is a negated errno
 *   "@0x100"                   byte 0x100 of the calling domain's data area (a guest address)
 *   "@1:0x100"                 the same in domain 1's data area
 *   "$port"                    a value saved by an earlier step (loaded from guest memory when used)
 *   "frame(3)", "frame(1:3)"   the frame number of page 3 of the data area (of domain 1)
 *   "pte(3, 0x67)"             frame(3) << 12 | 0x67: an x86 page-table entry
 *   "unmapped"                 an address the caller cannot access
 *   "shared_info"              where the caller sees its shared_info page
 *   "grant_table"              where the caller sees frame 0 of its grant table (frames follow
 *                              contiguously; valid once the table is set up: GNTTABOP_setup_table)
 *   "grant_status"             where the caller sees its first v2 grant status frame
 *   "offsetof(T, f.g)"         the byte offset of a field of spec type T for the caller's arch
 *   "sizeof(T)"                the size of spec type T for the caller's arch
 *   a | b, a + b               combinations (left to right)
 */
import type { Operand } from './program.js';

/** What names and places mean while lowering one step. */
export interface ExprContext {
  /** The calling domain. */
  dom: number;
  constant(name: string): bigint | undefined;
  errno(name: string): number | undefined;
  dataBase(dom: number): bigint;
  unmapped(dom: number): bigint;
  sharedInfo(dom: number): bigint | undefined;
  variable(name: string): Operand | undefined;
  /** Where the domain sees its grant table frame 0 (undefined: the target does not say). */
  grantTable?(dom: number): bigint | undefined;
  /** Where the domain sees its first grant status frame (v2). */
  grantStatus?(dom: number): bigint | undefined;
  /** Offset of a (dotted) field of a spec type for the caller's arch; undefined when there is none. */
  offsetOf?(type: string, path: string): number | undefined;
  /** Size of a spec type for the caller's arch; undefined when there is none. */
  sizeOf?(type: string): number | undefined;
}

/** A bad expression: the message says which and why. */
export class ExprError extends Error {
  override name = 'ExprError';
}

const INT = /^(0x[0-9a-f]+|[0-9]+)$/i;

function parseInt_(s: string, what: string): bigint {
  if (!INT.test(s)) throw new ExprError(`${what}: '${s}' is not an integer`);
  return BigInt(s);
}

function term(raw: string, cx: ExprContext): Operand {
  const s = raw.trim();
  if (s === '') throw new ExprError('empty term');
  if (INT.test(s)) return BigInt(s);
  if (s.startsWith('-') && INT.test(s.slice(1))) return -BigInt(s.slice(1));
  if (s.startsWith('@')) {
    const m = /^@(?:(\d+):)?(0x[0-9a-f]+|\d+)$/i.exec(s);
    if (!m) throw new ExprError(`'${s}': an address is @offset or @domain:offset`);
    const dom = m[1] !== undefined ? Number(m[1]) : cx.dom;
    return cx.dataBase(dom) + BigInt(m[2] as string);
  }
  if (s.startsWith('$')) {
    const v = cx.variable(s.slice(1));
    if (v === undefined) throw new ExprError(`'${s}' was not saved by an earlier step`);
    return v;
  }
  let m = /^frame\(\s*(?:(\d+)\s*:\s*)?(\d+)\s*\)$/.exec(s);
  if (m) return { frame: { dom: m[1] !== undefined ? Number(m[1]) : cx.dom, page: Number(m[2]) } };
  m = /^pte\(\s*(?:(\d+)\s*:\s*)?(\d+)\s*,\s*(.+)\)$/.exec(s);
  if (m) {
    const flags = expr(m[3] as string, cx);
    if (typeof flags !== 'bigint') throw new ExprError(`'${s}': the flags of pte() must be constant`);
    return { frame: { dom: m[1] !== undefined ? Number(m[1]) : cx.dom, page: Number(m[2]) }, shl: 12, ...(flags !== 0n ? { or: flags } : {}) };
  }
  if (s === 'unmapped') return cx.unmapped(cx.dom);
  if (s === 'shared_info') {
    const a = cx.sharedInfo(cx.dom);
    if (a === undefined) throw new ExprError('this target does not say where shared_info is');
    return a;
  }
  if (s === 'grant_table' || s === 'grant_status') {
    const a = s === 'grant_table' ? cx.grantTable?.(cx.dom) : cx.grantStatus?.(cx.dom);
    if (a === undefined) throw new ExprError(`this target does not say where the ${s === 'grant_table' ? 'grant table' : 'grant status frames'} of domain ${cx.dom} can be reached`);
    return a;
  }
  m = /^offsetof\(\s*([A-Za-z_][A-Za-z0-9_ ]*?)\s*,\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\)$/.exec(s);
  if (m) {
    const off = cx.offsetOf?.(m[1] as string, m[2] as string);
    if (off === undefined) throw new ExprError(`'${s}': no field ${m[2]} in a spec type ${m[1]}`);
    return BigInt(off);
  }
  m = /^sizeof\(\s*([A-Za-z_][A-Za-z0-9_ ]*?)\s*\)$/.exec(s);
  if (m) {
    const size = cx.sizeOf?.(m[1] as string);
    if (size === undefined) throw new ExprError(`'${s}': no spec type ${m[1]}`);
    return BigInt(size);
  }
  const neg = s.startsWith('-');
  const name = neg ? s.slice(1) : s;
  if (/^[A-Za-z_][A-Za-z_0-9]*$/.test(name)) {
    if (neg && /^E[A-Z0-9]+$/.test(name)) {
      const e = cx.errno(name);
      if (e === undefined) throw new ExprError(`unknown errno '${name}'`);
      return BigInt(e);
    }
    const c = cx.constant(name);
    if (c === undefined) throw new ExprError(`unknown constant '${name}'`);
    return neg ? -c : c;
  }
  throw new ExprError(`cannot read '${s}'`);
}

/** Evaluates an expression (a number or string) to an operand. */
export function expr(v: unknown, cx: ExprContext): Operand {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new ExprError(`${v} is not an integer`);
    return BigInt(v);
  }
  if (typeof v === 'bigint') return v;
  if (typeof v !== 'string') throw new ExprError(`expected a number or an expression string, got ${JSON.stringify(v)}`);
  // Split on | and + outside parentheses.
  const parts: { op: '|' | '+'; text: string }[] = [];
  let depth = 0;
  let cur = '';
  let op: '|' | '+' = '|';
  for (const ch of v) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth === 0 && (ch === '|' || ch === '+')) {
      parts.push({ op, text: cur });
      op = ch;
      cur = '';
    } else cur += ch;
  }
  parts.push({ op, text: cur });
  let acc: Operand | undefined;
  for (const p of parts) {
    const t = term(p.text, cx);
    acc = acc === undefined ? t : combine(acc, p.op, t, v);
  }
  return acc as Operand;
}

function combine(a: Operand, op: '|' | '+', b: Operand, text: string): Operand {
  if (typeof a === 'bigint' && typeof b === 'bigint') return op === '|' ? a | b : a + b;
  const [dyn, k] = typeof a === 'bigint' ? [b, a] : [a, b];
  if (typeof k !== 'bigint') throw new ExprError(`'${text}': two run-time values cannot be combined`);
  if (typeof dyn === 'bigint') throw new ExprError(`'${text}': cannot combine`);
  if ('frame' in dyn) {
    if (op === '+') throw new ExprError(`'${text}': a frame takes | only`);
    return { ...dyn, or: (dyn.or ?? 0n) | k };
  }
  return op === '|' ? { ...dyn, or: (dyn.or ?? 0n) | k } : { ...dyn, add: (dyn.add ?? 0n) + k };
}

/** An expression that must be constant (no run-time values). */
export function constExpr(v: unknown, cx: ExprContext, what: string): bigint {
  const o = expr(v, cx);
  if (typeof o !== 'bigint') throw new ExprError(`${what} must be a constant here`);
  return o;
}

export { parseInt_ as parseInteger };
