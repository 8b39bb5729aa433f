import { describe, expect, it } from 'vitest';
import { parseScenarios, ScenarioError } from './scenario.js';
import { runScenarios } from './runner.js';
import { referenceTarget } from './targets/reference.js';

const base = `
id: xen_version$XENVER_version/runner-check
doc: the runner judges results
ref: xen/common/kernel.c:do_xen_version
kind: semantic
family: version
machine: { domains: [ { id: 0, abi: x86_64-pv, privileged: true } ] }
`;

describe('conformance runner on the reference VMM', () => {
  it('passes a right expectation and fails a wrong one with expected and actual', async () => {
    const [ok] = parseScenarios(`${base}steps:\n  - call: xen_version$XENVER_version\n    expect: 0x40011\n`, 'a.yaml');
    const [bad] = parseScenarios(`${base.replace('runner-check', 'runner-wrong')}steps:\n  - call: xen_version$XENVER_version\n    expect: 0x40010\n`, 'b.yaml');
    const [o1, o2] = await runScenarios([ok!, bad!], referenceTarget());
    expect(o1?.status).toBe('pass');
    expect(o2?.status).toBe('fail');
    expect(o2?.reason).toContain('expected 262160 (0x40010), got 262161 (0x40011)');
  });

  it('reads back struct fields, events and memory', async () => {
    const [s] = parseScenarios(
      `${base}steps:
  - call: event_channel_op$EVTCHNOP_bind_ipi
    arg: { vcpu: 0 }
    expect: { result: 0, arg: { port: 1 } }
    save: { p: arg.port }
  - call: event_channel_op$EVTCHNOP_send
    arg: { port: $p }
    expect: 0
  - event: { port: 1, pending: true }
  - write: { at: "@0x100", text: "hi" }
  - memory: { at: "@0x100", hex: "6869" }
  - memory: { at: unmapped, fault: true }
  - call: event_channel_op$EVTCHNOP_send
    arg: { port: 5 }
    expect: -EINVAL
`,
      'c.yaml',
    );
    const [o] = await runScenarios([s!], referenceTarget());
    expect(o?.status, o?.reason).toBe('pass');
    expect(o?.checks.length).toBe(7);
  });

  it('names the file and step of a malformed scenario', () => {
    expect(() => parseScenarios(`${base}steps:\n  - call: 5\n`, 'd.yaml')).toThrow(ScenarioError);
    expect(() => parseScenarios(`${base}steps:\n  - call: 5\n`, 'd.yaml')).toThrow(/d\.yaml \(xen_version\$XENVER_version\/runner-check\)/);
    expect(() => parseScenarios(`${base}steps: [ { write: { domain: 3, at: 0, hex: "00" } } ]\n`, 'e.yaml')).toThrow(/step 1: no domain 3/);
  });

  it('an unknown constant is an error outcome naming the step, not an exception', async () => {
    const [s] = parseScenarios(`${base}steps:\n  - call: event_channel_op$EVTCHNOP_send\n    arg: { port: NO_SUCH }\n`, 'f.yaml');
    const [o] = await runScenarios([s!], referenceTarget());
    expect(o?.status).toBe('error');
    expect(o?.reason).toMatch(/step 1: unknown constant 'NO_SUCH'/);
  });
});
