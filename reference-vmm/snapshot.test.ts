/**
 * Machine snapshots: a restore brings back exactly what a guest can observe (guest memory,
 * event-channel ports, shared_info bits, consoles, shutdown state, the clock), checked
 * through hypercalls and guest memory, and it copies back only the pages written since.
 */
import { describe, expect, it } from 'vitest';
import { XenGuest } from '../generated/xen/guest.js';
import { constantValue, LayoutEngine, xenSpec } from '../spec/index.js';
import { gaddr, PAGE_SIZE } from './addr.js';
import { VmmTransport } from './transport.js';
import { ReferenceVmm } from './vmm.js';

const C = (n: string): number => constantValue(xenSpec, n) as number;
const SELF = C('DOMID_SELF');
const status0 = { status: 0, vcpu: 0, u: { unbound: { dom: 0 }, interdomain: { dom: 0, port: 0 }, pirq: 0, virq: 0 } };

function setup() {
  const vmm = new ReferenceVmm({
    domains: [
      { id: 0, abi: 'x86_64-pv', memoryPages: 16, privileged: true },
      { id: 1, abi: 'x86_64-pv', memoryPages: 16 },
    ],
  });
  const g = (domid: number) => new XenGuest(new VmmTransport(vmm, domid));
  const d = (id: number) => vmm.machine.domain(id)!;
  const mem = (domid: number, addr: number, n: number) => {
    const out = new Uint8Array(n);
    expect(d(domid).memory.read(gaddr(addr), out)).toBe(true);
    return out;
  };
  const pending = (domid: number, port: number) => {
    const dom = d(domid);
    const off = new LayoutEngine(xenSpec, dom.arch).named('struct shared_info').fields['evtchn_pending']!.offset;
    return (mem(domid, dom.sharedInfoGfn * PAGE_SIZE + off + (port >> 3), 1)[0]! & (1 << (port & 7))) !== 0;
  };
  /** Everything of both domains a guest can observe here, as one comparable value. */
  // Port status first: its argument passes through guest memory, which is read after it.
  const observe = () =>
    [0, 1].map((id) => ({
      ports: [1, 2, 3].map((port) => g(id).event_channel_op$EVTCHNOP_status({ dom: SELF, port, ...status0 })),
      ram: Array.from({ length: 16 }, (_, p) => Buffer.from(mem(id, p * PAGE_SIZE, PAGE_SIZE)).toString('base64')),
      sharedInfo: Buffer.from(mem(id, d(id).sharedInfoGfn * PAGE_SIZE, PAGE_SIZE)).toString('base64'),
      console: [...d(id).console],
      shutdown: [d(id).shutDown, d(id).shutdownCode],
    }));
  /** console_io write of `text` from dom0, the text placed in its page 1. */
  const print = (text: string) => {
    const bytes = new TextEncoder().encode(text);
    expect(d(0).memory.write(gaddr(PAGE_SIZE), bytes)).toBe(true);
    expect(g(0).console_io$CONSOLEIO_write(bytes.length, BigInt(PAGE_SIZE))).toBe(0n);
  };
  return { vmm, g, d, mem, pending, observe, print };
}

describe('reference-vmm snapshots', () => {
  it('snapshot/restore brings back guest memory, ports, shared_info bits, console, shutdown state and the clock exactly', () => {
    const { vmm, g, d, pending, observe, print } = setup();
    // Some state before the snapshot, so restore must keep it, not clear it.
    const a = g(0).event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: 1, port: 0 }).arg.port;
    print('abc');
    vmm.machine.advance(1000n);
    const before = observe();
    const s = vmm.machine.snapshot();

    // Change everything observable.
    expect(d(1).memory.write(gaddr(3 * PAGE_SIZE + 100), new Uint8Array([1, 2, 3, 4]))).toBe(true);
    const b = g(1).event_channel_op$EVTCHNOP_bind_interdomain({ remote_dom: 0, remote_port: a, local_port: 0 }).arg.local_port;
    expect(g(1).event_channel_op$EVTCHNOP_send({ port: b }).result).toBe(0n);
    expect(pending(0, a)).toBe(true);
    print('xy');
    expect(g(1).sched_op$SCHEDOP_shutdown({ reason: C('SHUTDOWN_reboot') }).result).toBe(0n);
    vmm.machine.advance(5000n);
    const after = observe();
    expect(after).not.toEqual(before);
    expect(d(1).shutDown).toBe(true);

    vmm.machine.restore(s);
    expect(observe()).toEqual(before);
    expect(pending(0, a)).toBe(false);
    expect(vmm.machine.now).toBe(1000n);
    expect(vmm.machine.invariants()).toEqual([]);
    // Allocation order is restored too: the next port of domain 1 is its first again.
    expect(g(1).event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: 0, port: 0 }).arg.port).toBe(1);

    // The snapshot stays current: change again, restore again.
    print('z');
    vmm.machine.restore(s);
    expect(observe()).toEqual(before);
    expect(vmm.internalErrors).toEqual([]);
  });

  it('a restore copies back only the pages written since the snapshot', () => {
    const { vmm, d } = setup();
    const s = vmm.machine.snapshot();
    vmm.machine.restore(s);
    expect(vmm.machine.frames.pagesRestored).toBe(0);
    // Three distinct pages of domain 1 (one written twice) and one of domain 0.
    for (const [id, addr] of [[1, 0], [1, 10], [1, 5 * PAGE_SIZE], [1, 9 * PAGE_SIZE + 4000], [0, 2 * PAGE_SIZE]] as const) {
      expect(d(id).memory.write(gaddr(addr), new Uint8Array([0xee]))).toBe(true);
    }
    vmm.machine.restore(s);
    expect(vmm.machine.frames.pagesRestored).toBe(4);
    // Reading does not save pages.
    d(1).memory.read(gaddr(0), new Uint8Array(PAGE_SIZE));
    vmm.machine.restore(s);
    expect(vmm.machine.frames.pagesRestored).toBe(0);
  });

  it('xen_version$XENVER_version: a call that writes nothing leaves nothing to restore; one that writes an argument, one page', () => {
    const { vmm, g } = setup();
    const s = vmm.machine.snapshot();
    for (let i = 0; i < 100; i++) expect(g(1).xen_version$XENVER_version()).toBe(0x40011n);
    vmm.machine.restore(s);
    expect(vmm.machine.frames.pagesRestored).toBe(0);
    // The stub marshals the argument into the scratch page, and Xen writes the string there.
    for (let i = 0; i < 10; i++) expect(g(1).xen_version$XENVER_extraversion(new Array<number>(16).fill(0)).result).toBe(0n);
    vmm.machine.restore(s);
    expect(vmm.machine.frames.pagesRestored).toBe(1);
  });
});
