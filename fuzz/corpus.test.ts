/**
 * Past findings as regression cases: every reproducer under fuzz/corpus passes on the
 * reference VMM, and one found with a planted bug (its header says `planted bug <id>`) still
 * fails or errors on that bug, so the fuzzer's findings stay found.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScenarios } from '../conformance/runner.js';
import { parseScenarios } from '../conformance/scenario.js';
import { referenceTarget } from '../conformance/targets/reference.js';
import { plantedById } from './planted.js';

const DIR = fileURLToPath(new URL('./corpus', import.meta.url));
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('fuzz corpus', () => {
  it('has findings to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const name of files) {
    it(name, async () => {
      const text = readFileSync(join(DIR, name), 'utf8');
      const scenarios = parseScenarios(text, name);
      const planted = /planted bug ([a-z0-9-]+)/.exec(text)?.[1];
      const m = planted ? plantedById(planted) : undefined;
      const options = m?.options ? { vmm: m.options } : {};
      for (const o of await runScenarios(scenarios, referenceTarget(options))) expect(o.status, `${o.id} on the reference VMM: ${o.reason}`).toBe('pass');
      if (m) {
        for (const o of await runScenarios(scenarios, referenceTarget({ ...options, factory: m.factory }))) expect(['fail', 'error'], `${o.id} on ${m.id}`).toContain(o.status);
      }
    });
  }
});
