/**
 * The live kernel's serial lines (live-xen/kernel/kernel.c) parsed into what each program
 * produced, and turned into the ExecResult of the conformance model. A protocol line is
 * `@@HX <tag> <prog> ...` anywhere in a serial line (a program may have written to the
 * console without a newline); Xen's own lines and anything else are kept as context.
 */
import type { InstrResult, Program } from '../conformance/program.js';
import type { ExecResult } from '../conformance/target.js';

export type LineResult = { kind: 'call'; value: bigint } | { kind: 'read'; bytes: Uint8Array } | { kind: 'fault' } | { kind: 'advance'; ns: bigint };

/** What the kernel said about one program. */
export interface ProgramReport {
  started: boolean;
  ended: boolean;
  results: Map<number, LineResult>;
  /** The instruction at which the kernel gave up on the program, and why. */
  stopped?: { instr: number; reason: string };
  /** Lines the parser did not understand while this program ran (Xen messages, garbage). */
  other: string[];
}

export interface BootInfo {
  dataBase: bigint;
  maxPages: number;
  sharedInfo: bigint;
  unmapped: bigint;
  nrPages: number;
}

export interface SerialReport {
  boot?: BootInfo;
  programs: Map<number, ProgramReport>;
  /** The `Z` line's count when the kernel finished. */
  finished?: number;
  /** The program running when the output ended. */
  last?: number;
  /** A program that changed dom0 for good (the kernel ended the boot after it), and how. */
  tainted?: { prog: number; what: string };
  /** Lines that are not the kernel's (Xen's boot messages and the like). */
  other: string[];
}

const HEX = /^[0-9a-f]+$/;

function fresh(): ProgramReport {
  return { started: false, ended: false, results: new Map(), other: [] };
}

/** Parses serial lines; malformed protocol lines are kept as `other` of the current program. */
export function parseSerial(lines: readonly string[]): SerialReport {
  const r: SerialReport = { programs: new Map(), other: [] };
  const prog = (n: number) => {
    let p = r.programs.get(n);
    if (!p) r.programs.set(n, (p = fresh()));
    return p;
  };
  for (const raw of lines) {
    const at = raw.indexOf('@@HX ');
    if (at < 0) {
      if (r.last !== undefined && !prog(r.last).ended) prog(r.last).other.push(raw);
      else if (raw.trim()) r.other.push(raw);
      continue;
    }
    const w = raw.slice(at + 5).trim().split(/\s+/);
    const [tag, n] = [w[0], Number(w[1])];
    const bad = () => (r.last !== undefined ? prog(r.last).other : r.other).push(raw);
    if (!Number.isInteger(n) || n < 0) {
      bad();
      continue;
    }
    switch (tag) {
      case 'B':
        if (w.length === 7 && HEX.test(w[2] ?? '') && HEX.test(w[4] ?? '') && HEX.test(w[5] ?? '')) {
          r.boot = { dataBase: BigInt(`0x${w[2]}`), maxPages: Number(w[3]), sharedInfo: BigInt(`0x${w[4]}`), unmapped: BigInt(`0x${w[5]}`), nrPages: Number(w[6]) };
        } else bad();
        break;
      case 'P':
        prog(n).started = true;
        r.last = n;
        break;
      case 'E':
        prog(n).ended = true;
        break;
      case 'Z':
        r.finished = n;
        break;
      case 'T':
        if (w.length === 3) r.tainted = { prog: n, what: w[2] as string };
        else bad();
        break;
      case 'W':
        // A heartbeat during a long advance.
        if (w.length !== 3) bad();
        break;
      case 'R': {
        const k = Number(w[2]);
        if (w.length === 4 && Number.isInteger(k) && HEX.test(w[3] ?? '')) prog(n).results.set(k, { kind: 'call', value: BigInt(`0x${w[3]}`) });
        else bad();
        break;
      }
      case 'M': {
        const k = Number(w[2]);
        const v = w[3] ?? '';
        if (w.length === 4 && Number.isInteger(k) && v === 'fault') prog(n).results.set(k, { kind: 'fault' });
        else if (w.length === 4 && Number.isInteger(k) && /^([0-9a-f]{2})+$/.test(v)) prog(n).results.set(k, { kind: 'read', bytes: Uint8Array.from(Buffer.from(v, 'hex')) });
        else if (w.length === 3 && Number.isInteger(k)) prog(n).results.set(k, { kind: 'read', bytes: new Uint8Array(0) });
        else bad();
        break;
      }
      case 'A': {
        const k = Number(w[2]);
        if (w.length === 4 && Number.isInteger(k) && /^\d+$/.test(w[3] ?? '')) prog(n).results.set(k, { kind: 'advance', ns: BigInt(w[3] as string) });
        else bad();
        break;
      }
      case 'X': {
        const k = Number(w[2]);
        if (w.length >= 4 && Number.isInteger(k)) prog(n).stopped = { instr: k, reason: w.slice(3).join(' ') };
        else bad();
        break;
      }
      default:
        bad();
    }
  }
  return r;
}

/**
 * The ExecResult of one program from what the kernel said. `context` is given for a program
 * that never completed (the last serial lines, for the error message).
 */
export function execResult(p: Program, rep: ProgramReport | undefined, context: readonly string[]): ExecResult {
  const results: InstrResult[] = [];
  const notes: string[] = [];
  if (!rep || !rep.started) return { results, error: `the live kernel never started this program; last serial lines:\n${context.join('\n')}` };
  for (const [k, ins] of p.instrs.entries()) {
    if (rep.stopped && k >= rep.stopped.instr) {
      return { results, error: `the live kernel stopped at instruction ${rep.stopped.instr} (${p.instrs[rep.stopped.instr]?.op ?? '?'}): ${rep.stopped.reason}`, ...(notes.length ? { notes } : {}) };
    }
    const got = rep.results.get(k);
    if (ins.op === 'write' || ins.op === 'store') {
      results.push({ op: 'done' });
      continue;
    }
    if (ins.op === 'advance') {
      if (got?.kind !== 'advance') break;
      notes.push(`instruction ${k}: Xen's clock cannot be set; the kernel spun ${got.ns} ns on it (timers fired as they fell due)`);
      results.push({ op: 'done' });
      continue;
    }
    if (ins.op === 'call') {
      if (got?.kind !== 'call') break;
      results.push({ op: 'call', result: got.value });
      continue;
    }
    if (got?.kind === 'fault') results.push({ op: 'read', fault: true });
    else if (got?.kind === 'read' && got.bytes.length === ins.length) results.push({ op: 'read', bytes: got.bytes });
    else break;
  }
  const extra = notes.length ? { notes } : {};
  if (results.length === p.instrs.length && rep.ended) return { results, ...extra };
  // Trailing writes and stores without a later result are not known to have run (an advance is: the kernel said so).
  const silent = (k: number) => p.instrs[k]?.op === 'write' || p.instrs[k]?.op === 'store';
  while (results.length > 0 && silent(results.length - 1) && !rep.ended) results.pop();
  const tail = [...rep.other, ...context].slice(-25);
  return { results, error: `the program did not complete on Xen (${results.length} of ${p.instrs.length} instructions); last serial lines:\n${tail.join('\n')}`, ...extra };
}
