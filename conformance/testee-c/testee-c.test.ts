/**
 * The example C testee: built with gcc from the generated C dispatch and its own handlers,
 * certified through the protocol against its declared subset of the whole suite (every
 * scenario inside the subset passes; the rest is skipped with the reason), and honest about
 * what it cannot do (error replies, -ENOSYS from the generated weak defaults).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errnos } from '../../reference-vmm/errno.js';
import { xenSpec } from '../../spec/index.js';
import { runScenarios } from '../runner.js';
import { parseScenarios } from '../scenario.js';
import { loadSuite } from '../suite.js';
import { processTarget, type ProcessTarget } from '../targets/process.js';
import { buildCTestee } from './build.js';
import { main } from '../../cli/main.js';
import { verifyReportDir } from '../certify/certificate.js';
import type { Certificate, Report } from '../certify/model.js';
import { findProfile, profileOperations } from '../profiles.js';

let binary: string;
let target: ProcessTarget;
beforeAll(async () => {
  binary = buildCTestee();
  target = await processTarget(binary);
});
afterAll(async () => {
  await target?.dispose();
});

const ENOSYS = `-0x${(-errnos(xenSpec)['ENOSYS']!).toString(16)}`;
const nr = (name: string) => `0x${xenSpec.hypercalls.find((h) => h.name === name)!.number.toString(16)}`;

describe('the example C testee', () => {
  it('is built once per source and generated dispatch, then taken from the cache', () => {
    const before = statSync(binary).mtimeMs;
    expect(buildCTestee()).toBe(binary);
    expect(statSync(binary).mtimeMs).toBe(before);
  });

  it('declares x86_64-pv and its subset of operations in its hello', () => {
    expect(target.hello.name).toBe('hyperabi-c-testee');
    expect(target.hello.abis).toEqual(['x86_64-pv']);
    expect(target.hello.ops).toContain('event_channel_op$EVTCHNOP_send');
    expect(target.hello.ops).toContain('console_io$CONSOLEIO_write');
    expect(target.hello.ops).not.toContain('event_channel_op$EVTCHNOP_bind_virq');
  });

  it('is certified against its subset: every scenario of the suite inside it passes', async () => {
    const suite = loadSuite();
    const out = await runScenarios(suite, target);
    const inside = out.filter((o) => o.status !== 'skip');
    const notPassing = inside.filter((o) => o.status !== 'pass').map((o) => `${o.id}: ${o.status}: ${o.reason}`);
    expect(notPassing).toEqual([]);
    // The hand-written scenarios of its subset are among them (conformance/scenarios/{version,console,event_channel}).
    const passed = new Set(inside.map((o) => o.id));
    for (const id of ['xen_version$XENVER_get_features/pv64-bits', 'console_io$CONSOLEIO_write/domu-denied', 'event_channel_op$EVTCHNOP_bind_interdomain/loopback', 'event_channel_op$EVTCHNOP_send/interdomain-lifecycle']) {
      expect(passed.has(id), id).toBe(true);
    }
    expect(inside.length).toBeGreaterThanOrEqual(19);
    // Everything else is skipped, saying why.
    for (const o of out.filter((x) => x.status === 'skip')) expect(o.reason, o.id).toMatch(/outside the testee's declared subset|does not implement|does not claim/);
    expect(out.some((o) => o.status === 'skip' && /declared subset: grant_table_op/.test(o.reason ?? ''))).toBe(true);
    console.log(`C testee: ${inside.length} scenarios of ${suite.length} inside its subset, all pass`);
  });

  it('is certified for its subset of xen-4.17-pv64-core by `hyperabi certify --target cmd:...`, and the report verifies', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'hyperabi-c-cert-'));
    try {
      const dir = join(tmp, 'report');
      const capture = join(tmp, 'session.txt');
      let out = '';
      let err = '';
      const code = await main(['certify', '--target', `cmd:${binary}`, '--profile', 'xen-4.17-pv64-core', '--report', dir, '--capture', capture], {
        out: (x) => (out += x),
        err: (x) => (err += x),
      });
      expect(err).toBe('');
      expect(code, out).toBe(0);
      const cert = JSON.parse(readFileSync(join(dir, 'certificate.json'), 'utf8')) as Certificate;
      const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
      const ops = profileOperations(xenSpec, findProfile('xen-4.17-pv64-core')!);
      // The subset is what the testee declared, in the certificate too; the profile operations inside it are those it lists.
      expect(cert.subset?.ops).toEqual(target.hello.ops);
      expect(cert.subset?.operations).toEqual({ claimed: ops.filter((o) => target.hello.ops!.includes(o)), total: ops.length });
      const claimed = report.scenarios.filter((r) => !r.notClaimed);
      expect(claimed.length).toBeGreaterThanOrEqual(19);
      expect(claimed.filter((r) => r.status !== 'pass').map((r) => `${r.id}: ${r.status}: ${r.reason}`)).toEqual([]);
      const verdict = `certified for a subset of xen-4.17-pv64-core: ${cert.subset!.operations.claimed.length} of ${ops.length} operations (${claimed.length} of ${report.scenarios.length} scenarios claimed)`;
      expect(cert.summary).toMatchObject({ certified: false, subsetCertified: true, verdict });
      expect(out).toContain(`CERTIFIED FOR ${verdict.replace('certified for ', '')}`);
      for (const r of report.scenarios.filter((x) => x.notClaimed)) expect(r, r.id).toMatchObject({ status: 'skip', reason: expect.stringMatching(/^not claimed: outside the testee's declared subset: /) });
      expect(verifyReportDir(dir, { spec: xenSpec, suite: () => loadSuite() }).problems).toEqual([]);
      // --capture wrote the session: the hello and the requests and replies of the claimed scenarios.
      const session = readFileSync(capture, 'utf8');
      expect(session).toMatch(/^# started: /);
      expect(session).toContain('< hello hyperabi-testee 1 name=hyperabi-c-testee abis=x86_64-pv ops=');
      expect(session).toMatch(new RegExp(`\\n> \\d+ call 0 0 rax=${nr('event_channel_op')} `));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a wrong expectation fails with expected and actual, through the protocol', async () => {
    const [s] = parseScenarios(
      `id: event_channel_op$EVTCHNOP_bind_ipi/deliberately-wrong
doc: expects the first IPI port to be 2
ref: test
kind: semantic
family: event_channel
machine: { domains: [ { id: 0, abi: x86_64-pv } ] }
steps:
  - call: event_channel_op$EVTCHNOP_bind_ipi
    arg: { vcpu: 0 }
    expect: { result: 0, arg: { port: 2 } }
`,
      'wrong.yaml',
    );
    const [o] = await runScenarios([s!], target);
    expect(o?.status).toBe('fail');
    expect(o?.reason).toBe('step 1: event_channel_op$EVTCHNOP_bind_ipi struct evtchn_bind_ipi: expected port=2, got port=1');
  });

  it('answers requests it cannot serve with error replies, and unimplemented operations with -ENOSYS', () => {
    const session = [
      'hello hyperabi-testee 1',
      '1 call 0 0 rax=0x0',
      '2 machine id=0,abi=x86_32-pv,pages=16,vcpus=1,privileged=0',
      '3 machine id=0,abi=x86_64-pv,pages=16,vcpus=1,privileged=0',
      '4 write 0 0xdead00000000 00',
      '5 write 9 0x400000 00',
      '6 store 0 0x400000 4 load32(0:0x10)',
      `7 call 0 0 rax=${nr('event_channel_op')} rdi=0x1 rsi=0x400000`,
      `8 call 0 0 rax=${nr('memory_op')} rdi=0x2 rsi=0x0`,
      '9 call 0 0 rbx=0x1',
      '10 launch',
      '11 read 0 0x400ff0 0',
      '12 bye',
    ].join('\n');
    const r = spawnSync(binary, { input: `${session}\n`, encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^hello hyperabi-testee 1 name=hyperabi-c-testee abis=x86_64-pv ops=/);
    expect(lines.slice(1)).toEqual([
      '1 error no-machine no machine: send machine first',
      '2 error unsupported this testee implements x86_64-pv only, not x86_32-pv',
      '3 machine id=0,data=0x400000,unmapped=0xdead00000000,shared=0x1000',
      '4 error bad-address domain 0 does not map 1 bytes at 0xdead00000000',
      '5 error bad-domain no domain 9 in the machine',
      '6 error bad-operand load32(0:0x10): load() from an address the domain does not map',
      `7 ret ${ENOSYS}`, // EVTCHNOP_bind_virq: not implemented here, the generated weak default
      `8 ret ${ENOSYS}`, // memory_op: likewise
      '9 error bad-request x86_64-pv has no argument register rbx',
      "10 error bad-request unknown request 'launch'",
      '11 bytes -',
      '12 bye',
    ]);
  });
});
