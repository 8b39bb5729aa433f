/**
 * The process target: the reference VMM served over the protocol gives the same outcomes as
 * in process, and a session can be captured; testees that crash, hang, write garbage or
 * answer out of order give `error` outcomes that say what happened (with their stderr), are
 * restarted, and the run goes on; testees that cannot start or speak another version are
 * refused with a clear message.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { xenSpec } from '../../spec/index.js';
import { runScenarios } from '../runner.js';
import { parseScenarios, type Scenario } from '../scenario.js';
import { loadScenarioFiles, SCENARIO_DIR } from '../suite.js';
import { processTarget, TesteeError } from './process.js';
import { referenceTarget } from './reference.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MISBEHAVE = fileURLToPath(new URL('../protocol/bad-testees/misbehave.mjs', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'hyperabi-process-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const nr = (name: string) => xenSpec.hypercalls.find((h) => h.name === name)!.number;

/** A raw hypercall scenario (any result passes): fine on any testee that answers. */
function raw(id: string, hypercall: string): Scenario {
  return parseScenarios(
    `id: ${id}
doc: a raw ${hypercall} call
ref: test
kind: semantic
family: test
machine: { domains: [ { id: 0, abi: x86_64-pv } ] }
steps:
  - write: { at: "@0x100", hex: "00000000" }
  - hypercall: { nr: __HYPERVISOR_${hypercall}, args: [0, "@0x100"] }
    expect: any
  - memory: { at: "@0x100", hex: "00000000" }
`,
    `${id}.yaml`,
  )[0]!;
}

describe('the process target with the reference VMM as testee', () => {
  it('gives the outcomes the in-process target gives, and captures the session', async () => {
    const scenarios = loadScenarioFiles(join(SCENARIO_DIR, 'event_channel'));
    const [wrong] = parseScenarios(
      `id: xen_version$XENVER_version/deliberately-wrong
doc: expects 4.16
ref: test
kind: semantic
family: version
machine: { domains: [ { id: 0, abi: x86_64-pv } ] }
steps:
  - call: xen_version$XENVER_version
    expect: 0x40010
`,
      'wrong.yaml',
    );
    const all = [...scenarios, wrong!];
    const capture = join(tmp, 'reference.session');
    const target = await processTarget('npx tsx conformance/protocol/reference-testee.ts', { cwd: ROOT, capture });
    try {
      expect(target.hello.name).toBe('hyperabi-reference-vmm');
      expect(target.name).toBe('hyperabi-reference-vmm');
      const overPipe = await runScenarios(all, target);
      const inProcess = await runScenarios(all, referenceTarget());
      expect(overPipe.map((o) => [o.id, o.status, o.reason, o.checks])).toEqual(inProcess.map((o) => [o.id, o.status, o.reason, o.checks]));
      expect(overPipe.at(-1)?.status).toBe('fail');
      expect(overPipe.at(-1)?.reason).toContain('expected 262160 (0x40010), got 262161 (0x40011)');
      expect(overPipe.filter((o) => o.status === 'pass').length).toBe(scenarios.length);
      expect(target.starts).toBe(1);
    } finally {
      await target.dispose();
    }
    const log = readFileSync(capture, 'utf8');
    expect(log).toMatch(/^> hello hyperabi-testee 1$/m);
    expect(log).toMatch(/^< hello hyperabi-testee 1 name=hyperabi-reference-vmm /m);
    expect(log).toMatch(/^> \d+ machine id=0,abi=x86_64-pv,pages=16,vcpus=1,privileged=1/m);
    expect(log).toMatch(/^< \d+ ret 0x40011$/m);
    expect(log).toMatch(/^> \d+ bye$/m);
  });
});

describe('misbehaving testees', () => {
  const trigger = `rax=0x${nr('console_io').toString(16)}`;
  const scenarios = [raw('xen_version/before', 'xen_version'), raw('console_io/trigger', 'console_io'), raw('xen_version/after', 'xen_version')];

  const cases: [string, RegExp][] = [
    ['crash', /the testee (was killed by SIGSEGV|exited with code 139 \(a shell's way of saying SIGSEGV\)); last stderr: misbehave: crashing on purpose at request \d+/],
    ['hang', /hung: no reply to instruction 1 \(call, step 2\) within 1500 ms; last stderr: misbehave: hanging on purpose/],
    ['garbage', /garbage in reply to instruction 1 \(call, step 2\): a message starts with hello or a decimal sequence number: "Segmentation fault\?\? 0xdeadbeef"/],
    ['out-of-order', /out of order: expected the reply to \d+ \(instruction 1 \(call, step 2\)\), got one to \d+/],
  ];
  for (const [mode, reason] of cases) {
    it(`${mode}: an error outcome with the reason, a restart, and the run goes on`, async () => {
      const target = await processTarget(`node ${MISBEHAVE} ${mode} ${trigger}`, { stepTimeoutMs: 1500, capture: join(tmp, `${mode}.session`) });
      try {
        const out = await runScenarios(scenarios, target);
        expect(out.map((o) => o.status)).toEqual(['pass', 'error', 'pass']);
        expect(out[1]?.reason).toMatch(reason);
        // What came before the failure was kept: the write's result, so only the rest is "not run".
        expect(out[1]?.checks.map((c) => c.actual)).toEqual(['not run', 'not run']);
        expect(target.starts).toBe(2);
      } finally {
        await target.dispose();
      }
      expect(readFileSync(join(tmp, `${mode}.session`), 'utf8')).toMatch(/^# restarting the testee after: /m);
    });
  }

  it('a scenario over its time limit is an error even while every step answers', async () => {
    const target = await processTarget(`node ${MISBEHAVE} hang ${trigger}`, { stepTimeoutMs: 60_000, scenarioTimeoutMs: 2000 });
    try {
      const t0 = performance.now();
      const out = await runScenarios(scenarios, target);
      expect(out.map((o) => o.status)).toEqual(['pass', 'error', 'pass']);
      expect(out[1]?.reason).toMatch(/hung: the scenario took longer than 2000 ms/);
      expect(performance.now() - t0).toBeLessThan(20_000);
    } finally {
      await target.dispose();
    }
  });
});

describe('testees that cannot be used', () => {
  it('a command that does not exist is refused with its exit code and stderr', async () => {
    const err = await processTarget('/nonexistent/hyperabi-testee --flag', { startTimeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TesteeError);
    expect((err as Error).message).toMatch(/did not shake hands: the testee exited with code 127; last stderr: .*nonexistent/);
  });

  it('a testee that never says hello is refused after the start timeout', async () => {
    const err = await processTarget('sleep 30', { startTimeoutMs: 300 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/did not shake hands: hung: no reply to hello within 300 ms; stderr was empty/);
  });

  it('a testee of another protocol version is refused', async () => {
    const err = await processTarget(`echo 'hello hyperabi-testee 2 name=future abis=x86_64-pv'; sleep 30`, { startTimeoutMs: 5000 }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('the testee speaks protocol version 2; this harness speaks 1');
    const quits = await processTarget(`echo '# this testee speaks hyperabi-testee version 3 only'`, { startTimeoutMs: 5000 }).catch((e: unknown) => e);
    expect((quits as Error).message).toBe('the testee did not shake hands: the testee exited with code 0; last stderr: (stdout) # this testee speaks hyperabi-testee version 3 only');
  });

  it('a testee that stops starting is given up on, and each scenario is an error', async () => {
    // Says hello, then dies on its first request; every restart does the same.
    const target = await processTarget(`echo 'hello hyperabi-testee 1 name=flaky abis=x86_64-pv'; read line; read line; exit 3`, { startTimeoutMs: 5000 });
    try {
      const out = await runScenarios([raw('xen_version/a', 'xen_version'), raw('xen_version/b', 'xen_version'), raw('xen_version/c', 'xen_version')], target);
      expect(out.every((o) => o.status === 'error')).toBe(true);
      expect(out[0]?.reason).toMatch(/cannot create the machine: the testee exited with code 3 \(while creating the machine\)/);
      expect(target.starts).toBeGreaterThanOrEqual(2);
    } finally {
      await target.dispose();
    }
  });

  it('an empty program needs no reply, and a machine with the wrong layouts is garbage', async () => {
    const target = await processTarget(`node ${MISBEHAVE} crash rax=0x0`, { stepTimeoutMs: 300 });
    try {
      const s = await target.open([{ id: 0, abi: 'x86_64-pv', memoryPages: 16, vcpus: 1, privileged: false }]);
      expect(await s.exec([])).toEqual({ results: [] });
      await s.close();
      // A machine reply whose layouts are not those of the domains asked for.
      const t2 = await processTarget(`echo 'hello hyperabi-testee 1 name=x abis=x86_64-pv'; read a; read b; echo '1 machine id=5,data=0x0,unmapped=0x1'; sleep 30`);
      const err = await t2.open([{ id: 0, abi: 'x86_64-pv', memoryPages: 16, vcpus: 1, privileged: false }]).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/^garbage: the machine reply gives layouts for domains 5, not 0/);
      await t2.dispose();
    } finally {
      await target.dispose();
    }
  });

  it('a testee that does not implement an ABI skips its scenarios with the reason', async () => {
    const target = await processTarget(`node ${MISBEHAVE} crash rax=0x0`);
    try {
      const onArm = raw('xen_version/on-arm', 'xen_version');
      onArm.machine.domains[0]!.abi = 'arm64';
      const [o] = await runScenarios([onArm], target);
      expect(o?.status).toBe('skip');
      expect(o?.reason).toBe('the testee does not implement arm64 (it has x86_64-pv)');
    } finally {
      await target.dispose();
    }
  });
});
