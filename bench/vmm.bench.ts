/**
 * The reference VMM's hot paths (`npm run bench -- vmm`), with issue 5's goals:
 * - xen_version(XENVER_version) through hypercall(): > 10M calls/s (ops/s × 1000 below);
 * - event channels, send + unmask with delivery: > 2M per second (ops/s × 1000);
 * - snapshot + restore of a 2-domain machine after 100 calls: < 50 µs (mean per op);
 * - mmu_update in 512-entry batches: > 10M entries/s (ops/s × 512).
 */
import type { Bench } from 'tinybench';
import type { Registers } from '../generated/xen/runtime.js';
import { constantValue, LayoutEngine, xenSpec } from '../spec/index.js';
import { codecsByArch } from '../generated/xen/codecs.js';
import { gaddr, gfn, PAGE_SIZE } from '../reference-vmm/addr.js';
import { ReferenceVmm } from '../reference-vmm/vmm.js';

const C = (n: string): bigint => BigInt(constantValue(xenSpec, n) as number);
const NR = (name: string): bigint => BigInt(xenSpec.hypercalls.find((h) => h.name === name)!.number);
const BATCH = 1000;

function machine(): ReferenceVmm {
  return new ReferenceVmm({
    domains: [
      { id: 0, abi: 'x86_64-pv', memoryPages: 64, privileged: true },
      { id: 1, abi: 'x86_64-pv', memoryPages: 64 },
    ],
  });
}

/** An interdomain channel 0 → 1 with the structs of send (dom0) and unmask (dom1) in guest memory. */
function channel(vmm: ReferenceVmm) {
  const put32 = (domid: number, addr: number, v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    vmm.machine.domain(domid)!.memory.write(gaddr(addr), b);
  };
  // alloc_unbound in dom0 for dom1: struct evtchn_alloc_unbound { dom, remote_dom, port } at 0x1000.
  put32(0, 0x1000, Number(C('DOMID_SELF')) | (1 << 16));
  const ev = NR('event_channel_op');
  const call = (domid: number, cmd: bigint, addr: number) => vmm.hypercall(domid, 0, { rax: ev, rdi: cmd, rsi: BigInt(addr), rdx: 0n, r10: 0n, r8: 0n });
  if (call(0, C('EVTCHNOP_alloc_unbound'), 0x1000) !== 0n) throw new Error('alloc_unbound failed');
  const out = new Uint8Array(8);
  vmm.machine.domain(0)!.memory.read(gaddr(0x1000), out);
  const remote = new DataView(out.buffer).getUint32(4, true);
  // bind_interdomain in dom1: { remote_dom, remote_port, local_port } at 0x1000.
  put32(1, 0x1000, 0);
  put32(1, 0x1004, remote);
  if (call(1, C('EVTCHNOP_bind_interdomain'), 0x1000) !== 0n) throw new Error('bind_interdomain failed');
  vmm.machine.domain(1)!.memory.read(gaddr(0x1008), out.subarray(0, 4));
  const local = new DataView(out.buffer).getUint32(0, true);
  put32(0, 0x2000, remote); // struct evtchn_send { port }
  put32(1, 0x2000, local); // struct evtchn_unmask { port }
  return { ev, remote, local };
}

export function register(bench: Bench): void {
  let _sink = 0n; // consumed results, so the JIT cannot drop the work

  {
    const vmm = machine();
    const regs: Registers = { rax: NR('xen_version'), rdi: C('XENVER_version'), rsi: 0n, rdx: 0n, r10: 0n, r8: 0n };
    bench.add(`vmm: xen_version(XENVER_version) through hypercall() ×${BATCH}`, () => {
      for (let i = 0; i < BATCH; i++) _sink += vmm.hypercall(1, 0, regs);
    });
  }

  {
    const vmm = machine();
    const { ev, local } = channel(vmm);
    const d1 = vmm.machine.domain(1)!;
    const pendingOff = new LayoutEngine(xenSpec, d1.arch).named('struct shared_info').fields['evtchn_pending']!.offset;
    const pendingByte = gaddr(d1.sharedInfoGfn * PAGE_SIZE + pendingOff + (local >> 3));
    const zero = new Uint8Array(1);
    const send: Registers = { rax: ev, rdi: C('EVTCHNOP_send'), rsi: 0x2000n, rdx: 0n, r10: 0n, r8: 0n };
    const unmask: Registers = { rax: ev, rdi: C('EVTCHNOP_unmask'), rsi: 0x2000n, rdx: 0n, r10: 0n, r8: 0n };
    // Each op: dom0 sends (the port becomes pending in dom1, with upcall), dom1 unmasks, and
    // dom1's handler clears the pending bit in its shared_info, so every send delivers.
    bench.add(`vmm: event channels, send + unmask with delivery ×${BATCH}`, () => {
      for (let i = 0; i < BATCH; i++) {
        _sink += vmm.hypercall(0, 0, send);
        _sink += vmm.hypercall(1, 0, unmask);
        d1.memory.write(pendingByte, zero);
      }
    });
  }

  {
    const vmm = machine();
    const { ev } = channel(vmm);
    const version: Registers = { rax: NR('xen_version'), rdi: C('XENVER_version'), rsi: 0n, rdx: 0n, r10: 0n, r8: 0n };
    const send: Registers = { rax: ev, rdi: C('EVTCHNOP_send'), rsi: 0x2000n, rdx: 0n, r10: 0n, r8: 0n };
    const extraversion: Registers = { rax: NR('xen_version'), rdi: C('XENVER_extraversion'), rsi: 0x3000n, rdx: 0n, r10: 0n, r8: 0n };
    let snap = vmm.machine.snapshot();
    bench.add(
      'vmm: snapshot + restore of a 2-domain machine after 100 calls',
      () => {
        vmm.machine.restore(snap);
        snap = vmm.machine.snapshot();
      },
      {
        // The 100 calls (untimed): version queries, sends that set shared_info bits, and
        // calls that write guest memory in both domains.
        beforeEach() {
          for (let i = 0; i < 25; i++) {
            _sink += vmm.hypercall(0, 0, version) + vmm.hypercall(0, 0, send) + vmm.hypercall(1, 0, extraversion) + vmm.hypercall(0, 0, extraversion);
          }
        },
      },
    );
  }

  {
    const vmm = machine();
    if (!vmm.implements('mmu_update') && !vmm.implements('mmu_update$MMU_NORMAL_PT_UPDATE')) {
      console.log('vmm bench: mmu_update is not implemented by the reference VMM yet: no mmu_update figure');
    } else {
      const run = mmuBatch(vmm);
      bench.add(`vmm: mmu_update, ${MMU_BATCH}-entry batches (MMU_NORMAL_PT_UPDATE into a pinned L1) ×1`, () => {
        _sink += run();
      });
    }
  }
}

const MMU_BATCH = 512;

/**
 * Domain 1 pins guest frame 10 as an L1 table and then rewrites all 512 of its entries in one
 * mmu_update batch per call, alternating between read-only mappings of two of its frames.
 */
function mmuBatch(vmm: ReferenceVmm): () => bigint {
  const d = vmm.machine.domain(1)!;
  const codecs = codecsByArch.x86_64;
  const mfnOf = (g: number) => BigInt(d.memory.lookup(gfn(g))!);
  const write = (addr: number, bytes: Uint8Array) => {
    if (!d.memory.write(gaddr(addr), bytes)) throw new Error('bench setup: guest write failed');
  };
  const self = C('DOMID_SELF');
  const op = new Uint8Array(codecs.MmuextOp.size);
  codecs.MmuextOp.encode(new DataView(op.buffer), 0, { cmd: Number(C('MMUEXT_PIN_L1_TABLE')), arg1: { mfn: mfnOf(10) }, arg2: { nr_ents: 0 } });
  write(0x1000, op);
  const pin = vmm.hypercallSigned(1, 0, { rax: NR('mmuext_op'), rdi: 0x1000n, rsi: 1n, rdx: 0n, r10: self, r8: 0n });
  if (pin !== 0n) throw new Error(`bench setup: MMUEXT_PIN_L1_TABLE gave ${pin}`);
  // Two batches (guest frames 12-13 and 14-15): every entry of the L1, mapping frame 20 or 21 present, read-only.
  const present = 1n;
  for (const [at, target] of [[12, 20], [14, 21]] as const) {
    const buf = new Uint8Array(codecs.MmuUpdate.size * MMU_BATCH);
    const view = new DataView(buf.buffer);
    for (let i = 0; i < MMU_BATCH; i++) {
      codecs.MmuUpdate.encode(view, i * codecs.MmuUpdate.size, { ptr: (mfnOf(10) << 12n) + BigInt(i * 8) + C('MMU_NORMAL_PT_UPDATE'), val: (mfnOf(target) << 12n) | present });
    }
    write(at * PAGE_SIZE, buf);
  }
  const regs = [12, 14].map((g) => ({ rax: NR('mmu_update'), rdi: BigInt(g * PAGE_SIZE), rsi: BigInt(MMU_BATCH), rdx: 0n, r10: self, r8: 0n }));
  let flip = 0;
  const first = vmm.hypercallSigned(1, 0, regs[0]!);
  if (first !== 0n) throw new Error(`bench setup: mmu_update gave ${first}`);
  return () => vmm.hypercall(1, 0, regs[(flip ^= 1)]!);
}
