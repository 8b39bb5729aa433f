/**
 * The trace format on its own: a hand-written trace (as another recorder would produce)
 * checks to the findings the format promises, and malformed traces fail with the line and
 * what is wrong.
 */
import { describe, expect, it } from 'vitest';
import { checkTrace } from './checker.js';
import { parseTrace, TraceError } from './trace.js';

const HEADER = '{"ev":"trace","format":"hyperabi-guest-trace","version":1,"spec":"xen"}';
const DOMAIN = '{"ev":"domain","dom":1,"abi":"x86_64-pv","vcpus":1,"owned":[[0,17]],"grantTable":17}';

describe('guest traces', () => {
  it('a hand-written trace: a send on a port it never got, a write, a port it got and closed twice, then the end', () => {
    const text = [
      HEADER,
      DOMAIN,
      // EVTCHNOP_send (4) with a struct at 0x3000 holding port 5.
      '{"ev":"write","dom":1,"addr":"0x3000","bytes":"05000000"}',
      '{"ev":"call","seq":1,"dom":1,"vcpu":0,"regs":{"rax":"0x20","rdi":"0x4","rsi":"0x3000"},"mem":[{"addr":"0x3000","bytes":"05000000"}],"ret":"0xffffffffffffffea","out":[]}',
      // EVTCHNOP_bind_ipi (7) writes port 1 into the struct.
      '{"ev":"call","seq":2,"dom":1,"vcpu":0,"regs":{"rax":"0x20","rdi":"0x7","rsi":"0x3008"},"mem":[{"addr":"0x3008","bytes":"0000000000000000"}],"ret":"0x0","out":[{"addr":"0x300c","bytes":"01"}]}',
      '{"ev":"write","dom":1,"addr":"0x3010","bytes":"01000000"}',
      '{"ev":"call","seq":3,"dom":1,"vcpu":0,"regs":{"rax":"0x20","rdi":"0x3","rsi":"0x3010"},"mem":[],"ret":"0x0","out":[]}',
      '{"ev":"call","seq":4,"dom":1,"vcpu":0,"regs":{"rax":"0x20","rdi":"0x3","rsi":"0x3010"},"mem":[],"ret":"0xffffffffffffffea","out":[]}',
      // A hypercall number the spec does not have.
      '{"ev":"call","seq":5,"dom":1,"vcpu":0,"regs":{"rax":"0x3f"},"mem":[],"ret":"0xffffffffffffffda","out":[]}',
      '{"ev":"end","dom":1}',
      '',
    ].join('\n');
    const fs = checkTrace(parseTrace(text, 'hand.jsonl'));
    expect(fs.map((f) => [f.kind, f.seq, f.message])).toEqual([
      ['unowned-handle', 1, 'arg.port = 5: no call ever gave the guest this evtchn_port'],
      ['double-release', 4, 'arg.port = 1: the evtchn_port was released by event_channel_op$EVTCHNOP_close (call #3)'],
      ['unknown-hypercall', 5, 'hypercall 63 is no hypercall of spec xen'],
    ]);
    expect(fs[1]?.trace).toEqual([
      '#1 v0 event_channel_op$EVTCHNOP_send() {port=0x5} = -22 (EINVAL)',
      '#2 v0 event_channel_op$EVTCHNOP_bind_ipi() {vcpu=0x0} = 0',
      '#3 v0 event_channel_op$EVTCHNOP_close() {port=0x1} = 0',
      '#4 v0 event_channel_op$EVTCHNOP_close() {port=0x1} = -22 (EINVAL)',
    ]);
  });

  it('ports the domain builder bound (start_info’s store and console channels) are the guest’s to use and close', () => {
    const dom = DOMAIN.replace('"grantTable":17', '"grantTable":17,"ports":[3]');
    const send = '{"ev":"call","seq":1,"dom":1,"vcpu":0,"regs":{"rax":"0x20","rdi":"0x4","rsi":"0x3000"},"mem":[{"addr":"0x3000","bytes":"03000000"}],"ret":"0x0","out":[]}';
    expect(checkTrace(parseTrace([HEADER, dom, send].join('\n')))).toEqual([]);
    const ended = checkTrace(parseTrace([HEADER, dom, send, '{"ev":"end","dom":1}'].join('\n')));
    expect(ended.map((f) => f.message)).toEqual(['event channel still bound when the guest ended: evtchn_port 3 (from the domain builder)']);
  });

  it('memory the trace never showed is not guessed: a call whose struct is unknown gets no struct findings', () => {
    const text = [HEADER, DOMAIN, '{"ev":"call","seq":1,"dom":1,"vcpu":0,"regs":{"rax":"0x20","rdi":"0x4","rsi":"0x3000"},"mem":[],"ret":"0x0","out":[]}'].join('\n');
    expect(checkTrace(parseTrace(text))).toEqual([]);
  });

  it('malformed traces fail with the file, the line and what is wrong', () => {
    const bad: [string, RegExp][] = [
      ['', /^t: empty trace \(no header line\)$/],
      [DOMAIN, /^t:1: the first line must be the header/],
      [`${HEADER}\n${HEADER}`, /^t:2: a second trace header$/],
      [`${HEADER}\n{"ev":"call"`, /^t:2: not JSON/],
      [`${HEADER}\n{"ev":"jump"}`, /^t:2: "ev" must be one of trace, domain, owned, write, call, end, not 'jump'$/],
      [`${HEADER}\n{"ev":"write","dom":1,"addr":"12","bytes":"00"}`, /^t:2: write event: \/addr /],
      [`${HEADER}\n{"ev":"write","dom":1,"addr":"0x12","bytes":"0"}`, /^t:2: write event: \/bytes /],
      [`${HEADER}\n{"ev":"end","dom":1,"extra":true}`, /^t:2: end event: /],
    ];
    for (const [text, re] of bad) {
      expect(() => parseTrace(text, 't'), text).toThrow(TraceError);
      expect(() => parseTrace(text, 't'), text).toThrow(re);
    }
  });

  it('traces that parse but do not make sense fail the check with the event', () => {
    const call = '{"ev":"call","seq":1,"dom":2,"vcpu":0,"regs":{},"mem":[],"ret":"0x0","out":[]}';
    expect(() => checkTrace(parseTrace(`${HEADER}\n${call}`))).toThrow(/^event 2: domain 2 has no domain event before it$/);
    expect(() => checkTrace(parseTrace(`${HEADER}\n${DOMAIN.replace('x86_64-pv', 'sparc')}`))).toThrow(/^event 2: unknown ABI 'sparc'/);
    expect(() => checkTrace(parseTrace(`${HEADER}\n${DOMAIN}\n${DOMAIN}`))).toThrow(/^event 3: domain 1 is declared twice$/);
    expect(() => checkTrace(parseTrace(HEADER.replace('"xen"', '"vmi"')))).toThrow(/trace of spec 'vmi'; this checker reads spec 'xen'/);
  });
});
