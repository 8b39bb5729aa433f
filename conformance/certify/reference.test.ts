/**
 * Issue 6's claim: the reference VMM passes every Required scenario of xen-4.17-pv64-core,
 * and its report (per family) verifies against this suite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { xenSpec } from '../../spec/index.js';
import { loadSuite } from '../suite.js';
import { certify } from './run.js';
import { verifyReportDir } from './certificate.js';

describe('the reference VMM certified against xen-4.17-pv64-core', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hyperabi-certify-ref-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('passes every Required scenario, and the report verifies', async () => {
    const suite = loadSuite(xenSpec);
    const r = await certify({ target: 'reference', profile: 'xen-4.17-pv64-core', reportDir: tmp, suite });
    const bad = r.report.scenarios.filter((s) => s.level === 'required' && s.status !== 'pass');
    expect(
      bad.map((s) => `${s.status} ${s.id}: ${s.reason ?? ''}`),
      `${bad.length} Required scenarios do not pass on the reference VMM (report: ${join(tmp, 'report.html')})`,
    ).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.report.summary.certified).toBe(true);
    // The reference VMM declares no subset: a full certification of the profile.
    expect(r.report.subset).toBeUndefined();
    expect(r.report.summary.subsetCertified).toBeUndefined();
    expect(r.report.summary.verdict).toBe('certified for xen-4.17-pv64-core');
    expect(r.report.summary.all.notClaimed).toBe(0);
    const families = new Set(r.report.families.map((f) => f.family));
    for (const f of ['event_channel', 'grant_table', 'memory', 'sched', 'vcpu', 'version', 'console', 'x86_pv']) expect(families, f).toContain(f);
    console.log(`xen-4.17-pv64-core on the reference VMM: ${r.report.families.map((f) => `${f.family} ${f.all.pass}/${f.all.total}`).join(', ')}`);
    const v = verifyReportDir(tmp, { spec: xenSpec, suite: () => suite });
    expect(v.problems).toEqual([]);
  });
});
