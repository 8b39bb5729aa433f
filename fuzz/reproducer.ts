/**
 * Reproducers: a shrunk failing sequence as a conformance scenario (conformance/scenario.ts)
 * whose expectations are the reference VMM's results (the oracle): every call's result and
 * every argument's bytes after it, and for an end-state divergence the bytes that differed.
 * The scenario passes on the reference VMM and fails (or errors) on the target that
 * diverged, so `hyperabi replay FILE` and `hyperabi certify` reproduce the finding.
 */
import { stringify } from 'yaml';
import type { InstrResult, ProgramDomain } from '../conformance/program.js';
import { validateScenario, type Scenario, type Step as ScenarioStep } from '../conformance/scenario.js';
import { errnos } from '../reference-vmm/errno.js';
import { gaddr } from '../reference-vmm/addr.js';
import type { Spec } from '../spec/model.js';
import type { Divergence, Finding } from './engine.js';
import { placeExpr, valExpr, writeSteps, type CallStep, type FStep, type Lowered, type Place } from './step.js';

/** Where a finding came from, for the scenario's doc and ref. */
export interface Provenance {
  /** The target the fuzzer ran against (reference, cmd:..., live-xen). */
  target: string;
  /** A planted bug, when the target was one. */
  mutant?: string;
  seed: number;
  worker: number;
  sequence: number;
  /** Steps of the sequence before shrinking. */
  originalSteps: number;
}

export interface ReproducerInput {
  spec: Spec;
  domains: readonly ProgramDomain[];
  preemptEvery?: number;
  steps: readonly FStep[];
  /** The model's results per step, from the replay of `steps`. */
  results: readonly (readonly InstrResult[] | undefined)[];
  lowered: readonly (Lowered | undefined)[];
  divergence: Divergence;
  provenance: Provenance;
  /** Keep the frame numbers Xen wrote in the expectations (both sides are the reference VMM, whose frames are the same). */
  keepVolatile?: boolean;
  /** End state: the model's bytes around the difference (data area or shared_info page). */
  endBytes?: { dom: number; at: Place; bytes: Uint8Array };
}

function errnoNames(spec: Spec): Map<number, string> {
  const out = new Map<number, string>();
  for (const [name, v] of Object.entries(errnos(spec))) if (!out.has(v)) out.set(v, name);
  return out;
}

function resultExpr(v: bigint, bits: number, names: Map<number, string>): string | number {
  const s = BigInt.asIntN(bits, v);
  if (s < 0n && s >= -4095n) {
    const n = names.get(Number(s));
    if (n) return `-${n}`;
  }
  if (s >= -(2n ** 53n) && s <= 2n ** 53n) return Number(s);
  return `0x${BigInt.asUintN(bits, v).toString(16)}`;
}

/** A stable short hash of a text (FNV-1a, hex). */
export function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** The scenario for a shrunk finding. */
export function reproducer(input: ReproducerInput): Scenario {
  const { spec, steps, results, lowered, divergence: dv, provenance: pv } = input;
  const names = errnoNames(spec);
  const bitsOf = (dom: number): number => {
    const d = input.domains.find((x) => x.id === dom);
    const abi = spec.abis.find((a) => a.name === d?.abi);
    return (spec.arches.find((a) => a.name === abi?.arch)?.wordSize ?? 8) * 8;
  };
  const out: ScenarioStep[] = [];
  steps.forEach((s, k) => {
    const res = results[k];
    const low = lowered[k];
    if (s.kind === 'advance') {
      out.push({ advance: s.ns < 2n ** 53n ? Number(s.ns) : `0x${s.ns.toString(16)}` });
      return;
    }
    if (s.kind === 'write') {
      out.push(...writeSteps(s.w, bitsOf, s.doc));
      return;
    }
    const c = s as CallStep;
    const bits = bitsOf(c.dom);
    for (const w of c.writes) out.push(...writeSteps(w, bitsOf));
    const r = res && low ? res[low.call] : undefined;
    const call: ScenarioStep = {
      hypercall: { nr: c.nr, args: c.args.map((a) => valExpr(a, c.dom, bits)) },
      domain: c.dom,
      ...(c.vcpu !== 0 ? { vcpu: c.vcpu } : {}),
      ...(r?.op === 'call' ? { expect: resultExpr(r.result, bits, names) } : {}),
      doc: c.doc,
    };
    out.push(call);
    c.reads.forEach((rd, j) => {
      const rr = res && low ? res[low.reads[j] as number] : undefined;
      if (rr?.op !== 'read' || !('bytes' in rr)) return;
      // Frame numbers the hypervisor wrote differ between targets: leave them out.
      const vol = input.keepVolatile ? [] : (rd.volatile ?? []);
      let from = 0;
      const emit = (a: number, b: number) => {
        if (b <= a) return;
        out.push({ memory: { domain: rd.dom, at: placeExpr({ ...rd.at, off: rd.at.off + a }, rd.dom), hex: Buffer.from(rr.bytes.subarray(a, b)).toString('hex') } });
      };
      for (const [f, t] of [...vol].sort((x, y) => x[0] - y[0])) {
        emit(from, f);
        from = Math.max(from, t);
      }
      emit(from, rd.length);
    });
  });
  if (input.endBytes) {
    const e = input.endBytes;
    out.push({ memory: { domain: e.dom, at: placeExpr(e.at, e.dom), hex: Buffer.from(e.bytes).toString('hex') }, doc: 'the state the sequence leaves (where the target differed)' });
  }
  const last = steps[dv.step];
  const plan = last && last.kind === 'call' ? last.plan : undefined;
  const opId = /^[a-z_0-9]+(\$[A-Za-z_0-9]+)?$/.test(dv.op) ? dv.op : 'fuzz';
  const family = plan?.family ?? spec.hypercalls.find((h) => h.name === opId.split('$')[0])?.family ?? 'fuzz';
  const handler = plan?.op?.ref.handler ?? plan?.hypercall.ref.handler ?? plan?.op?.ref.header ?? plan?.hypercall.ref.header ?? 'hyperabi fuzz';
  const where = `seed ${pv.seed}, worker ${pv.worker}, sequence ${pv.sequence}`;
  const calls = steps.filter((s) => s.kind === 'call').length;
  const body = JSON.stringify(out);
  const id = `${opId}/fuzz-${dv.kind}-${shortHash(`${dv.kind}:${dv.op}:${body}`)}`;
  const doc =
    `Fuzzer finding (${dv.kind}) against ${pv.mutant ? `${pv.target} with planted bug ${pv.mutant}` : pv.target}: ${dv.message}. ` +
    `Found by hyperabi fuzz at ${where} (path: worker ${pv.worker} / sequence ${pv.sequence}); shrunk from ${pv.originalSteps} to ${steps.length} steps (${calls} calls). ` +
    `Expectations are the reference VMM's results.`;
  const scenario = {
    id,
    doc,
    ref: `${handler}; hyperabi fuzz --seed ${pv.seed} (${where})`,
    kind: 'semantic',
    family,
    machine: {
      domains: input.domains.map((d) => ({ id: d.id, abi: d.abi, memoryPages: d.memoryPages, vcpus: d.vcpus, privileged: d.privileged, ...(d.maxEvtchnPort !== undefined ? { maxEvtchnPort: d.maxEvtchnPort } : {}) })),
      ...(input.preemptEvery !== undefined ? { preemptEvery: input.preemptEvery } : {}),
    },
    steps: out,
  };
  return validateScenario(scenario, id);
}

/** The scenario as a YAML file with a comment header. */
export function reproducerYaml(s: Scenario, header: readonly string[]): string {
  return `${header.map((l) => `# ${l}`).join('\n')}\n${stringify([s], { lineWidth: 0 })}`;
}

/** Bytes around an end-state difference on the model, and where they are. */
export function endWindow(vmmRead: (dom: number, addr: number, out: Uint8Array) => boolean, where: { dom: number; page: number; off: number }, sharedInfoGfn: number): { dom: number; at: Place; bytes: Uint8Array } | undefined {
  const start = where.off & ~15;
  const bytes = new Uint8Array(16);
  if (!vmmRead(where.dom, where.page * 4096 + start, bytes)) return undefined;
  const at: Place = where.page === sharedInfoGfn ? { base: 'shared', off: start } : { base: 'data', off: where.page * 4096 + start };
  return { dom: where.dom, at, bytes };
}

export { gaddr };
export type { Finding };
