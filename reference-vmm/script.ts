/**
 * Scripted guests for exploration (`hyperabi vmm run <script>`): a JSON document that
 * creates a machine and runs steps against it (hypercalls by operation id with a typed
 * argument struct, or by raw registers; guest memory reads and writes; time; consoles;
 * invariants; snapshots). The format is described in docs/vmm-script.md.
 *
 * A bad script is a diagnostic naming the step, never an exception from the VMM: every value
 * is checked before it reaches `hypercall()`.
 */
import { Value } from 'typebox/value';
import { XenGuest } from '../generated/xen/guest.js';
import type { Registers } from '../generated/xen/runtime.js';
import * as types from '../generated/xen/types.js';
import type { Spec } from '../spec/index.js';
import { xenSpec } from '../spec/index.js';
import { gaddr } from './addr.js';
import { ConfigError, type MachineConfig, type MachineSnapshot } from './machine.js';
import { VmmTransport } from './transport.js';
import { ReferenceVmm, VmmError } from './vmm.js';

/** A problem with a script: where (`step 3 (call)`, `machine`) and what. */
export class ScriptError extends Error {
  override name = 'ScriptError';
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
  }
}

/** What a script run printed, and whether its expectations held. */
export interface ScriptRun {
  lines: string[];
  /** Steps whose `expect` did not hold, invariant violations and internal errors, in words. */
  failures: string[];
  vmm: ReferenceVmm;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const INT = /^-?(0x[0-9a-f]+|[0-9]+)$/i;

/** A JSON integer or integer string (decimal or 0x hex) as a bigint, or a ScriptError. */
function big(where: string, what: string, v: Json | undefined): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && INT.test(v)) return v.startsWith('-') ? -BigInt(v.slice(1)) : BigInt(v);
  throw new ScriptError(where, `${what} must be an integer (a number, or a decimal or 0x string), got ${JSON.stringify(v)}`);
}

function int(where: string, what: string, v: Json | undefined, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  const b = big(where, what, v);
  if (b < BigInt(Number.MIN_SAFE_INTEGER) || b > BigInt(Number.MAX_SAFE_INTEGER)) throw new ScriptError(where, `${what} is out of range`);
  return Number(b);
}

/** Hex strings become decimal strings, which TypeBox's Convert turns into numbers or bigints. */
function normalize(v: Json): Json {
  if (typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)) return BigInt(v).toString();
  if (Array.isArray(v)) return v.map(normalize);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

/** A value for printing: bigints as 0x hex, byte arrays as they are. */
function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x));
}

const schemas = types as unknown as Record<string, unknown>;

/** Runs a parsed script document. */
export function runScript(doc: unknown, spec: Spec = xenSpec): ScriptRun {
  if (!isObj(doc)) throw new ScriptError('script', 'must be a JSON object with "machine" and "steps"');
  const m = doc['machine'];
  if (!isObj(m) || !Array.isArray(m['domains'])) throw new ScriptError('machine', 'must be an object with a "domains" array');
  const config: MachineConfig = {
    domains: m['domains'].map((d, i) => {
      const w = `machine.domains[${i}]`;
      if (!isObj(d)) throw new ScriptError(w, 'must be an object');
      if (typeof d['abi'] !== 'string') throw new ScriptError(w, `abi must be one of ${spec.abis.map((a) => a.name).join(', ')}`);
      return {
        id: int(w, 'id', d['id']),
        abi: d['abi'],
        memoryPages: int(w, 'memoryPages', d['memoryPages']),
        vcpus: int(w, 'vcpus', d['vcpus'], 1),
        privileged: d['privileged'] === true,
        ...(d['maxEvtchnPort'] !== undefined ? { maxEvtchnPort: int(w, 'maxEvtchnPort', d['maxEvtchnPort']) } : {}),
      };
    }),
    ...(m['hostFrames'] !== undefined ? { hostFrames: int('machine', 'hostFrames', m['hostFrames']) } : {}),
  };
  let vmm: ReferenceVmm;
  try {
    vmm = new ReferenceVmm(config, m['preemptEvery'] !== undefined ? { preemptEvery: int('machine', 'preemptEvery', m['preemptEvery']) } : {}, spec);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof RangeError || e instanceof VmmError) throw new ScriptError('machine', e.message);
    throw e;
  }
  const errnoName = new Map<number, string>();
  for (const [name, v] of Object.entries(vmm.machine.errno)) if (typeof v === 'number' && !errnoName.has(v)) errnoName.set(v, name);
  const lines: string[] = [];
  const failures: string[] = [];
  const snapshots = new Map<string, MachineSnapshot>();
  const steps = doc['steps'] ?? [];
  if (!Array.isArray(steps)) throw new ScriptError('steps', 'must be an array');

  const domainOf = (w: string, s: Obj) => {
    const id = int(w, 'domain', s['domain'], 0);
    const d = vmm.machine.domain(id);
    if (!d) throw new ScriptError(w, `no domain ${id} (have ${[...vmm.machine.domains.keys()].join(', ')})`);
    const vcpu = int(w, 'vcpu', s['vcpu'], 0);
    if (d.vcpus[vcpu] === undefined) throw new ScriptError(w, `domain ${id} has no vCPU ${vcpu}`);
    return { d, vcpu };
  };
  const resultText = (r: bigint) => {
    const name = r < 0n ? errnoName.get(Number(r)) : undefined;
    return name ? `${r} (-${name})` : `${r} (0x${r.toString(16)})`;
  };
  const continued = () => (vmm.lastContinuation ? ` (continued; registers now ${show(vmm.lastContinuation)})` : '');
  const check = (w: string, s: Obj, r: bigint) => {
    if (s['expect'] === undefined) return;
    const e = s['expect'];
    const want = typeof e === 'string' && /^-?E[A-Z0-9]+$/.test(e) ? BigInt(vmm.machine.errno[e.replace(/^-/, '')] ?? NaN) : big(w, 'expect', e);
    if (r !== want) failures.push(`${w}: expected ${resultText(want)}, got ${resultText(r)}`);
  };

  steps.forEach((raw, i) => {
    const kind = isObj(raw) ? Object.keys(raw).find((k) => ['call', 'raw', 'write', 'read', 'advance', 'console', 'invariants', 'snapshot', 'restore', 'print'].includes(k)) : undefined;
    const w = `step ${i + 1}${kind ? ` (${kind})` : ''}`;
    if (!isObj(raw) || kind === undefined) throw new ScriptError(w, 'must be an object with one of call, raw, write, read, advance, console, invariants, snapshot, restore, print');
    const s = raw;
    switch (kind) {
      case 'call': {
        const id = s['call'];
        if (typeof id !== 'string') throw new ScriptError(w, 'call must be an operation id, e.g. xen_version$XENVER_version');
        const { d, vcpu } = domainOf(w, s);
        const guest = new XenGuest(new VmmTransport(vmm, d.id, vcpu)) as unknown as Record<string, unknown>;
        const fn = guest[id];
        if (typeof fn !== 'function' || id.startsWith('_') || !/^[a-z_0-9]+(\$[A-Za-z_0-9]+)?$/.test(id)) throw new ScriptError(w, `unknown operation id '${id}'`);
        const params: unknown[] = [];
        const [hc, sub] = id.split('$') as [string, string | undefined];
        const op = sub ? spec.hypercalls.find((h) => h.name === hc)?.subops?.ops.find((o) => o.name === sub) : undefined;
        if (op?.arg && op.arg.kind === 'name' && s['arg'] !== undefined) {
          const tsName = types.TS_NAMES[op.arg.name];
          const schema = tsName ? schemas[tsName] : undefined;
          if (!schema) throw new ScriptError(w, `no type for ${op.arg.name}`);
          const v = Value.Convert(schema as never, normalize(s['arg']));
          const errs = [...Value.Errors(schema as never, v)];
          if (errs.length > 0) throw new ScriptError(w, `arg is not a ${op.arg.name}: ${errs.slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`);
          params.push(v);
        }
        const args = s['args'] ?? [];
        if (!Array.isArray(args)) throw new ScriptError(w, 'args must be an array');
        for (const [k, a] of args.entries()) params.push(typeof a === 'number' ? int(w, `args[${k}]`, a) : big(w, `args[${k}]`, a));
        let out: unknown;
        try {
          out = (fn as (...p: unknown[]) => unknown).apply(guest, params);
        } catch (e) {
          throw new ScriptError(w, `${id} cannot be called so: ${(e as Error).message}`);
        }
        const r = typeof out === 'bigint' ? out : (out as { result: bigint }).result;
        lines.push(`${w} ${id} on domain ${d.id} → ${resultText(r)}${typeof out === 'bigint' ? '' : ` arg ${show((out as { arg: unknown }).arg)}`}${continued()}`);
        check(w, s, r);
        break;
      }
      case 'raw': {
        const regsIn = s['raw'];
        if (!isObj(regsIn)) throw new ScriptError(w, 'raw must be an object of register → value');
        const { d, vcpu } = domainOf(w, s);
        const conv = d.abi.convention;
        const names = [conv.number, ...conv.args];
        const regs: Registers = {};
        for (const [k, v] of Object.entries(regsIn)) {
          if (!names.includes(k)) throw new ScriptError(w, `${d.abi.name} has no argument register ${k} (have ${names.join(', ')})`);
          regs[k] = BigInt.asUintN(d.arch.wordSize * 8, big(w, k, v));
        }
        const r = BigInt.asIntN(d.arch.wordSize * 8, vmm.hypercall(d.id, vcpu, regs));
        lines.push(`${w} ${show(regs)} on domain ${d.id} → ${resultText(r)}${continued()}`);
        check(w, s, r);
        break;
      }
      case 'write': {
        const x = s['write'];
        if (!isObj(x)) throw new ScriptError(w, 'write must be an object with domain, addr and text or hex');
        const { d } = domainOf(w, x);
        const addr = int(w, 'addr', x['addr']);
        let bytes: Uint8Array;
        if (typeof x['text'] === 'string') bytes = new TextEncoder().encode(x['text']);
        else if (typeof x['hex'] === 'string' && /^([0-9a-f]{2})*$/i.test(x['hex'])) bytes = Uint8Array.from(Buffer.from(x['hex'], 'hex'));
        else throw new ScriptError(w, 'write needs text (a string) or hex (pairs of hex digits)');
        if (!d.memory.write(gaddr(addr), bytes)) throw new ScriptError(w, `domain ${d.id} has no memory at 0x${addr.toString(16)}..+${bytes.length}`);
        lines.push(`${w} ${bytes.length} bytes at 0x${addr.toString(16)} of domain ${d.id}`);
        break;
      }
      case 'read': {
        const x = s['read'];
        if (!isObj(x)) throw new ScriptError(w, 'read must be an object with domain, addr and length');
        const { d } = domainOf(w, x);
        const addr = int(w, 'addr', x['addr']);
        const len = int(w, 'length', x['length']);
        if (len < 0 || len > 1 << 20) throw new ScriptError(w, 'length must be 0..1048576');
        const out = new Uint8Array(len);
        if (!d.memory.read(gaddr(addr), out)) throw new ScriptError(w, `domain ${d.id} has no memory at 0x${addr.toString(16)}..+${len}`);
        const text = x['as'] === 'text' ? JSON.stringify(new TextDecoder().decode(out)) : Buffer.from(out).toString('hex');
        lines.push(`${w} 0x${addr.toString(16)} of domain ${d.id}: ${text}`);
        break;
      }
      case 'advance': {
        const ns = big(w, 'advance', s['advance']);
        if (ns < 0n) throw new ScriptError(w, 'time only moves forward');
        vmm.machine.advance(ns);
        lines.push(`${w} now ${vmm.machine.now} ns`);
        break;
      }
      case 'console': {
        const { d } = domainOf(w, { domain: s['console'] ?? 0 });
        lines.push(`${w} domain ${d.id}: ${JSON.stringify(String.fromCharCode(...d.console))}`);
        break;
      }
      case 'invariants': {
        const v = vmm.machine.invariants();
        lines.push(`${w} ${v.length === 0 ? 'all hold' : v.join('; ')}`);
        for (const x of v) failures.push(`${w}: invariant: ${x}`);
        break;
      }
      case 'snapshot': {
        const name = String(s['snapshot']);
        snapshots.set(name, vmm.machine.snapshot());
        lines.push(`${w} saved '${name}'`);
        break;
      }
      case 'restore': {
        const name = String(s['restore']);
        const snap = snapshots.get(name);
        if (!snap) throw new ScriptError(w, `no snapshot '${name}'`);
        try {
          vmm.machine.restore(snap);
        } catch (e) {
          throw new ScriptError(w, (e as Error).message);
        }
        lines.push(`${w} restored '${name}' (${vmm.machine.frames.pagesRestored} pages copied back)`);
        break;
      }
      case 'print':
        lines.push(String(s['print']));
        break;
    }
  });
  for (const d of vmm.machine.domains.values()) {
    if (d.console.length > 0) lines.push(`console of domain ${d.id}: ${JSON.stringify(String.fromCharCode(...d.console))}`);
    if (d.shutDown) lines.push(`domain ${d.id} shut down (code ${d.shutdownCode})`);
  }
  for (const v of vmm.machine.invariants()) failures.push(`invariant: ${v}`);
  for (const e of vmm.internalErrors) failures.push(`internal error in domain ${e.domid}: ${String(e.error)}`);
  return { lines, failures, vmm };
}
