/** Generated TypeScript hot paths: codecs of typical structs and dispatch of a simple call. */
import type { Bench } from 'tinybench';
import * as xen from '../generated/xen/index.js';
import { FlatGuestMemory, type GuestMemory, type HypercallResult, type Registers } from '../generated/xen/runtime.js';

export function register(bench: Bench): void {
  const view = new DataView(new ArrayBuffer(4096));
  const status: xen.EvtchnStatus = { dom: 0x7ff0, port: 5, status: 2, vcpu: 1, u: { interdomain: { dom: 3, port: 9 } } };
  const mmu: xen.MmuUpdate = { ptr: 0x1234_5000n, val: 0x8000_0000_0000_0067n };
  const c64 = xen.codecsByArch.x86_64;
  const c32 = xen.codecsByArch.x86_32;
  let _sink = 0; // consumed results, so the JIT cannot drop the work

  bench
    .add('ts codec: encode struct evtchn_status (x86_64)', () => {
      c64.EvtchnStatus.encode(view, 64, status);
    })
    .add('ts codec: decode struct evtchn_status (x86_64)', () => {
      _sink += c64.EvtchnStatus.decode(view, 64).port;
    })
    .add('ts codec: encode struct mmu_update (x86_32, bigint fields)', () => {
      c32.MmuUpdate.encode(view, 256, mmu);
    })
    .add('ts codec: decode struct mmu_update (x86_32, bigint fields)', () => {
      _sink += Number(c32.MmuUpdate.decode(view, 256).ptr & 1n);
    });

  // Dispatch: EVTCHNOP_send through the x86_64-pv dispatcher, the handler reading the port.
  const bytes = new Uint8Array(4096);
  new DataView(bytes.buffer).setUint32(128, 7, true);
  const mem: GuestMemory = new FlatGuestMemory(bytes, 0x10000n);
  const handler: xen.XenHandler<null> = { event_channel_op$EVTCHNOP_send: (_c, arg) => arg.read().port };
  const regs: xen.Registers_x86_64_pv = { rax: 32n, rdi: 4n, rsi: 0x10080n, rdx: 0n, r10: 0n, r8: 0n };
  const dispatch = xen.dispatch_x86_64_pv as (h: xen.XenHandler<null>, c: null, r: Readonly<xen.Registers_x86_64_pv>, m: GuestMemory) => HypercallResult;
  bench.add('ts dispatch: event_channel_op$EVTCHNOP_send on x86_64-pv (decode arg, trivial handler)', () => {
    _sink += Number(dispatch(handler, null, regs, mem));
  });
  const nosys: Registers = { eax: 63n, ebx: 0n, ecx: 0n, edx: 0n, esi: 0n, edi: 0n };
  bench.add('ts dispatch: unknown number on x86_32-pv (-ENOSYS)', () => {
    _sink += Number(xen.dispatch_x86_32_pv(handler, null, nosys as unknown as xen.Registers_x86_32_pv, mem));
  });
}
