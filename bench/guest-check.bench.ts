/**
 * Strict mode's price (`npm run bench -- guest-check`): the same EVTCHNOP_send on a bound
 * loopback port, on the plain reference VMM and in strict mode (recorded and checked live),
 * and the offline check of a recorded trace. Strict mode is opt-in: the plain figure is the
 * VMM's own, with no strict code on its path.
 */
import type { Bench } from 'tinybench';
import { checkTrace } from '../conformance/guest-check/checker.js';
import { GuestCheck } from '../conformance/guest-check/strict.js';
import type { TraceEvent } from '../conformance/guest-check/trace.js';
import { constantValue, xenSpec } from '../spec/index.js';

const C = (n: string): number => constantValue(xenSpec, n) as number;
const BATCH = 100;

/** A machine in strict mode with a loopback port and a send struct at 0x3000; returns the send's registers. */
function setup() {
  const check = new GuestCheck({ domains: [{ id: 1, abi: 'x86_64-pv', memoryPages: 16 }] });
  const g = check.guest(1);
  const SELF = C('DOMID_SELF');
  const a = g.event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: SELF, port: 0 }).arg.port;
  const b = g.event_channel_op$EVTCHNOP_bind_interdomain({ remote_dom: SELF, remote_port: a, local_port: 0 }).arg.local_port;
  const at = 0x3000n;
  g.event_channel_op$EVTCHNOP_send({ port: b }, at);
  const regs = { rax: BigInt(C('__HYPERVISOR_event_channel_op')), rdi: BigInt(C('EVTCHNOP_send')), rsi: at };
  return { check, regs };
}

export function register(bench: Bench): void {
  const plain = setup();
  bench.add(`guest-check: EVTCHNOP_send ×${BATCH}, plain reference VMM`, () => {
    for (let i = 0; i < BATCH; i++) plain.check.vmm.hypercall(1, 0, plain.regs);
  });
  const strict = setup();
  bench.add(`guest-check: EVTCHNOP_send ×${BATCH}, strict mode (recorded and checked)`, () => {
    for (let i = 0; i < BATCH; i++) strict.check.strict.hypercall(1, 0, strict.regs);
    strict.check.events.length = 0;
  });
  const rec = setup();
  for (let i = 0; i < 1000; i++) rec.check.strict.hypercall(1, 0, rec.regs);
  const events: TraceEvent[] = rec.check.events.slice();
  bench.add(`guest-check: offline check of a ${events.length}-event trace`, () => {
    if (checkTrace(events).length !== 0) throw new Error('the benchmark trace has findings');
  });
}
