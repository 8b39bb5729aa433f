/**
 * Test guests for strict mode, in process: TypeScript guests on the generated stubs
 * (XenGuest) over strict transports. Each misbehaving guest commits violations of exactly
 * one kind and otherwise behaves (closes what it opens, revokes what it grants); the
 * well-behaved ones exercise the same life cycles correctly. guests.test.ts runs every one
 * and checks the kinds found are exactly the expected ones, live and offline.
 */
import { codecsByArch } from '../../generated/xen/codecs.js';
import type { XenGuest } from '../../generated/xen/guest.js';
import { PAGE_SIZE } from '../../reference-vmm/addr.js';
import type { MachineConfig } from '../../reference-vmm/machine.js';
import { constantValue, findGroup, xenSpec } from '../../spec/index.js';
import type { Kind } from './rules.js';
import { GuestCheck } from './strict.js';

/** The machine every catalogue guest runs on. */
export const GUEST_MACHINE: MachineConfig = {
  domains: [
    { id: 0, abi: 'x86_64-pv', memoryPages: 16, privileged: true },
    { id: 1, abi: 'x86_64-pv', memoryPages: 16, vcpus: 2 },
    { id: 2, abi: 'x86_64-pv', memoryPages: 16 },
    { id: 3, abi: 'x86_64-hvm', memoryPages: 16 },
    { id: 4, abi: 'arm64', memoryPages: 16 },
  ],
};

/** A spec constant as a number (the guests never type one). */
export const C = (name: string): number => {
  const v = constantValue(xenSpec, name);
  if (typeof v !== 'number') throw new Error(`spec has no numeric constant ${name}`);
  return v;
};

/** What a guest gets to work with. */
export interface GuestEnv {
  check: GuestCheck;
  /** The stubs of domain `dom` on vCPU 0. */
  g: (dom: number) => XenGuest;
  /** A free guest address in domain `dom`'s RAM for data of its own (page 8 upwards). */
  data: (page?: number) => bigint;
  /** The machine frame of a guest frame (what a PV guest knows from its p2m). */
  mfnOf: (dom: number, gfn: number) => bigint;
  /** Writes a v1 grant entry of `dom`'s table (as the granting guest does, with plain stores). */
  grant: (dom: number, ref: number, flags: number, to: number, frame: bigint) => void;
}

export interface TestGuest {
  name: string;
  doc: string;
  /** The kinds it commits (empty: a well-behaved guest). */
  commits: Kind[];
  run(env: GuestEnv): void;
}

const SELF = C('DOMID_SELF');

/** Binds a loopback channel and returns both ports. */
function loopback(g: XenGuest): { a: number; b: number } {
  const a = g.event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: SELF, port: 0 }).arg.port;
  const b = g.event_channel_op$EVTCHNOP_bind_interdomain({ remote_dom: SELF, remote_port: a, local_port: 0 }).arg.local_port;
  return { a, b };
}

function close(g: XenGuest, ...ports: number[]): void {
  for (const port of ports) g.event_channel_op$EVTCHNOP_close({ port });
}

function setupTable(env: GuestEnv, dom: number): void {
  env.g(dom).grant_table_op$GNTTABOP_setup_table([{ dom: SELF, nr_frames: 1, status: 0, frame_list: env.data(9) }]);
}

/** The first value that is no member of a group (for "unknown" values derived from the spec). */
function notInGroup(group: string): number {
  const used = new Set(findGroup(xenSpec, group)?.members.map((m) => m.value));
  let v = 0;
  while (used.has(v)) v++;
  return v;
}

/** Places a multicall list of [hypercall number, argument words] at `at` and makes the call. */
function multicall(g: XenGuest, at: bigint, entries: [number, bigint[]][]): bigint {
  const codec = g.codecs.MulticallEntry;
  const b = new Uint8Array(codec.size * entries.length);
  entries.forEach(([op, args], i) => {
    codec.encode(new DataView(b.buffer), i * codec.size, { op: BigInt(op), result: 0n, args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6) });
  });
  g.transport.write(at, b);
  return g.multicall(at, entries.length);
}

/** Writes an argument struct with its codec at `at`. */
function put<T>(g: XenGuest, codec: { size: number; encode(v: DataView, o: number, x: T): void }, at: bigint, value: T): bigint {
  const b = new Uint8Array(codec.size);
  codec.encode(new DataView(b.buffer), 0, value);
  g.transport.write(at, b);
  return at;
}

export const TEST_GUESTS: TestGuest[] = [
  // ───────────── well-behaved ─────────────
  {
    name: 'evtchn-lifecycle',
    doc: 'Loopback, VIRQ and IPI ports: allocate, bind, send, unmask, query, close every one; then shut down.',
    commits: [],
    run({ g }) {
      const d = g(1);
      const { a, b } = loopback(d);
      d.event_channel_op$EVTCHNOP_send({ port: b });
      d.event_channel_op$EVTCHNOP_unmask({ port: a });
      d.event_channel_op$EVTCHNOP_status({ dom: SELF, port: a, status: 0, vcpu: 0, u: {} });
      const t = d.event_channel_op$EVTCHNOP_bind_virq({ virq: C('VIRQ_TIMER'), vcpu: 0, port: 0 }).arg.port;
      const i = d.event_channel_op$EVTCHNOP_bind_ipi({ vcpu: 0, port: 0 }).arg.port;
      d.event_channel_op$EVTCHNOP_send({ port: i });
      close(d, t, i, b, a);
      d.xen_version$XENVER_version();
      d.sched_op$SCHEDOP_shutdown({ reason: C('SHUTDOWN_poweroff') });
    },
  },
  {
    name: 'grant-copy',
    doc: 'Domain 2 sets up its table and grants a page to domain 1, which copies from it; domain 2 then revokes the grant.',
    commits: [],
    run(env) {
      setupTable(env, 2);
      env.check.write(2, 5 * PAGE_SIZE, new Uint8Array([1, 2, 3]));
      env.grant(2, 8, C('GTF_permit_access'), 1, env.mfnOf(2, 5));
      const r = env.g(1).grant_table_op$GNTTABOP_copy([{
        source: { u: { ref: 8 }, domid: 2, offset: 0 },
        dest: { u: { gmfn: env.mfnOf(1, 5) }, domid: SELF, offset: 0 },
        len: 3,
        flags: C('GNTCOPY_source_gref'),
        status: 0,
      }]);
      if (r.arg[0]?.status !== 0) throw new Error(`grant-copy: the copy failed (status ${r.arg[0]?.status})`);
      env.grant(2, 8, C('GTF_invalid'), 0, 0n);
    },
  },
  {
    name: 'vcpu-bringup',
    doc: 'vCPU 1 gets a context (VCPUOP_initialise), comes up, is queried and goes down again.',
    commits: [],
    run({ g, data }) {
      const d = g(1);
      // A zeroed context whose CR3 names guest frame 3 (the reference VMM's PV check).
      const codec = codecsByArch.x86_64.VcpuGuestContext;
      const ctx = codec.decode(new DataView(new ArrayBuffer(codec.size)), 0);
      (ctx.ctrlreg as bigint[])[3] = 3n << 12n;
      if (d.vcpu_op$VCPUOP_initialise(1, ctx, data(4)).result !== 0n) throw new Error('vcpu-bringup: initialise failed');
      d.vcpu_op$VCPUOP_up(1);
      d.vcpu_op$VCPUOP_is_up(1);
      d.vcpu_op$VCPUOP_down(1);
    },
  },
  {
    name: 'pin-unpin',
    doc: 'A page pinned as an L1 page table, then unpinned.',
    commits: [],
    run({ g, mfnOf }) {
      const d = g(1);
      const mfn = mfnOf(1, 6);
      if (d.mmuext_op$MMUEXT_PIN_L1_TABLE(0n, SELF, [{ cmd: 0, arg1: { mfn }, arg2: {} }]).result !== 0n) throw new Error('pin-unpin: the pin failed');
      d.mmuext_op$MMUEXT_UNPIN_TABLE(0n, SELF, [{ cmd: 0, arg1: { mfn }, arg2: {} }]);
    },
  },
  {
    name: 'multicall-batch',
    doc: 'A multicall allocating a loopback port and asking the version; the port is closed afterwards.',
    commits: [],
    run({ g, data }) {
      const d = g(1);
      const arg = put(d, d.codecs.EvtchnAllocUnbound, data(), { dom: SELF, remote_dom: SELF, port: 0 });
      const EVTCHN = C('__HYPERVISOR_event_channel_op');
      if (multicall(d, data(10), [[EVTCHN, [BigInt(C('EVTCHNOP_alloc_unbound')), arg]], [C('__HYPERVISOR_xen_version'), [0n, 0n]]]) !== 0n) throw new Error('multicall-batch: the multicall failed');
      const port = new DataView(d.transport.read(arg + 4n, 4).buffer).getUint32(0, true);
      close(d, port);
    },
  },
  // ───────────── one kind each ─────────────
  {
    name: 'hypercall-not-on-abi',
    doc: 'An x86 HVM guest calls mmu_update, which only PV ABIs have.',
    commits: ['unknown-hypercall'],
    run({ g }) {
      g(3).mmu_update(0n, 0, 0n, SELF);
    },
  },
  {
    name: 'hypercall-number-unknown',
    doc: 'A hypercall number no hypercall of the spec has.',
    commits: ['unknown-hypercall'],
    run({ g }) {
      const used = new Set(xenSpec.hypercalls.map((h) => h.number));
      let nr = 0;
      while (used.has(nr)) nr++;
      g(1).trap(nr, []);
    },
  },
  {
    name: 'operation-not-on-abi',
    doc: 'An arm64 guest asks VCPUOP_is_up, an x86-only vcpu_op command.',
    commits: ['unknown-operation'],
    run({ g }) {
      g(4).vcpu_op$VCPUOP_is_up(0);
    },
  },
  {
    name: 'operation-unknown',
    doc: 'An event_channel_op command no EVTCHNOP_* constant has.',
    commits: ['unknown-operation'],
    run({ g, data }) {
      g(1).event_channel_op(notInGroup('EVTCHNOP'), data());
    },
  },
  {
    name: 'deprecated-hypercall',
    doc: 'sched_op_compat, superseded by sched_op.',
    commits: ['deprecated'],
    run({ g }) {
      g(1).sched_op_compat(C('SCHEDOP_yield'), 0n);
    },
  },
  {
    name: 'deprecated-operation',
    doc: 'GNTTABOP_dump_table, which Xen 4.17 no longer implements.',
    commits: ['deprecated'],
    run({ g }) {
      g(1).grant_table_op$GNTTABOP_dump_table([{ dom: SELF, status: 0 }]);
    },
  },
  {
    name: 'flags-reserved-bits',
    doc: 'A single-shot timer with a flag bit VCPU_SSHOTTMR does not define.',
    commits: ['reserved-bits'],
    run({ g }) {
      const undefinedBit = C('VCPU_SSHOTTMR_future') << 1;
      g(1).vcpu_op$VCPUOP_set_singleshot_timer(0, { timeout_abs_ns: 1_000_000n, flags: undefinedBit });
    },
  },
  {
    name: 'command-reserved-bits',
    doc: 'grant_table_op with bits above its 12-bit command mask set (Xen keeps them for continuations).',
    commits: ['reserved-bits'],
    run({ g, data }) {
      const mask = xenSpec.hypercalls.find((h) => h.name === 'grant_table_op')?.subops?.mask ?? 0;
      const d = g(1);
      const at = data();
      const codec = d.codecs.GnttabQuerySize;
      const b = new Uint8Array(codec.size);
      codec.encode(new DataView(b.buffer), 0, { dom: SELF, nr_frames: 0, max_nr_frames: 0, status: 0 });
      d.transport.write(at, b);
      d.grant_table_op(C('GNTTABOP_query_size') | (mask + 1), at, 1);
    },
  },
  {
    name: 'enum-invalid',
    doc: 'set_segment_base with a `which` that is no SEGBASE_* value.',
    commits: ['invalid-value'],
    run({ g }) {
      g(1).set_segment_base(notInGroup('SEGBASE'), 0n);
    },
  },
  {
    name: 'padding-nonzero',
    doc: 'EVTCHNOP_init_control with a byte of its _pad set.',
    commits: ['nonzero-padding'],
    run({ g }) {
      g(1).event_channel_op$EVTCHNOP_init_control({ control_gfn: 5n, offset: 0, vcpu: 0, link_bits: 0, _pad: [0, 0, 1, 0, 0, 0, 0] });
    },
  },
  {
    name: 'pointer-not-owned',
    doc: 'EVTCHNOP_send with its struct pointer far beyond the domain’s memory.',
    commits: ['bad-pointer'],
    run({ g }) {
      g(1).event_channel_op(C('EVTCHNOP_send'), BigInt(1000 * PAGE_SIZE));
    },
  },
  {
    name: 'handle-field-not-owned',
    doc: 'GNTTABOP_setup_table whose frame_list handle points beyond the domain’s memory.',
    commits: ['bad-pointer'],
    run({ g }) {
      g(1).grant_table_op$GNTTABOP_setup_table([{ dom: SELF, nr_frames: 1, status: 0, frame_list: BigInt(1000 * PAGE_SIZE) }]);
    },
  },
  {
    name: 'pointer-misaligned',
    doc: 'EVTCHNOP_send on a port of its own, the struct at an odd address.',
    commits: ['misaligned-pointer'],
    run({ g, data }) {
      const d = g(1);
      const { a, b } = loopback(d);
      d.event_channel_op$EVTCHNOP_send({ port: b }, data() + 1n);
      close(d, b, a);
    },
  },
  {
    name: 'port-never-bound',
    doc: 'EVTCHNOP_send on a port no call returned to the guest.',
    commits: ['unowned-handle'],
    run({ g }) {
      g(1).event_channel_op$EVTCHNOP_send({ port: 5 });
    },
  },
  {
    name: 'port-never-bound-in-multicall',
    doc: 'A multicall whose second entry sends on a port no call returned to the guest.',
    commits: ['unowned-handle'],
    run({ g, data }) {
      const d = g(1);
      const arg = put(d, d.codecs.EvtchnSend, data(), { port: 6 });
      multicall(d, data(10), [[C('__HYPERVISOR_xen_version'), [0n, 0n]], [C('__HYPERVISOR_event_channel_op'), [BigInt(C('EVTCHNOP_send')), arg]]]);
    },
  },
  {
    name: 'vcpu-does-not-exist',
    doc: 'VCPUOP_is_up for vCPU 7 of a domain with 2.',
    commits: ['unowned-handle'],
    run({ g }) {
      g(1).vcpu_op$VCPUOP_is_up(7);
    },
  },
  {
    name: 'domain-does-not-exist',
    doc: 'An unbound port for domain 9, which does not exist (Xen does not check); the port is then closed.',
    commits: ['unowned-handle'],
    run({ g }) {
      const d = g(1);
      const p = d.event_channel_op$EVTCHNOP_alloc_unbound({ dom: SELF, remote_dom: 9, port: 0 }).arg.port;
      close(d, p);
    },
  },
  {
    name: 'port-used-after-close',
    doc: 'EVTCHNOP_send on a port the guest closed.',
    commits: ['stale-handle'],
    run({ g }) {
      const d = g(1);
      const { a, b } = loopback(d);
      close(d, b, a);
      d.event_channel_op$EVTCHNOP_send({ port: b });
    },
  },
  {
    name: 'port-closed-twice',
    doc: 'EVTCHNOP_close twice on the same port.',
    commits: ['double-release'],
    run({ g }) {
      const d = g(1);
      const { a, b } = loopback(d);
      close(d, b, a, a);
    },
  },
  {
    name: 'unpin-not-pinned',
    doc: 'MMUEXT_UNPIN_TABLE of a page never pinned.',
    commits: ['release-unheld'],
    run({ g, mfnOf }) {
      g(1).mmuext_op$MMUEXT_UNPIN_TABLE(0n, SELF, [{ cmd: 0, arg1: { mfn: mfnOf(1, 6) }, arg2: {} }]);
    },
  },
  {
    name: 'close-never-bound',
    doc: 'EVTCHNOP_close of a port never bound.',
    commits: ['release-unheld'],
    run({ g }) {
      close(g(1), 9);
    },
  },
  {
    name: 'error-ignored',
    doc: 'A second EVTCHNOP_bind_virq of VIRQ_TIMER fails (EEXIST); the guest sends on the port field the failed call left.',
    commits: ['ignored-error'],
    run({ g }) {
      const d = g(1);
      const first = d.event_channel_op$EVTCHNOP_bind_virq({ virq: C('VIRQ_TIMER'), vcpu: 0, port: 0 }).arg.port;
      const again = d.event_channel_op$EVTCHNOP_bind_virq({ virq: C('VIRQ_TIMER'), vcpu: 0, port: 0 });
      if (again.result >= 0n) throw new Error('error-ignored: the second bind succeeded');
      d.event_channel_op$EVTCHNOP_send({ port: again.arg.port });
      close(d, first);
    },
  },
  {
    name: 'grant-not-offered',
    doc: 'Domain 1 maps reference 8 of domain 2, which set up its table but granted nothing.',
    commits: ['not-offered'],
    run(env) {
      setupTable(env, 2);
      env.g(1).grant_table_op$GNTTABOP_map_grant_ref([{ host_addr: 0x10000n, flags: C('GNTMAP_host_map'), ref: 8, dom: 2, status: 0, handle: 0, dev_bus_addr: 0n }]);
    },
  },
  {
    name: 'map-before-setup',
    doc: 'Domain 1 maps a reference of domain 2 before domain 2 set up its grant table.',
    commits: ['out-of-order'],
    run({ g }) {
      g(1).grant_table_op$GNTTABOP_map_grant_ref([{ host_addr: 0x10000n, flags: C('GNTMAP_host_map'), ref: 8, dom: 2, status: 0, handle: 0, dev_bus_addr: 0n }]);
    },
  },
  {
    name: 'up-before-initialise',
    doc: 'VCPUOP_up of vCPU 1, which never got a context.',
    commits: ['out-of-order'],
    run({ g }) {
      g(1).vcpu_op$VCPUOP_up(1);
    },
  },
  {
    name: 'call-after-shutdown',
    doc: 'xen_version after SCHEDOP_shutdown.',
    commits: ['out-of-order'],
    run({ g }) {
      const d = g(1);
      d.sched_op$SCHEDOP_shutdown({ reason: C('SHUTDOWN_poweroff') });
      d.xen_version$XENVER_version();
    },
  },
  {
    name: 'port-leaked',
    doc: 'A loopback channel left bound at SCHEDOP_shutdown.',
    commits: ['leak-at-shutdown'],
    run({ g }) {
      const d = g(1);
      loopback(d);
      d.sched_op$SCHEDOP_shutdown({ reason: C('SHUTDOWN_poweroff') });
    },
  },
  {
    name: 'grant-left-offered',
    doc: 'Domain 2 grants a page to domain 1 and ends without revoking it.',
    commits: ['leak-at-shutdown'],
    run(env) {
      setupTable(env, 2);
      env.grant(2, 8, C('GTF_permit_access'), 1, env.mfnOf(2, 5));
    },
  },
];

/** Runs a test guest on a fresh strict machine; every domain ends afterwards. */
export function runTestGuest(guest: TestGuest): GuestCheck {
  const check = new GuestCheck(GUEST_MACHINE);
  const vmm = check.vmm;
  const env: GuestEnv = {
    check,
    g: (dom) => check.guest(dom),
    data: (page = 8) => BigInt(page * PAGE_SIZE),
    mfnOf: (dom, gfn) => {
      const m = vmm.machine.frameOf(dom, gfn as never);
      if (m === undefined) throw new Error(`domain ${dom} has no frame at gfn ${gfn}`);
      return BigInt(m);
    },
    grant: (dom, ref, flags, to, frame) => {
      const d = vmm.machine.domain(dom);
      if (!d) throw new Error(`no domain ${dom}`);
      const codec = codecsByArch[d.arch.name as keyof typeof codecsByArch].GrantEntryV1;
      const b = new Uint8Array(codec.size);
      codec.encode(new DataView(b.buffer), 0, { flags, domid: to, frame: Number(frame) });
      check.write(dom, (d.sharedInfoGfn + 1) * PAGE_SIZE + ref * codec.size, b);
    },
  };
  guest.run(env);
  for (const d of GUEST_MACHINE.domains) check.end(d.id);
  return check;
}
