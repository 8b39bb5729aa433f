/**
 * The Xen spec against the real Xen 4.17 public headers (Debian libxen-dev): every type's
 * size, alignment, field offsets and field sizes, and every constant's value, compiled
 * with gcc for x86_64, -m32 for x86_32, and the aarch64 and armhf cross compilers for Arm,
 * plus Xen's own per-ABI copies in xen/foreign/.
 */
import { describe, expect, it } from 'vitest';
import type { Spec } from '../model.js';
import { findArch } from '../query.js';
import { needToolchain, compareWithHeaders, probeHeaders, type Comparison } from '../probe/headers.js';
import { xenSpec } from './index.js';

/** In CI every toolchain must be there; on a developer's machine a missing one skips, saying why. */

function compare(spec: Spec, arch: string, mode: 'native' | 'foreign' = 'native'): Comparison {
  const a = findArch(spec, arch);
  if (!a) throw new Error(`no arch ${arch}`);
  return compareWithHeaders(spec, a, probeHeaders(spec, a, mode));
}

function summary(c: Comparison): string {
  return `${c.arch} (${c.mode}): compared ${c.structs} structs/unions, ${c.scalarTypes} scalar typedefs, ${c.fields} fields, ${c.constants} constants; ${c.mismatches.length} mismatches, ${c.missing.length} missing`;
}

describe('xen spec = Xen 4.17 headers', () => {
  const minimum: Record<string, { structs: number; constants: number }> = {
    x86_64: { structs: 100, constants: 550 },
    x86_32: { structs: 100, constants: 540 },
    arm64: { structs: 80, constants: 450 },
    arm32: { structs: 80, constants: 450 },
  };
  for (const arch of Object.keys(minimum)) {
    it(`${arch}: every layout and constant equals the headers`, (ctx) => {
      if (!needToolchain(arch)) return ctx.skip();
      const c = compare(xenSpec, arch);
      console.log(summary(c));
      expect(c.mismatches).toEqual([]);
      expect(c.missing).toEqual([]);
      const min = minimum[arch] as { structs: number; constants: number };
      expect(c.structs).toBeGreaterThanOrEqual(min.structs);
      expect(c.constants).toBeGreaterThanOrEqual(min.constants);
    });
    it(`${arch}: the layouts equal Xen's generated xen/foreign/${arch}.h`, (ctx) => {
      if (!needToolchain('x86_64')) return ctx.skip();
      const c = compare(xenSpec, arch, 'foreign');
      console.log(summary(c));
      expect(c.mismatches).toEqual([]);
      expect(c.structs).toBeGreaterThan(3);
    });
  }

  it('the comparison fails when a spec entry is wrong', (ctx) => {
    if (!needToolchain('x86_64')) return ctx.skip();
    // A copy of the spec with a field type, an array length and a constant value changed.
    const broken = structuredClone(xenSpec) as Spec;
    const send = broken.types.find((t) => t.name === 'struct evtchn_alloc_unbound');
    const field = send?.body.fields?.find((x) => x.name === 'remote_dom');
    if (!field) throw new Error('fixture: struct evtchn_alloc_unbound.remote_dom not found');
    field.type = { kind: 'name', name: 'uint32_t' };
    const cb = broken.types.find((t) => t.name === 'struct evtchn_init_control');
    const pad = cb?.body.fields?.find((x) => x.name === '_pad');
    if (!pad) throw new Error('fixture: struct evtchn_init_control._pad not found');
    pad.type = { kind: 'array', of: { kind: 'name', name: 'uint8_t' }, length: 6 };
    const group = broken.constants.find((g) => g.members.some((m) => m.name === 'EVTCHNSTAT_ipi'));
    const ipi = group?.members.find((m) => m.name === 'EVTCHNSTAT_ipi');
    if (!ipi) throw new Error('fixture: EVTCHNSTAT_ipi not found');
    ipi.value = 6;
    const c = compare(broken, 'x86_64');
    const what = c.mismatches.map((m) => `${m.item} ${m.what}`);
    expect(what).toContain('struct evtchn_alloc_unbound remote_dom size');
    expect(what).toContain('struct evtchn_alloc_unbound port offset');
    expect(what).toContain('struct evtchn_alloc_unbound size');
    expect(what).toContain('struct evtchn_init_control _pad size');
    expect(what).toContain('EVTCHNSTAT_ipi value');
  });

  it('a spec item the headers do not define is reported missing', (ctx) => {
    if (!needToolchain('x86_64')) return ctx.skip();
    const broken = structuredClone(xenSpec) as Spec;
    const g = broken.constants.find((x) => x.name === 'EVTCHNSTAT');
    g?.members.push({ name: 'EVTCHNSTAT_bogus', value: 9, doc: 'not in the headers' });
    const c = compare(broken, 'x86_64');
    expect(c.missing.map((m) => m.name)).toEqual(['EVTCHNSTAT_bogus']);
  });
});
