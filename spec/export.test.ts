import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { exportFiles, exportSpec, flatConstants, flatLayouts } from './export.js';
import { LayoutEngine } from './layout.js';
import { specJsonSchema } from './schema.js';
import { xenSpec } from './xen/index.js';
import { specs } from './index.js';

describe('spec export', () => {
  it('every exported spec validates against its own JSON Schema with an independent validator (ajv, draft 2020-12)', () => {
    const files = exportFiles(Object.values(specs));
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(files.get('spec.schema.json') as string) as object);
    expect(Object.keys(specs).length).toBeGreaterThanOrEqual(3);
    for (const name of Object.keys(specs)) {
      const ok = validate(JSON.parse(files.get(`${name}.json`) as string));
      expect({ name, errors: validate.errors ?? [] }).toEqual({ name, errors: [] });
      expect(ok).toBe(true);
    }
  });

  it('the schema rejects a document with a wrong field', () => {
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(specJsonSchema());
    const doc = JSON.parse(JSON.stringify(exportSpec(xenSpec))) as { hypercalls: { number: unknown }[] };
    (doc.hypercalls[0] as { number: unknown }).number = -1;
    expect(validate(doc)).toBe(false);
  });

  it('writes the same bytes on every run', () => {
    const a = exportFiles([xenSpec]);
    const b = exportFiles([xenSpec]);
    expect([...a.keys()]).toEqual(['spec.schema.json', 'xen.json']);
    for (const [k, v] of a) expect(b.get(k)).toBe(v);
  });

  it('every exported type carries its computed layout on every arch it exists on', () => {
    const doc = exportSpec(xenSpec);
    const send = doc.types.find((t) => t.name === 'struct evtchn_alloc_unbound');
    expect(Object.keys(send?.layout ?? {})).toEqual(['x86_64', 'x86_32', 'arm64', 'arm32']);
    const engine = new LayoutEngine(xenSpec, 'arm32');
    expect(send?.layout?.['arm32']).toEqual(engine.named('struct evtchn_alloc_unbound'));
  });

  it('flat layouts and constants are keyed by the C names of the headers', () => {
    const l = flatLayouts(xenSpec, 'x86_64-pv');
    expect(l['struct evtchn_alloc_unbound']).toEqual({
      size: 8,
      align: 4,
      fields: { dom: { offset: 0, size: 2 }, remote_dom: { offset: 2, size: 2 }, port: { offset: 4, size: 4 } },
    });
    expect(l['domid_t']).toEqual({ size: 2, align: 2, fields: {} });
    const c32 = flatConstants(xenSpec, 'x86_32');
    const c64 = flatConstants(xenSpec, 'x86_64');
    expect(c32['EVTCHN_2L_NR_CHANNELS']).toBe(1024);
    expect(c64['EVTCHN_2L_NR_CHANNELS']).toBe(4096);
    expect(c64['__HYPERVISOR_event_channel_op']).toBe(32);
    for (const v of Object.values(c64)) {
      if (typeof v === 'string') expect(v).toMatch(/^-?0x[0-9a-f]+$/);
      else expect(Number.isSafeInteger(v)).toBe(true);
    }
  });

  it('names the ABIs to choose from when given an unknown one', () => {
    expect(() => flatLayouts(xenSpec, 'ppc64')).toThrow(/unknown ABI 'ppc64'.*x86_64-pv/);
  });
});
