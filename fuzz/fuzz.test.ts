/**
 * The fuzzer's own checks: runs are functions of their seed, a reproducer lowers to exactly
 * the instructions the fuzzer ran, a short run on the correct reference VMM finds nothing,
 * a finding's reproducer replays with the same outcome (the conformance runner, `hyperabi
 * replay`) and certify takes it as a scenario, the external-target path (an interactive
 * target over the same interfaces the protocol target implements, and a batch target)
 * finds a planted bug, and `--spec vmi` says why it cannot run.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.js';
import { certify } from '../conformance/certify/index.js';
import { lower } from '../conformance/lower.js';
import type { Program } from '../conformance/program.js';
import { runScenarios } from '../conformance/runner.js';
import { parseScenarios } from '../conformance/scenario.js';
import { loadSuite } from '../conformance/suite.js';
import type { BatchTarget } from '../conformance/target.js';
import { referenceLayouts, referenceTarget } from '../conformance/targets/reference.js';
import { xenSpec } from '../spec/index.js';
import { LocalFuzzer } from './engine.js';
import { type CallException, runExternal } from './external.js';
import { FuzzUsageError } from './errors.js';
import { FULL_MACHINE, machineFor, PAIR_MACHINE } from './machine.js';
import { plantedById } from './planted.js';
import { SpecPlans } from './plan.js';
import { reproducer } from './reproducer.js';
import { runLocal } from './run.js';
import { fuzzSpec } from './session.js';
import { SeqState } from './gen.js';
import { Rng } from './rng.js';
import { lowerStep, type FStep, type Val } from './step.js';

const plans = new SpecPlans(xenSpec, [...new Set(FULL_MACHINE.map((d) => d.abi))]);

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  return main(args, { out: (s) => (out += s), err: (s) => (err += s) }).then((code) => ({ code, out, err }));
}

describe('fuzz', () => {
  it('the same seed gives the same run', async () => {
    const run = () => runLocal({ spec: xenSpec, plans, domains: FULL_MACHINE, seed: 7, sequences: 120 });
    const [a, b] = [await run(), await run()];
    expect(a.stats).toEqual(b.stats);
    expect(a.coverage).toEqual(b.coverage);
    const c = await runLocal({ spec: xenSpec, plans, domains: FULL_MACHINE, seed: 8, sequences: 120 });
    expect(c.coverage).not.toEqual(a.coverage);
  });

  it('generates every kind of guest pointer the issue names, from the spec alone', () => {
    const fz = new LocalFuzzer({ spec: xenSpec, plans, domains: FULL_MACHINE, seed: 3 });
    const rng = new Rng(3);
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const st = new SeqState();
      // As after a call that set the grant tables up (the generator points into them only then).
      for (const d of FULL_MACHINE) st.grantReady.add(d.id);
      for (let k = 0; k < 20; k++) {
        const s = fz.gen.step(rng, st);
        if (s.kind !== 'call') continue;
        s.plan?.regs.forEach((r, j) => {
          if (r.role !== 'argument' && r.role !== 'pointer') return;
          const v = s.args[j] as Val;
          if (typeof v === 'bigint') seen.add(v === 0n ? 'null' : 'raw');
          else if ('place' in v) seen.add(v.place.base);
        });
        for (const w of s.writes) {
          if (w.at.base === 'data' && (w.at.off % 4096) + w.bytes.length > 4096) seen.add('straddling');
          if (w.at.base === 'data' && w.at.off % 8 !== 0 && w.bytes.length % 8 === 0) seen.add('misaligned');
        }
      }
    }
    // valid (the caller's data), NULL, raw numbers, unmapped, misaligned, straddling a page, and
    // foreign: Xen's shared_info and grant-table frames mapped in the guest.
    expect([...seen].sort()).toEqual(['data', 'grant', 'misaligned', 'null', 'raw', 'shared', 'straddling', 'unmapped']);
  });

  it('a reproducer lowers to the instructions the fuzzer ran', () => {
    const fz = new LocalFuzzer({ spec: xenSpec, plans, domains: FULL_MACHINE, seed: 3, modelOnly: true });
    const layouts = referenceLayouts(FULL_MACHINE);
    let compared = 0;
    for (let i = 0; i < 60; i++) {
      fz.runSequence(i);
      const steps = fz.last.steps;
      if (steps.length === 0) continue;
      const s = reproducer({ spec: xenSpec, domains: FULL_MACHINE, steps, results: [], lowered: [], divergence: { kind: 'result', step: steps.length - 1, op: 'fuzz', message: 'test' }, provenance: { target: 'reference', seed: 3, worker: 0, sequence: i, originalSteps: steps.length } });
      const fromScenario = lower(xenSpec, s, layouts).program.instrs.filter((x) => x.op !== 'read');
      const direct = steps.flatMap((st: FStep, k) => lowerStep(st, fz.model.facts, k).instrs).filter((x) => x.op !== 'read');
      const strip = (p: Program['instrs']) => p.map((x) => ({ ...x, step: 0 }));
      expect(strip(fromScenario)).toEqual(strip(direct));
      compared += direct.length;
    }
    expect(compared).toBeGreaterThan(500);
  });

  it('finds nothing on the correct reference VMM in a short run, and reaches every operation it implements', async () => {
    const r = await runLocal({ spec: xenSpec, plans, domains: FULL_MACHINE, seed: 11, sequences: 2500 });
    expect(r.findings.map((f) => f.message)).toEqual([]);
    expect(r.stats.genErrors).toBe(0);
    const calls = new Map(r.coverage.calls);
    const missing = [...plans.implemented].filter((id) => !calls.has(id));
    expect(missing).toEqual([]);
  });

  it('a finding replays with the same outcome, through the runner and `hyperabi replay`, and certify takes it', async () => {
    const m = plantedById('evtchn-bind-ipi-einval-for-enoent');
    const dir = mkdtempSync(join(tmpdir(), 'hyperabi-fuzz-'));
    const r = await runLocal({ spec: xenSpec, domains: PAIR_MACHINE, factory: m.factory, mutant: m.id, seed: 1, seconds: 30, stopAtFirst: true, corpus: dir });
    const f = r.findings[0];
    expect(f, 'the planted bug is found').toBeDefined();
    expect(f!.verified).toMatchObject({ reference: 'pass', target: 'fail' });
    const file = join(dir, readdirSync(dir)[0] as string);
    const [s] = parseScenarios(readFileSync(file, 'utf8'), file);
    // The divergence the fuzzer saw is the failure the runner reports.
    const [onMutant] = await runScenarios([s!], referenceTarget({ factory: m.factory }));
    expect(onMutant?.status).toBe('fail');
    expect(f!.message).toContain(`got ${/got [^(]*\((-?\d+)\)/.exec(onMutant!.reason!)?.[1] ?? 'unmatched'}`);
    const [onReference] = await runScenarios([s!], referenceTarget());
    expect(onReference?.status).toBe('pass');
    // The CLI: pass on the reference VMM, fail with the planted bug.
    expect((await cli(['replay', file])).code).toBe(0);
    const bad = await cli(['replay', file, '--mutant', m.id]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('FAIL');
    // certify: the reproducer is a scenario of the pv64 profile like any other.
    const suite = [...loadSuite(), s!];
    const ok = await certify({ target: 'reference', profile: 'xen-4.17-pv64-full', only: [s!.id], reportDir: join(dir, 'cert-ok'), suite });
    expect(ok.report.scenarios.map((o) => [o.id, o.status])).toEqual([[s!.id, 'pass']]);
    expect(ok.exitCode).toBe(0);
    const broken = await certify({ target: 'reference', profile: 'xen-4.17-pv64-full', only: [s!.id], reportDir: join(dir, 'cert-bad'), suite, openedTarget: referenceTarget({ factory: m.factory, name: 'planted' }) });
    expect(broken.report.scenarios.map((o) => o.status)).toEqual(['fail']);
    expect(broken.exitCode).toBe(1);
  });

  it('fuzzes targets outside the process: interactive and batch', async () => {
    const m = plantedById('memory-decrease-counts-failed-extent');
    const interactive = referenceTarget({ factory: m.factory, name: 'planted-interactive' });
    const a = await runExternal({ spec: xenSpec, domains: PAIR_MACHINE, target: interactive, targetName: 'planted-interactive', seed: 2, seconds: 30, stopAtFirst: true });
    expect(['memory_op$XENMEM_decrease_reservation', 'multicall']).toContain(a.findings[0]?.op);
    expect(a.findings[0]?.verified).toMatchObject({ reference: 'pass', target: 'fail' });
    const session = referenceTarget({ factory: m.factory });
    const batch: BatchTarget = {
      kind: 'batch',
      name: 'planted-batch',
      layouts: (domains) => referenceLayouts(domains),
      runAll: (programs) => Promise.all(programs.map((p) => session.openSync(p.domains).execSync(p.instrs))),
      dispose: () => Promise.resolve(),
    };
    const b = await runExternal({ spec: xenSpec, domains: PAIR_MACHINE, target: batch, targetName: 'planted-batch', seed: 2, seconds: 30, stopAtFirst: true, batch: 16 });
    expect(['memory_op$XENMEM_decrease_reservation', 'multicall']).toContain(b.findings[0]?.op);
    expect(b.findings[0]?.calls).toBeLessThanOrEqual(8);
  });

  it('reports the coverage of what ran on an external target, not of the calls left out there', async () => {
    const session = referenceTarget();
    const send = 'event_channel_op$EVTCHNOP_send';
    const target: BatchTarget & { fuzzExceptions: () => Map<string, CallException[]> } = {
      kind: 'batch',
      name: 'no-send',
      layouts: (domains) => referenceLayouts(domains),
      runAll: (programs) => Promise.all(programs.map((p) => session.openSync(p.domains).execSync(p.instrs))),
      dispose: () => Promise.resolve(),
      fuzzExceptions: () => new Map([[send, [{ kind: 'skip', why: 'this target has no event channels to send on' }]]]),
    };
    const r = await runExternal({ spec: xenSpec, domains: PAIR_MACHINE, target, targetName: 'no-send', seed: 4, sequences: 150, batch: 50 });
    expect(r.findings).toEqual([]);
    expect(Object.keys(r.excluded ?? {}).some((k) => k.includes(send))).toBe(true);
    const calls = new Map(r.coverage.calls);
    expect(calls.has(send)).toBe(false);
    expect(calls.size).toBeGreaterThan(40);
    // Each call counted ran on the target: no more than the calls the report says ran there.
    expect([...calls.values()].reduce((a, b) => a + b, 0)).toBe(r.stats.calls);
    expect(r.coverage.errors.length).toBeGreaterThan(20);
  });

  it('says why the VMI spec cannot be fuzzed, and rejects bad usage', async () => {
    expect(() => fuzzSpec('vmi')).toThrow(/nothing executable to fuzz against/);
    const r = await cli(['fuzz', '--spec', 'vmi', '--seconds', '1']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--spec vmi: nothing executable.*Fuzz with --spec xen/s);
    expect((await cli(['fuzz'])).code).toBe(2);
    expect((await cli(['fuzz', '--seconds', '1', '--mutant', 'no-such-bug'])).err).toMatch(/no planted bug 'no-such-bug'/);
    // A target that refuses every machine is told apart from a crash: a usage error naming each refusal.
    const refuse = () => machineFor((m) => (m.length > 0 ? 'this testee runs HVM guests only' : undefined));
    expect(refuse).toThrow(FuzzUsageError);
    expect(refuse).toThrow(/accepts none of the fuzzer's machines \(5 domains: this testee runs HVM guests only;.*1 domain with one vCPU each: this testee runs HVM guests only\)/);
  });

  it('`hyperabi fuzz` reports coverage and exits 0 on a clean run', async () => {
    const r = await cli(['fuzz', '--sequences', '200', '--seed', '5', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { coverage: { ops: { reached: number; total: number } }; findings: unknown[]; stats: { calls: number } };
    expect(report.findings).toEqual([]);
    expect(report.stats.calls).toBeGreaterThan(1000);
    expect(report.coverage.ops.reached).toBeGreaterThan(report.coverage.ops.total * 0.8);
  });
});
