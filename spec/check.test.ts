import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSpec, hasErrors } from './check.js';
import { xenSpec } from './xen/index.js';

const dir = join(import.meta.dirname, 'fixtures', 'check');
const load = (name: string): unknown => JSON.parse(readFileSync(join(dir, name), 'utf8'));

describe('spec check', () => {
  it('finds nothing in the valid fixture', () => {
    expect(checkSpec(load('valid.json'), 'valid')).toEqual([]);
  });

  const broken = readdirSync(dir).filter((f) => f.startsWith('broken-'));
  it('has a broken fixture for every diagnostic code', () => {
    expect(broken.length).toBeGreaterThanOrEqual(16);
  });
  for (const file of broken) {
    const code = file.replace(/^broken-/, '').replace(/\.json$/, '');
    it(`${file} gives exactly the diagnostic ${code}, with a path`, () => {
      const ds = checkSpec(load(file), file);
      expect(ds.map((d) => d.code)).toEqual([code]);
      expect(ds[0]?.path.startsWith(`${file}:`)).toBe(true);
      expect(ds[0]?.message.length).toBeGreaterThan(10);
      expect(hasErrors(ds)).toBe(code !== 'missing-doc');
    });
  }

  it('the Xen spec is clean: no errors and no warnings', () => {
    expect(checkSpec(xenSpec, 'xen')).toEqual([]);
  });

  it('rejects non-objects and garbage with schema diagnostics, not exceptions', () => {
    for (const doc of [null, 42, 'spec', [], { name: 'x' }]) {
      const ds = checkSpec(doc, 'garbage');
      expect(ds.length).toBeGreaterThan(0);
      expect(ds.every((d) => d.code === 'schema')).toBe(true);
    }
  });
});
