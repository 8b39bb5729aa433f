/**
 * The calling side of the TS target, shared by guest stubs and dispatchers: each hypercall's
 * logical arguments (the native list) with their TS kinds, and per ABI how they travel in
 * the spec's registers: one register each, a lo-hi register pair where the ABI splits a
 * 64-bit value, or (when the ABI's list is not a split of the native one) a list of its own.
 */
import type { Abi, Arch, Arg, Hypercall, Operation, TypeRef } from '../../spec/index.js';
import type { GenHypercall } from '../model.js';
import { scalarOf } from './codecs.js';
import { TsEmitError, type TsModel } from './shapes.js';

/** The TS kind of a register-level value: number, bigint, or a guest address (bigint). */
export type ArgKind = 'num' | 'big' | 'addr';

/** A logical argument. */
export interface LogicalArg {
  arg: Arg;
  kind: ArgKind;
  /** For a pointer or handle to a declared type or scalar (not void): its C name. */
  pointee?: string;
}

/** How one ABI's registers carry the logical arguments. */
export type AbiPlan =
  | { kind: 'joined'; slots: Slot[] }
  | { kind: 'own'; args: LogicalArg[]; slots: Slot[] };

/** One logical argument in one register, or a 64-bit one in two (lo, hi). */
export interface Slot {
  index: number;
  regs: string[];
  /** Size in bytes and signedness of the C type on the ABI's arch (pointers: pointer size). */
  size: number;
  signed: boolean;
}

/** A hypercall as the TS target calls and dispatches it. */
export interface CallModel {
  gen: GenHypercall;
  h: Hypercall;
  args: LogicalArg[];
  /** Per ABI of the model that has the call. */
  plans: Map<string, AbiPlan>;
  /** Every ABI of the model (having the call or not): how a guest stub marshals for it. */
  guestPlans: Map<string, AbiPlan>;
}

const isSignedScalar = (s: string) => /^(int|long|short|signed char|long long|int(8|16|32|64)_t)$/.test(s);

/** The kind, size and signedness of a register argument's type on an arch. */
function argInfo(ts: TsModel, t: TypeRef, arch: Arch, item: string): { kind: ArgKind; size: number; signed: boolean } {
  if (t.kind === 'pointer' || t.kind === 'handle') return { kind: 'addr', size: arch.pointerSize, signed: false };
  const s = scalarOf(ts, t, arch);
  if (!s) throw new TsEmitError(item, 'a register argument must be a scalar, a pointer or a handle');
  const l = arch.scalars[s];
  if (!l) throw new TsEmitError(item, `scalar '${s}' has no layout on ${arch.name}`);
  const shape = ts.resolved(ts.types.has((t as { name: string }).name) ? { k: 'named', cName: (t as { name: string }).name } : ts.scalarShape(s, item));
  return { kind: shape.k === 'big' ? 'big' : 'num', size: l.size, signed: isSignedScalar(s) };
}

function logical(ts: TsModel, args: readonly Arg[], arches: Arch[], item: string): LogicalArg[] {
  return args.map((a) => {
    const kinds = arches.map((arch) => argInfo(ts, a.type, arch, `${item}(${a.name})`).kind);
    const kind: ArgKind = kinds.includes('addr') ? 'addr' : kinds.includes('big') ? 'big' : 'num';
    const to = a.type.kind === 'pointer' || a.type.kind === 'handle' ? a.type.to : undefined;
    const pointee = to?.kind === 'name' && to.name !== 'void' ? to.name : undefined;
    return { arg: a, kind, ...(pointee ? { pointee } : {}) };
  });
}

/** Whether `abiArgs` are the native arguments, some 64-bit ones split lo-hi; the slots if so. */
function join(ts: TsModel, native: LogicalArg[], abiArgs: readonly Arg[], abi: Abi, arch: Arch, item: string): Slot[] | undefined {
  const regs = abi.convention.args;
  const slots: Slot[] = [];
  let j = 0;
  for (let i = 0; i < native.length; i++) {
    const n = native[i] as LogicalArg;
    const a = abiArgs[j];
    if (a && a.name === n.arg.name) {
      const info = argInfo(ts, a.type, arch, `${item}(${a.name})`);
      slots.push({ index: i, regs: [regAt(regs, j, item, abi)], size: info.size, signed: info.signed });
      j += 1;
      continue;
    }
    const nat = argInfo(ts, n.arg.type, arch, `${item}(${n.arg.name})`);
    const lo = abiArgs[j];
    const hi = abiArgs[j + 1];
    if (abi.convention.split64 === 'lo-hi' && nat.size === 8 && arch.wordSize === 4 && lo && hi) {
      const l = argInfo(ts, lo.type, arch, item);
      const h = argInfo(ts, hi.type, arch, item);
      if (l.size === 4 && h.size === 4) {
        slots.push({ index: i, regs: [regAt(regs, j, item, abi), regAt(regs, j + 1, item, abi)], size: 8, signed: nat.signed });
        j += 2;
        continue;
      }
    }
    return undefined;
  }
  return j === abiArgs.length ? slots : undefined;
}

function regAt(regs: readonly string[], j: number, item: string, abi: Abi): string {
  const r = regs[j];
  if (r === undefined) throw new TsEmitError(item, `has more arguments than ${abi.name} has argument registers`);
  return r;
}

/** The call model of every hypercall of the model that some ABI of the model has. */
export function callModels(ts: TsModel): CallModel[] {
  const out: CallModel[] = [];
  for (const gen of ts.model.hypercalls) {
    const h = gen.hypercall;
    const item = h.name;
    const arches = ts.model.arches;
    const native = logical(ts, h.args, arches, item);
    const plans = new Map<string, AbiPlan>();
    const guestPlans = new Map<string, AbiPlan>();
    for (const abi of ts.model.abis) {
      const arch = arches.find((a) => a.name === abi.arch) as Arch;
      const abiArgs = gen.args[abi.name] ?? h.args;
      const slots = join(ts, native, abiArgs, abi, arch, item);
      let plan: AbiPlan;
      if (slots) plan = { kind: 'joined', slots };
      else {
        const own = logical(ts, abiArgs, [arch], `${item}@${abi.name}`);
        plan = {
          kind: 'own',
          args: own,
          slots: own.map((a, i) => {
            const info = argInfo(ts, a.arg.type, arch, item);
            return { index: i, regs: [regAt(abi.convention.args, i, item, abi)], size: info.size, signed: info.signed };
          }),
        };
      }
      guestPlans.set(abi.name, plan);
      if (abi.name in h.abis) plans.set(abi.name, plan);
    }
    if (plans.size === 0) continue;
    if (h.subops && [...plans.values()].some((p) => p.kind === 'own')) {
      throw new TsEmitError(item, 'a multiplexed hypercall whose ABIs pass different argument lists is not supported');
    }
    out.push({ gen, h, args: native, plans, guestPlans });
  }
  return out;
}

/** Whether an operation exists under an ABI (its `abis` list names the ABI, its arch or its family). */
export function opOnAbi(op: Operation, abi: Abi, arch: Arch): boolean {
  return op.abis === undefined || op.abis.includes(abi.name) || op.abis.includes(arch.name) || op.abis.includes(arch.family);
}

/** For a batched hypercall (`uops[].cmd`): the array argument and the element field. */
export function batchSelector(h: Hypercall): { array: string; field: string } | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)\[\]\.(.+)$/.exec(h.subops?.selector ?? '');
  return m ? { array: m[1] as string, field: m[2] as string } : undefined;
}

/** The TS type text of a logical argument at register level (guest stubs). */
export function rawType(a: LogicalArg): string {
  return a.kind === 'num' ? 'number' : 'bigint';
}

/** The method parameter names of a list: C names, made safe. */
export function paramName(name: string): string {
  return /^(arguments|eval|default|function|new|delete|in|var|let|const|class|this|void|case|switch|return|type)$/.test(name) ? `${name}_` : name;
}

/** The operations of a hypercall that some ABI of the model has, with an argument type the model defines. */
export function modelOps(ts: TsModel, cm: CallModel): Operation[] {
  const abis = ts.model.abis.filter((a) => cm.plans.has(a.name));
  return (cm.h.subops?.ops ?? []).filter((op) => {
    if (op.arg && op.arg.kind === 'name' && !ts.isScalar(op.arg.name) && !ts.types.has(op.arg.name)) return false;
    return abis.some((abi) => opOnAbi(op, abi, ts.model.arches.find((a) => a.name === abi.arch) as Arch));
  });
}
