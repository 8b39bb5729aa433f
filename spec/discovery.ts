/**
 * A guest's discovery, run from the spec: applies a `Discovery` section's rules to an image
 * (or scans a memory region for one) exactly in the spec's order, and says why a candidate
 * is rejected. Reads fields through the layout engine, so it follows the spec's structs.
 */
import { LayoutEngine } from './layout.js';
import type { Discovery, DiscoveryRule, Spec } from './model.js';
import { constantValue, toBigInt } from './query.js';

/** The verdict on one candidate. */
export interface DiscoveryResult {
  accepted: boolean;
  /** The first reject rule that failed. */
  rejectedBy?: { rule: string; reason: string };
  /** Warn rules that failed (the candidate is still used). */
  warnings: { rule: string; reason: string }[];
}

/** The discovery section of a spec by name, or an error naming the ones it has. */
export function findDiscoveryOrThrow(spec: Spec, name: string): Discovery {
  const d = spec.discovery?.find((x) => x.name === name);
  if (!d) throw new Error(`spec ${spec.name} has no discovery '${name}' (has: ${(spec.discovery ?? []).map((x) => x.name).join(', ') || 'none'})`);
  return d;
}

function readUint(mem: Uint8Array, at: number, size: number): bigint | undefined {
  if (at < 0 || at + size > mem.length) return undefined;
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(mem[at + i] as number);
  return v;
}

/** Checks the candidate at `at` in `mem` against every rule, in order. */
export function checkCandidate(spec: Spec, d: Discovery, mem: Uint8Array, at = 0): DiscoveryResult {
  const arch = spec.arches[0];
  if (!arch) throw new Error(`spec ${spec.name} has no arch`);
  const engine = new LayoutEngine(spec, arch);
  const header = engine.named(d.header);
  const field = (type: string, name: string) => {
    const f = engine.named(type).fields[name];
    if (!f) throw new Error(`${type} has no field ${name}`);
    return f;
  };
  const headerField = (name: string): bigint | undefined => {
    const f = header.fields[name];
    if (!f) throw new Error(`${d.header} has no field ${name}`);
    return readUint(mem, at + f.offset, f.size);
  };
  const passes = (r: DiscoveryRule): boolean => {
    const c = r.check;
    switch (c.kind) {
      case 'field': {
        let base = at;
        if (c.at) {
          const off = headerField(c.at);
          if (off === undefined) return false;
          base = at + Number(off);
        }
        const f = field(c.type ?? d.header, c.field);
        const v = readUint(mem, base + f.offset, f.size);
        if (v === undefined) return false;
        const want = typeof c.value === 'string' && !/^-?0x/.test(c.value) ? constantValue(spec, c.value) : c.value;
        if (want === undefined) throw new Error(`rule ${r.name} names unknown constant ${String(c.value)}`);
        const w = BigInt.asUintN(8 * f.size, toBigInt(want));
        return c.op === 'eq' ? v === w : c.op === 'ne' ? v !== w : c.op === 'ge' ? v >= w : v <= w;
      }
      case 'string': {
        const off = headerField(c.at);
        if (off === undefined) return false;
        let s = 'unspecified';
        if (off !== 0n) {
          const start = at + Number(off);
          const end = mem.indexOf(0, start);
          if (end < 0) return false;
          s = new TextDecoder().decode(mem.subarray(start, end));
        }
        return c.oneOf.includes(s);
      }
      case 'checksum': {
        const blocks = headerField(c.lengthField);
        if (blocks === undefined) return false;
        const end = at + Number(blocks) * c.unit;
        if (end > mem.length || blocks === 0n) return false;
        return mem.subarray(at, end).reduce((s, x) => (s + x) & 0xff, 0) === 0;
      }
    }
  };
  const warnings: DiscoveryResult['warnings'] = [];
  for (const r of d.rules) {
    if (passes(r)) continue;
    if (r.onFail === 'reject') return { accepted: false, rejectedBy: { rule: r.name, reason: r.reason }, warnings };
    warnings.push({ rule: r.name, reason: r.reason });
  }
  return { accepted: true, warnings };
}

/**
 * Scans memory the way the guest does: `mem` holds physical memory from `memBase`; returns
 * the first candidate address in the region that is accepted, with its verdict.
 */
export function scanForDiscovery(spec: Spec, d: Discovery, mem: Uint8Array, memBase: number): { address: number; result: DiscoveryResult } | undefined {
  for (let a = d.region.start; a < d.region.end; a += d.region.step) {
    const off = a - memBase;
    if (off < 0 || off >= mem.length) continue;
    const result = checkCandidate(spec, d, mem, off);
    if (result.accepted) return { address: a, result };
  }
  return undefined;
}
