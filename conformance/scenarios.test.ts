/**
 * The shipped scenario files (conformance/scenarios/<family>/*.yaml): they parse, their ids are
 * unique in the whole suite, they name real operations and (XSA-class ones) their advisory, and
 * every one of them passes on the reference VMM. The live/ files are written for real Xen and
 * judged against it and the reference VMM by live-xen/live.test.ts; here they must parse.
 */
import { readFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { xenSpec } from '../spec/index.js';
import { findOperation } from '../spec/query.js';
import { lower, programDomains } from './lower.js';
import { runScenarios } from './runner.js';
import { parseScenarios, type Scenario } from './scenario.js';
import { loadSuite, SCENARIO_DIR, scenarioFiles } from './suite.js';
import { referenceLayouts, referenceTarget } from './targets/reference.js';

const files = scenarioFiles(SCENARIO_DIR);
const byFile = files.map((f) => ({ file: relative(SCENARIO_DIR, f), scenarios: parseScenarios(readFileSync(f, 'utf8'), f) }));
const isLive = (file: string) => file.split(sep)[0] === 'live';
const shipped = byFile.flatMap((f) => f.scenarios);
const onReference = byFile.filter((f) => !isLive(f.file)).flatMap((f) => f.scenarios);

function tally(list: readonly Scenario[]): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const s of list) {
    const row = out.get(s.family) ?? {};
    row[s.kind] = (row[s.kind] ?? 0) + 1;
    out.set(s.family, row);
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

describe('shipped conformance scenarios', () => {
  it('every file parses and the directory of a file is its scenarios’ family (live/ and mutants/ apart)', () => {
    expect(files.length).toBeGreaterThan(10);
    for (const f of byFile) {
      const dir = f.file.split(sep)[0] as string;
      if (dir === 'live' || dir === 'mutants') continue;
      for (const s of f.scenarios) expect(s.family, `${f.file}: ${s.id}`).toBe(dir);
    }
  });

  it('ids are unique across the files and the derived scenarios', () => {
    // loadSuite throws a ScenarioError naming the id on a duplicate.
    const suite = loadSuite();
    expect(new Set(suite.map((s) => s.id)).size).toBe(suite.length);
    expect(suite.length).toBeGreaterThanOrEqual(shipped.length);
  });

  it('each id names an operation of the spec, each xsa scenario its advisory, each scenario a doc and a reference', () => {
    for (const s of shipped) {
      const op = s.id.slice(0, s.id.indexOf('/'));
      expect(findOperation(xenSpec, op), `${s.id}: no operation ${op}`).toBeDefined();
      if (s.kind === 'xsa') expect(s.ref, s.id).toMatch(/^XSA-\d+\b/);
      expect(s.doc.length, s.id).toBeGreaterThan(20);
      expect(s.ref.length, s.id).toBeGreaterThan(5);
    }
  });

  it('the hand-written suite has its semantic and XSA-class scenarios (counts per family)', () => {
    const mine = onReference.filter((s) => s.kind === 'semantic' || s.kind === 'xsa');
    const rows = tally(shipped);
    console.log(
      ['family           semantic  xsa', ...[...rows].map(([fam, k]) => `${fam.padEnd(16)} ${String(k['semantic'] ?? 0).padStart(8)} ${String(k['xsa'] ?? 0).padStart(4)}`)].join('\n'),
    );
    expect(mine.filter((s) => s.kind === 'semantic').length).toBeGreaterThanOrEqual(80);
    expect(mine.filter((s) => s.kind === 'xsa').length).toBeGreaterThanOrEqual(20);
    for (const fam of ['event_channel', 'grant_table', 'memory', 'x86_pv', 'sched', 'vcpu']) expect(rows.get(fam)?.['semantic'] ?? 0, fam).toBeGreaterThan(0);
  });

  it('every scenario outside live/ passes on the reference VMM', async () => {
    const outcomes = await runScenarios(onReference, referenceTarget());
    const bad = outcomes.filter((o) => o.status !== 'pass').map((o) => `${o.id}: ${o.status}: ${o.reason ?? ''}`);
    expect(bad).toEqual([]);
    expect(outcomes.length).toBe(onReference.length);
  });

  it('machine.preemptEvery reaches the reference VMM: a preempted scenario really goes through continuations', () => {
    const s = onReference.find((x) => x.id === 'mmu_update$MMU_NORMAL_PT_UPDATE/preempted-batch-same-result');
    expect(s?.machine.preemptEvery).toBe(1);
    const domains = programDomains(s!);
    const session = referenceTarget().openSync(domains, { preemptEvery: s!.machine.preemptEvery! });
    const { program } = lower(xenSpec, s!, referenceLayouts(domains));
    // Up to and including the six-request batch (the step with the raw hypercall).
    const last = program.instrs.map((i) => i.op === 'call' && i.step === 2).lastIndexOf(true);
    expect(last).toBeGreaterThan(0);
    const exec = session.execSync(program.instrs.slice(0, last + 1));
    expect(exec.error).toBeUndefined();
    expect(session.vmm.lastContinuation).toBeDefined();
    // Without the knob the same batch runs through at once.
    const plain = referenceTarget().openSync(domains);
    plain.execSync(program.instrs.slice(0, last + 1));
    expect(plain.vmm.lastContinuation).toBeUndefined();
  });

  it('grant_table, offsetof() and sizeof() resolve on the reference layout; unknown names are errors naming the step', async () => {
    const [s] = parseScenarios(
      `
id: grant_table_op$GNTTABOP_setup_table/expr-check
doc: expression terms for the grant table and spec layouts
ref: conformance/expr.ts
kind: semantic
family: grant_table
machine: { domains: [ { id: 0, abi: x86_64-pv, privileged: true, memoryPages: 8 } ] }
steps:
  - { call: grant_table_op$GNTTABOP_setup_table, arg: { dom: DOMID_SELF, nr_frames: 1, frame_list: "@0x1000" }, expect: { result: 0, arg: { status: 0 } } }
  - { write: { at: "grant_table + sizeof(struct grant_entry_v1)", u16: [GTF_permit_access, 0] } }
  - { memory: { at: "grant_table + 8 + offsetof(struct grant_entry_v1, domid)", u16: [0] } }
  - { memory: { at: "grant_table + 8", u16: [GTF_permit_access] } }
`,
      'x.yaml',
    );
    const [ok] = await runScenarios([s!], referenceTarget());
    expect(ok?.status, ok?.reason).toBe('pass');
    const bad = { ...s!, id: 'grant_table_op$GNTTABOP_setup_table/expr-bad', steps: [{ memory: { at: 'grant_table + offsetof(struct no_such, x)', u8: [0] } }] } as Scenario;
    const [o] = await runScenarios([bad], referenceTarget());
    expect(o?.status).toBe('error');
    expect(o?.reason).toMatch(/step 1: 'offsetof\(struct no_such, x\)': no field x in a spec type struct no_such/);
  });
});
