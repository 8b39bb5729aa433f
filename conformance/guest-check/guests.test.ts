/**
 * Strict mode on the in-process test guests (guests.ts): each misbehaving guest is flagged
 * with exactly the kind it commits, at the call that commits it, with the call trace up to
 * it; the well-behaved guests get no findings; and checking each recorded trace offline
 * gives the same findings as the live check.
 */
import { describe, expect, it } from 'vitest';
import { xenSpec } from '../../spec/index.js';
import { checkTrace } from './checker.js';
import { C, runTestGuest, TEST_GUESTS } from './guests.js';
import { GuestCheck } from './strict.js';
import { KINDS, type Kind } from './rules.js';
import { parseTrace } from './trace.js';

describe('strict mode: test guests', () => {
  for (const guest of TEST_GUESTS) {
    const what = guest.commits.length === 0 ? 'no findings' : guest.commits.join(', ');
    it(`${guest.name}: ${what}`, () => {
      const check = runTestGuest(guest);
      const kinds = [...new Set(check.findings.map((f) => f.kind))].sort();
      expect(kinds, check.findings.map((f) => `${f.kind}: ${f.message}`).join('\n')).toEqual([...guest.commits].sort());
      for (const f of check.findings) {
        expect(f.message.length).toBeGreaterThan(10);
        expect(f.trace.length).toBeGreaterThan(0);
        if (f.seq !== undefined) {
          // The trace ends at the call that committed it.
          expect(f.trace[f.trace.length - 1]).toMatch(new RegExp(`^#${f.seq} `));
        }
      }
      // The reference VMM never broke while the guests misbehaved.
      expect(check.vmm.internalErrors).toEqual([]);
      expect(check.vmm.machine.invariants()).toEqual([]);
    });
  }

  it('every kind of finding has a guest that commits it', () => {
    const committed = new Set<Kind>(TEST_GUESTS.flatMap((g) => g.commits));
    expect((Object.keys(KINDS) as Kind[]).filter((k) => !committed.has(k))).toEqual([]);
    expect(Object.keys(KINDS).length).toBeGreaterThanOrEqual(10);
  });

  it('checking the recorded trace offline gives the same findings as the live check, for every guest', () => {
    for (const guest of TEST_GUESTS) {
      const check = runTestGuest(guest);
      const text = check.traceText();
      expect(checkTrace(parseTrace(text, guest.name)), guest.name).toEqual(check.findings);
    }
  });

  it('a finding carries the call and its trace: a send on a port never bound', () => {
    const guest = TEST_GUESTS.find((g) => g.name === 'port-never-bound');
    if (!guest) throw new Error('no guest port-never-bound');
    const [f] = runTestGuest(guest).findings;
    expect(f).toMatchObject({ kind: 'unowned-handle', dom: 1, seq: 1, op: 'event_channel_op$EVTCHNOP_send' });
    expect(f?.message).toBe('arg.port = 5: no call ever gave the guest this evtchn_port');
    expect(f?.trace).toEqual(['#1 v0 event_channel_op$EVTCHNOP_send() {port=0x5} = -22 (EINVAL)']);
  });

  it('a leak names the call that made the handle, and the trace runs to the shutdown', () => {
    const guest = TEST_GUESTS.find((g) => g.name === 'port-leaked');
    if (!guest) throw new Error('no guest port-leaked');
    const fs = runTestGuest(guest).findings;
    expect(fs.map((f) => f.message)).toEqual([
      'event channel still bound at shutdown: evtchn_port 1 (from event_channel_op$EVTCHNOP_alloc_unbound, call #1)',
      'event channel still bound at shutdown: evtchn_port 2 (from event_channel_op$EVTCHNOP_bind_interdomain, call #2)',
    ]);
    expect(fs[0]?.trace.at(-1)).toMatch(/^#3 v0 sched_op\$SCHEDOP_shutdown\(\) \{reason=0x0\} = 0$/);
  });

  it('on every ABI of the spec: a clean channel life cycle has no findings, a send on a closed port is stale, a leak is found', () => {
    for (const abi of xenSpec.abis) {
      const check = new GuestCheck({ domains: [{ id: 1, abi: abi.name, memoryPages: 16 }] });
      const g = check.guest(1);
      const SELF = C('DOMID_SELF');
      const a = g.event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: SELF, port: 0 }).arg.port;
      const b = g.event_channel_op$EVTCHNOP_bind_interdomain({ remote_dom: SELF, remote_port: a, local_port: 0 }).arg.local_port;
      g.event_channel_op$EVTCHNOP_send({ port: b });
      g.event_channel_op$EVTCHNOP_close({ port: b });
      expect(check.findings, abi.name).toEqual([]);
      g.event_channel_op$EVTCHNOP_send({ port: b });
      check.end(1);
      expect(check.findings.map((f) => `${f.kind} ${f.message}`), abi.name).toEqual([
        `stale-handle arg.port = ${b}: the evtchn_port was released by event_channel_op$EVTCHNOP_close (call #4)`,
        `leak-at-shutdown event channel still bound when the guest ended: evtchn_port ${a} (from event_channel_op$EVTCHNOP_alloc_unbound, call #1)`,
      ]);
    }
  });
});
