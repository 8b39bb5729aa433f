/**
 * multicall of the reference VMM, driven through hypercall() with raw registers and the
 * batch written into guest memory with the generated codecs of the caller's arch.
 *
 * Not exercised: an EFAULT from writing a result back after the sub-call unmapped the
 * entry's own page (no implemented sub-call unmaps guest memory yet).
 */
import { describe, expect, it } from 'vitest';
import { codecsByArch } from '../../generated/xen/codecs.js';
import type { MulticallEntry } from '../../generated/xen/types.js';
import { constantValue, xenSpec } from '../../spec/index.js';
import { expectError } from '../../test/vmm-errors.js';
import { gaddr, PAGE_SIZE } from '../addr.js';
import { ReferenceVmm } from '../vmm.js';

const C = (n: string): number => constantValue(xenSpec, n) as number;
const NR = (name: string): bigint => BigInt(xenSpec.hypercalls.find((h) => h.name === name)!.number);
const ABIS = xenSpec.abis.map((a) => a.name);
const UNKNOWN_OP = 63n;

function setup(abi: string, preemptEvery?: number) {
  const vmm = new ReferenceVmm(
    {
      domains: [
        { id: 0, abi, memoryPages: 8, privileged: true },
        { id: 1, abi, memoryPages: 8, privileged: true },
      ],
    },
    preemptEvery === undefined ? {} : { preemptEvery },
  );
  const d = vmm.machine.domain(1)!;
  const arch = d.arch.name as keyof typeof codecsByArch;
  const codecs = codecsByArch[arch];
  const entrySize = codecs.MulticallEntry.size;
  const conv = d.abi.convention;
  const bits = d.arch.wordSize * 8;
  const put = (addr: number, bytes: Uint8Array) => expect(d.memory.write(gaddr(addr), bytes)).toBe(true);
  const get = (addr: number, n: number) => {
    const out = new Uint8Array(n);
    expect(d.memory.read(gaddr(addr), out)).toBe(true);
    return out;
  };
  const entry = (op: bigint, args: bigint[] = [], result = 0x5a5an): MulticallEntry => ({ op, result, args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6) });
  const writeList = (addr: number, entries: MulticallEntry[]) => {
    const buf = new Uint8Array(entrySize * entries.length);
    const view = new DataView(buf.buffer);
    entries.forEach((e, i) => codecs.MulticallEntry.encode(view, i * entrySize, e));
    put(addr, buf);
  };
  const readEntry = (addr: number, i: number): MulticallEntry => {
    const buf = get(addr + i * entrySize, entrySize);
    return codecs.MulticallEntry.decode(new DataView(buf.buffer), 0);
  };
  /** A signed reading of a result field as the guest sees it (32 bits on x86_32, 64 on Arm). */
  const signedResult = (r: bigint) => BigInt.asIntN(arch === 'x86_32' ? 32 : 64, r);
  const call = (list: bigint, nr: bigint, domid = 1) => vmm.hypercallSigned(domid, 0, { [conv.number]: NR('multicall'), [conv.args[0]!]: list, [conv.args[1]!]: nr });
  return { vmm, d, codecs, entrySize, writeList, readEntry, signedResult, call, entry, put, get, bits, arch };
}

describe.each(ABIS)('reference-vmm multicall on %s', (abi) => {
  it('multicall: runs every entry in order through the caller’s ABI, a failing entry does not stop the batch', () => {
    const { vmm, writeList, readEntry, signedResult, call, entry, codecs, put, get } = setup(abi);
    // Entry 2 allocates an event channel with its struct at 0x2000.
    const au = new Uint8Array(codecs.EvtchnAllocUnbound.size);
    codecs.EvtchnAllocUnbound.encode(new DataView(au.buffer), 0, { dom: C('DOMID_SELF'), remote_dom: 0, port: 0 });
    put(0x2000, au);
    const list = [
      entry(NR('xen_version'), [BigInt(C('XENVER_version'))]),
      entry(UNKNOWN_OP),
      entry(NR('event_channel_op'), [BigInt(C('EVTCHNOP_alloc_unbound')), 0x2000n]),
      entry(NR('xen_version'), [BigInt(C('XENVER_version'))]),
    ];
    writeList(0x1000, list);
    expect(call(0x1000n, 4n)).toBe(0n);
    expect(signedResult(readEntry(0x1000, 0).result)).toBe(0x40011n);
    expect(signedResult(readEntry(0x1000, 1).result)).toBe(-BigInt(C('XEN_ENOSYS')));
    expect(signedResult(readEntry(0x1000, 2).result)).toBe(0n);
    expect(codecs.EvtchnAllocUnbound.decode(new DataView(get(0x2000, au.length).buffer), 0).port).toBe(1);
    expect(signedResult(readEntry(0x1000, 3).result)).toBe(0x40011n);
    // Only result is written: op and args are as the guest left them (a release build of Xen).
    for (let i = 0; i < list.length; i++) {
      expect(readEntry(0x1000, i).op).toBe(list[i]!.op);
      expect(readEntry(0x1000, i).args).toEqual(list[i]!.args.map((a) => BigInt.asUintN(codecs.MulticallEntry.size === 32 ? 32 : 64, a)));
    }
    expect(vmm.internalErrors).toEqual([]);
  });

  it('multicall: a result is stored as the guest’s word (negative errnos sign-extended in 64-bit fields)', () => {
    const { writeList, readEntry, call, entry, arch } = setup(abi);
    writeList(0x1000, [entry(UNKNOWN_OP)]);
    expect(call(0x1000n, 1n)).toBe(0n);
    const enosys = BigInt(C('XEN_ENOSYS'));
    expect(readEntry(0x1000, 0).result).toBe(arch === 'x86_32' ? (1n << 32n) - enosys : (1n << 64n) - enosys);
  });

  it('multicall: only the result field is written back, so a sub-call may write into its own entry', () => {
    const { writeList, call, entry, entrySize, get } = setup(abi);
    // XENVER_extraversion writes 16 bytes at the entry's own args (offset 8 or 16).
    const argsAt = 0x1000 + (entrySize === 32 ? 8 : 16);
    writeList(0x1000, [entry(NR('xen_version'), [BigInt(C('XENVER_extraversion')), BigInt(argsAt + 8)])]);
    expect(call(0x1000n, 1n)).toBe(0n);
    expect(new TextDecoder().decode(get(argsAt + 8, 6))).toBe('.0-hyp');
  });

  it('multicall: EINVAL for a nested multicall (that entry’s result); the outer batch goes on', () => {
    const { vmm, writeList, readEntry, signedResult, call, entry, d } = setup(abi);
    // The inner list would write to the console; it must not run.
    writeList(0x3000, [entry(NR('console_io'), [BigInt(C('CONSOLEIO_write')), 2n, 0x3100n])]);
    writeList(0x1000, [entry(NR('multicall'), [0x3000n, 1n]), entry(NR('xen_version'), [BigInt(C('XENVER_version'))])]);
    expect(call(0x1000n, 2n)).toBe(0n);
    expectError('multicall', 'EINVAL', signedResult(readEntry(0x1000, 0).result));
    expect(signedResult(readEntry(0x1000, 1).result)).toBe(0x40011n);
    expect(d.console).toEqual([]);
    // The flag is per call: the inner list runs as a multicall of its own.
    writeList(0x3100, []);
    expect(d.memory.write(gaddr(0x3100), new TextEncoder().encode('ok'))).toBe(true);
    expect(call(0x3000n, 1n)).toBe(0n);
    expect(signedResult(readEntry(0x3000, 0).result)).toBe(0n);
    expect(d.console).toEqual([0x6f, 0x6b]);
    expect(vmm.internalErrors).toEqual([]);
  });

  it('multicall: EFAULT for an unreadable list; entries before an unreadable one have run', () => {
    const { writeList, readEntry, signedResult, call, entry, entrySize, d } = setup(abi);
    const beyond = BigInt(d.memory.maxFrames * PAGE_SIZE);
    expectError('multicall', 'EFAULT', call(beyond, 1n));
    // Two entries straddling the end of RAM (the last page is shared_info, then nothing).
    const at = d.memory.maxFrames * PAGE_SIZE - entrySize;
    writeList(at, [entry(NR('xen_version'), [BigInt(C('XENVER_version'))])]);
    expectError('multicall', 'EFAULT', call(BigInt(at), 2n));
    expect(signedResult(readEntry(at, 0).result)).toBe(0x40011n);
    // A list that would wrap around the address space: nothing runs.
    const top = (1n << BigInt(d.arch.wordSize * 8)) - BigInt(entrySize);
    writeList(0x1000, [entry(UNKNOWN_OP, [], 7n)]);
    expectError('multicall', 'EFAULT', call(top, 2n));
  });

  it('multicall: the list’s address is checked before the first entry, even for none (xen/common/multicall.c guest_handle_okay)', () => {
    const { call, d } = setup(abi);
    const pv = d.abi.name.endsWith('-pv');
    // An empty batch at a mapped, or merely unmapped guest, address does nothing.
    expect(call(0x1000n, 0n)).toBe(0n);
    expect(call(0x7fff_0000n, 0n)).toBe(0n);
    if (pv && d.arch.wordSize === 8) {
      // x86_64 __addr_ok: non-canonical (0xdead00000000 is above 2^47) and Xen's own range are -EFAULT; above it is the guest's again.
      expectError('multicall', 'EFAULT', call(0xdead_0000_0000n, 0n));
      expectError('multicall', 'EFAULT', call(0xffff_8000_0000_0000n, 0n));
      expect(call(0x7fff_ffff_f000n, 0n)).toBe(0n);
      expect(call(0xffff_8800_0000_0000n, 0n)).toBe(0n);
    } else if (pv) {
      // compat_array_access_ok: the list ends below HYPERVISOR_COMPAT_VIRT_START (0xf5800000).
      expectError('multicall', 'EFAULT', call(0xf580_0000n, 0n));
      expect(call(0xf57f_f000n, 0n)).toBe(0n);
    } else {
      // Translated guests: only reading the list can fail.
      expect(call(0xdead_0000n, 0n)).toBe(0n);
    }
  });

  it('multicall: a preempted batch continues with the list advanced and the count reduced, as the guest’s registers show', () => {
    const { vmm, writeList, readEntry, signedResult, call, entry, entrySize, d } = setup(abi, 2);
    const version = () => entry(NR('xen_version'), [BigInt(C('XENVER_version'))]);
    writeList(0x1000, [version(), version(), version(), version(), version()]);
    expect(call(0x1000n, 5n)).toBe(0n);
    for (let i = 0; i < 5; i++) expect(signedResult(readEntry(0x1000, i).result)).toBe(0x40011n);
    // Preempted before entry 2 (list + 2 entries, 3 left), then before entry 4 (1 left).
    const conv = d.abi.convention;
    expect(vmm.lastContinuation?.[conv.number]).toBe(NR('multicall'));
    expect(vmm.lastContinuation?.[conv.args[0]!]).toBe(BigInt(0x1000 + 4 * entrySize));
    expect(vmm.lastContinuation?.[conv.args[1]!]).toBe(1n);
    // A batch that ends before any check is not preempted.
    expect(call(0x1000n, 2n)).toBe(0n);
    expect(vmm.lastContinuation).toBeUndefined();
  });

  it('multicall: nr_calls 0 runs nothing and returns 0', () => {
    const { writeList, readEntry, call, entry } = setup(abi);
    writeList(0x1000, [entry(UNKNOWN_OP, [], 7n)]);
    expect(call(0x1000n, 0n)).toBe(0n);
    expect(readEntry(0x1000, 0).result).toBe(7n);
  });
});

describe('reference-vmm multicall: what ends a batch', () => {
  it.each(['x86_64-pv', 'x86_32-pv'])('multicall: iret ends the batch on %s; its result is the multicall’s, later entries untouched', (abi) => {
    const { writeList, readEntry, signedResult, call, entry } = setup(abi);
    writeList(0x1000, [entry(NR('xen_version'), [BigInt(C('XENVER_version'))]), entry(NR('iret')), entry(NR('xen_version'), [BigInt(C('XENVER_version'))], 9n)]);
    const rc = call(0x1000n, 3n);
    expect(signedResult(readEntry(0x1000, 0).result)).toBe(0x40011n);
    expect(rc).toBe(signedResult(readEntry(0x1000, 1).result));
    expect(rc).not.toBe(0n);
    expect(readEntry(0x1000, 2).result).toBe(9n);
  });

  it.each(['x86_64-hvm', 'x86_32-hvm', 'arm64'])('multicall: iret is no call on %s: -ENOSYS in its entry and the batch goes on', (abi) => {
    const { writeList, readEntry, signedResult, call, entry } = setup(abi);
    writeList(0x1000, [entry(NR('iret')), entry(NR('xen_version'), [BigInt(C('XENVER_version'))], 9n)]);
    expect(call(0x1000n, 2n)).toBe(0n);
    expect(signedResult(readEntry(0x1000, 0).result)).toBe(-BigInt(C('XEN_ENOSYS')));
    expect(signedResult(readEntry(0x1000, 1).result)).toBe(0x40011n);
  });

  it('multicall: on arm32 an argument with bits 63:32 set crashes the domain; the batch stops', () => {
    const { vmm, writeList, readEntry, signedResult, call, entry, d } = setup('arm32');
    writeList(0x1000, [
      entry(NR('xen_version'), [BigInt(C('XENVER_version'))]),
      entry(NR('xen_version'), [BigInt(C('XENVER_version')), 1n << 32n], 5n),
      entry(NR('xen_version'), [BigInt(C('XENVER_version'))], 9n),
    ]);
    call(0x1000n, 3n);
    expect(signedResult(readEntry(0x1000, 0).result)).toBe(0x40011n);
    expect(readEntry(0x1000, 1).result).toBe(5n);
    expect(readEntry(0x1000, 2).result).toBe(9n);
    expect(d.shutDown).toBe(true);
    expect(d.shutdownCode).toBe(C('SHUTDOWN_crash'));
    expect(vmm.machine.domain(0)!.shutDown).toBe(false);
    // Bits 63:32 of an argument the call does not use are ignored (xen_version uses 2).
    const { writeList: w2, readEntry: r2, signedResult: s2, call: c2, d: d2 } = setup('arm32');
    w2(0x1000, [entry(NR('xen_version'), [BigInt(C('XENVER_version')), 0n, 1n << 40n])]);
    expect(c2(0x1000n, 1n)).toBe(0n);
    expect(s2(r2(0x1000, 0).result)).toBe(0x40011n);
    expect(d2.shutDown).toBe(false);
  });
});
