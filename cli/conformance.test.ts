import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Compile } from 'typebox/compile';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './main.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

const tmp = mkdtempSync(join(tmpdir(), 'hyperabi-conformance-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const scenario = (id: string, expectVersion: string) => `
- id: xen_version$XENVER_version/${id}
  doc: the version is 4.17 for this check of the command line
  ref: xen/common/kernel.c:do_xen_version
  kind: semantic
  family: version
  machine: { domains: [ { id: 0, abi: x86_64-pv, privileged: true } ] }
  steps:
    - { call: xen_version$XENVER_version, expect: ${expectVersion} }
`;

describe('hyperabi conformance', () => {
  it('schema: a JSON Schema that accepts a shipped scenario and refuses a broken one', async () => {
    const r = await run('conformance', 'schema');
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.out) as Record<string, unknown>;
    expect(schema['$schema']).toMatch(/json-schema\.org/);
    expect(Object.keys(schema['properties'] as object)).toEqual(expect.arrayContaining(['id', 'doc', 'ref', 'kind', 'family', 'machine', 'steps']));
    const check = Compile(schema as never);
    const good = { id: 'xen_version$XENVER_version/x', doc: 'd', ref: 'r', kind: 'semantic', family: 'version', machine: { domains: [{ id: 0, abi: 'x86_64-pv' }] }, steps: [{ advance: 1 }] };
    expect(check.Check(good)).toBe(true);
    expect(check.Check({ ...good, steps: [{ advance: 1, bogus: 2 }] })).toBe(false);
  });

  it('list: ids, kinds and families of the suite, as text and JSON', async () => {
    const text = await run('conformance', 'list');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/semantic +grant_table +grant_table_op\$GNTTABOP_map_grant_ref\/pte-map-lifecycle/);
    expect(text.out).toMatch(/\d+ scenarios \(.*xsa/);
    const json = await run('conformance', 'list', '--json');
    const list = JSON.parse(json.out) as { id: string; kind: string; family: string }[];
    expect(list.find((s) => s.id === 'multicall/xsa-213-iret-ends-batch')).toMatchObject({ kind: 'xsa', family: 'x86_pv' });
  });

  it('run: exit 0 when every scenario passes, 1 with the failing check when one fails, 2 for a bad file', async () => {
    const ok = join(tmp, 'ok.yaml');
    writeFileSync(ok, scenario('cli-ok', '0x40011'));
    const r1 = await run('conformance', 'run', ok);
    expect(r1.code).toBe(0);
    expect(r1.out).toContain('1 scenarios: 1 pass, 0 fail');
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, scenario('cli-bad', '0x40010'));
    const r2 = await run('conformance', 'run', bad, '--verbose');
    expect(r2.code).toBe(1);
    expect(r2.out).toContain('FAIL  xen_version$XENVER_version/cli-bad');
    expect(r2.out).toContain('expected 262160 (0x40010), got 262161 (0x40011)');
    const broken = join(tmp, 'broken.yaml');
    writeFileSync(broken, scenario('cli-broken', '0x40011').replace('kind: semantic', 'kind: nonsense'));
    const r3 = await run('conformance', 'run', broken);
    expect(r3.code).toBe(2);
    expect(r3.err).toMatch(/bad scenario: .*broken\.yaml \(xen_version\$XENVER_version\/cli-broken\)/);
    const r4 = await run('conformance', 'run', join(tmp, 'missing.yaml'));
    expect(r4.code).toBe(2);
    expect(r4.err).toContain('no such file or directory');
  });
});
