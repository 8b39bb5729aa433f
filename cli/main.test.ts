import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './main.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

const tmp = mkdtempSync(join(tmpdir(), 'hyperabi-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fixtures = join(import.meta.dirname, '..', 'spec', 'fixtures', 'check');

describe('hyperabi CLI', () => {
  for (const cmd of [[], ['spec'], ['spec', 'export'], ['spec', 'layouts'], ['spec', 'constants'], ['spec', 'check'], ['spec', 'probe']]) {
    it(`${['hyperabi', ...cmd].join(' ')} --help describes the command`, async () => {
      const r = await run(...cmd, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^Usage: hyperabi/);
    });
  }

  it('spec export writes the documents and the schema', async () => {
    const r = await run('spec', 'export', '--out', join(tmp, 'export'));
    expect(r.code).toBe(0);
    expect(readdirSync(join(tmp, 'export')).sort()).toEqual(['pvops.json', 'spec.schema.json', 'vmi-api13.json', 'vmi.json', 'xen.json']);
    const doc = JSON.parse(readFileSync(join(tmp, 'export', 'xen.json'), 'utf8')) as { name: string };
    expect(doc.name).toBe('xen');
  });

  it('spec layouts --json prints the flat layout object', async () => {
    const r = await run('spec', 'layouts', '--abi', 'arm32', '--json');
    expect(r.code).toBe(0);
    const l = JSON.parse(r.out) as Record<string, { size: number }>;
    expect(l['struct evtchn_status']?.size).toBe(24);
  });

  it('spec constants --json prints name to value', async () => {
    const r = await run('spec', 'constants', '--abi', 'x86_32-pv', '--json');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as Record<string, number>)['EVTCHNOP_send']).toBe(4);
  });

  it('spec check exits 0 on a valid file and 1 with the diagnostic code on a broken one', async () => {
    const ok = await run('spec', 'check', join(fixtures, 'valid.json'));
    expect(ok.code).toBe(0);
    const bad = await run('spec', 'check', join(fixtures, 'broken-duplicate-number.json'));
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^error duplicate-number .*hypercalls\/bar: hypercall number 1/m);
    const json = await run('spec', 'check', '--json', join(fixtures, 'broken-bad-path.json'));
    expect((JSON.parse(json.out) as { code: string }[]).map((d) => d.code)).toEqual(['bad-path']);
  });

  it('spec check reports unreadable and non-JSON files clearly', async () => {
    const missing = await run('spec', 'check', join(tmp, 'nope.json'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^hyperabi: cannot read .*nope\.json/);
    const notJson = await run('spec', 'check', join(import.meta.dirname, 'main.ts'));
    expect(notJson.code).toBe(1);
    expect(notJson.out).toMatch(/^error json /);
  });

  it('an unknown ABI or spec is a usage error naming the choices', async () => {
    const r = await run('spec', 'layouts', '--abi', 'mips');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown ABI 'mips'.*x86_64-pv/);
    const s = await run('spec', 'constants', '--abi', 'x86_64', '--spec', 'hyperv');
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/unknown spec 'hyperv'; available: xen/);
  });

  it('runs as a program', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'main.ts'), 'spec', 'constants', '--abi', 'arm64', '--json'], {
      encoding: 'utf8',
    });
    expect((JSON.parse(out) as Record<string, number>)['EVTCHN_2L_NR_CHANNELS']).toBe(4096);
  });
});
