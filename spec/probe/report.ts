/**
 * Runs the header probes for a spec on every arch whose toolchain is installed and
 * summarises the comparison: what was compared, what differs, what the headers lack.
 */
import type { Spec } from '../model.js';
import { compareWithHeaders, probeHeaders, toolchainAvailable, type Comparison } from './headers.js';

export interface ProbeRun {
  comparisons: Comparison[];
  skipped: { arch: string; why: string }[];
}

/** Probes native headers on every arch, and the xen/foreign headers (compiled natively) for each arch. */
export function runProbes(spec: Spec, archNames?: string[], foreign = true): ProbeRun {
  const out: ProbeRun = { comparisons: [], skipped: [] };
  for (const arch of spec.arches) {
    if (archNames && !archNames.includes(arch.name)) continue;
    const tc = toolchainAvailable(arch.name);
    if (!tc.ok) {
      out.skipped.push({ arch: arch.name, why: tc.why ?? 'unavailable' });
      continue;
    }
    out.comparisons.push(compareWithHeaders(spec, arch, probeHeaders(spec, arch, 'native')));
    if (foreign) out.comparisons.push(compareWithHeaders(spec, arch, probeHeaders(spec, arch, 'foreign')));
  }
  return out;
}

/** One line per comparison, plus every mismatch and missing item. */
export function formatProbeRun(run: ProbeRun): string {
  const lines: string[] = [];
  for (const c of run.comparisons) {
    lines.push(
      `${c.arch} (${c.mode}): ${c.structs} structs/unions, ${c.scalarTypes} scalar typedefs, ${c.fields} fields, ` +
        `${c.constants} constants compared; ${c.mismatches.length} mismatches; ${c.missing.length} spec items not in the headers`,
    );
    for (const m of c.mismatches) lines.push(`  MISMATCH ${m.arch} ${m.item} ${m.what}: spec ${m.spec}, headers ${m.headers}`);
    for (const m of c.missing) lines.push(`  MISSING  ${c.arch} ${m.kind} ${m.name}: ${m.error}`);
  }
  for (const s of run.skipped) lines.push(`${s.arch}: skipped (${s.why})`);
  return lines.join('\n');
}
