/**
 * The program module: lowered conformance Programs (conformance/program.ts) as a compact
 * binary that our PV test kernel (live-xen/kernel/) interprets on real Xen. QEMU hands it to
 * Xen as the second multiboot module; Xen gives it to dom0 as its initrd
 * (start_info.mod_start / mod_len), mapped in the kernel's address space.
 *
 * Everything is little-endian and 8-byte aligned.
 *
 *   module  := header program*
 *   header  := u32 MAGIC ("HXPG") | u32 VERSION | u32 program count | u32 total bytes
 *   program := u32 PROG_TAG ("PROG") | u32 program index | u32 instruction count | u32 data pages
 *              instr*
 *            | u32 PROG2_TAG ("PRG2") | u32 program index | u32 instruction count | u32 dom0's data
 *              pages | u32 dom1's data pages | u32 dom1's max_evtchn_port | instr*
 *              (a machine of dom0 and a domain 1 the kernel builds: live-xen/kernel/domu.c)
 *   instr   := u8 op | u8 size | u16 dom | u32 n | body
 *     write    n = byte count;     body: u64 address, n bytes, zero padding to 8
 *     store    size = 1, 2, 4, 8;  body: u64 address, operand
 *     call     n = 6;              body: 6 operands: the number register and the 5 argument
 *                                  registers of x86_64-pv in the spec's order (rax; rdi, rsi,
 *                                  rdx, r10, r8)
 *     read     n = byte count;     body: u64 address
 *     advance                      body: u64 nanoseconds
 *   operand := u8 kind | u8 aux | u16 dom | u32 page | u64 a | u64 add | u64 or   (32 bytes)
 *     const    a = the value
 *     frame    page = data-area page; aux = left shift; or = bits ORed after the shift
 *              (the machine frame of that page: start_info.mfn_list[pfn of the page])
 *     load     aux = size (1, 2, 4, 8); a = address; then + add, | or
 *
 * Addresses are the guest's virtual addresses (lowering already added the data area's base).
 * `dom` is the domain an instruction runs in (write, store, call, read) or an operand's frame
 * or load belongs to: 0, or 1 in a PRG2 program (then written only with `secondDomain`).
 *
 * The kernel prints one line per produced result (see live-xen/serial.ts): calls and reads
 * print, writes, stores and advances do not (their result is `done`).
 */
import type { Instr, Operand, Program } from '../conformance/program.js';

export const FORMAT = {
  MAGIC: 0x47505848, // "HXPG"
  VERSION: 1,
  PROG_TAG: 0x474f5250, // "PROG"
  PROG2_TAG: 0x32475250, // "PRG2"
  OP_WRITE: 1,
  OP_STORE: 2,
  OP_CALL: 3,
  OP_READ: 4,
  OP_ADVANCE: 5,
  OPND_CONST: 0,
  OPND_FRAME: 1,
  OPND_LOAD: 2,
  OPERAND_BYTES: 32,
  CALL_REGS: 6,
} as const;

/** A program the live kernel cannot run, and why. */
export class EncodeError extends Error {
  override name = 'EncodeError';
}

/** Registers of a call in the module's order (number register first). */
export interface RegisterOrder {
  number: string;
  args: readonly string[];
}

class Writer {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.room(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.length, v >>> 0, true);
    this.length += 4;
  }
  u64(v: bigint): void {
    this.room(8);
    this.view.setBigUint64(this.length, BigInt.asUintN(64, v), true);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length + 8);
    this.buf.set(b, this.length);
    this.length += b.length;
    while (this.length % 8 !== 0) this.u8(0);
  }
  patch32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** The domains a program may name: 0, and 1 with the second-domain capability. */
function domainOf(dom: number, doms: number, where: string, what: string): number {
  if (dom === 0 || (dom === 1 && doms === 2)) return dom;
  throw new EncodeError(doms === 2 ? `${where}: ${what} domain ${dom}: the live kernel has domains 0 and 1` : `${where}: ${what} domain ${dom}: the live kernel is domain 0 alone`);
}

function operand(w: Writer, o: Operand, where: string, doms = 1): void {
  if (typeof o === 'bigint') {
    if (o < -(1n << 63n) || o >= 1n << 64n) throw new EncodeError(`${where}: ${o} does not fit 64 bits`);
    w.u8(FORMAT.OPND_CONST);
    w.u8(0);
    w.u16(0);
    w.u32(0);
    w.u64(o);
    w.u64(0n);
    w.u64(0n);
    return;
  }
  if ('frame' in o) {
    const dom = domainOf(o.frame.dom, doms, where, 'frame of');
    w.u8(FORMAT.OPND_FRAME);
    w.u8(o.shl ?? 0);
    w.u16(dom);
    w.u32(o.frame.page);
    w.u64(0n);
    w.u64(0n);
    w.u64(o.or ?? 0n);
    return;
  }
  const dom = domainOf(o.load.dom, doms, where, 'load from');
  w.u8(FORMAT.OPND_LOAD);
  w.u8(o.load.size);
  w.u16(dom);
  w.u32(0);
  w.u64(o.load.addr);
  w.u64(o.add ?? 0n);
  w.u64(o.or ?? 0n);
}

function instr(w: Writer, ins: Instr, regs: RegisterOrder, where: string, doms = 1): void {
  const dom = ins.op === 'advance' ? 0 : domainOf(ins.dom, doms, where, 'an instruction of');
  switch (ins.op) {
    case 'write':
      w.u8(FORMAT.OP_WRITE);
      w.u8(0);
      w.u16(dom);
      w.u32(ins.bytes.length);
      w.u64(ins.addr);
      w.bytes(ins.bytes);
      return;
    case 'store':
      w.u8(FORMAT.OP_STORE);
      w.u8(ins.size);
      w.u16(dom);
      w.u32(0);
      w.u64(ins.addr);
      operand(w, ins.value, where, doms);
      return;
    case 'call': {
      const order = [regs.number, ...regs.args];
      if (order.length !== FORMAT.CALL_REGS) throw new EncodeError(`${where}: the ABI has ${order.length} call registers, the module format ${FORMAT.CALL_REGS}`);
      for (const r of Object.keys(ins.regs)) if (!order.includes(r)) throw new EncodeError(`${where}: register ${r} is not a hypercall register of x86_64-pv (${order.join(', ')})`);
      w.u8(FORMAT.OP_CALL);
      w.u8(0);
      w.u16(dom);
      w.u32(FORMAT.CALL_REGS);
      for (const r of order) operand(w, ins.regs[r] ?? 0n, `${where} ${r}`, doms);
      return;
    }
    case 'read':
      w.u8(FORMAT.OP_READ);
      w.u8(0);
      w.u16(dom);
      w.u32(ins.length);
      w.u64(ins.addr);
      return;
    case 'advance':
      w.u8(FORMAT.OP_ADVANCE);
      w.u8(0);
      w.u16(0);
      w.u32(0);
      w.u64(ins.ns);
      return;
  }
}

/** What the module may ask of the kernel beyond dom0 alone. */
export interface EncodeOptions {
  /**
   * Programs of two domains (dom0 and an unprivileged domain 1 that the kernel builds through
   * domctl, live-xen/kernel/domu.c) are encoded as PRG2 records; without it they are refused.
   */
  secondDomain?: boolean;
  /** dom1's max_evtchn_port when the program does not set one. */
  defaultMaxEvtchnPort?: number;
}

/**
 * Encodes programs into a module. `first` numbers them (a boot that resumes after a crash
 * starts past 0); `regs` is the x86_64-pv register order from the spec.
 */
export function encodePrograms(programs: readonly Program[], regs: RegisterOrder, first = 0, options: EncodeOptions = {}): Uint8Array {
  const w = new Writer();
  w.u32(FORMAT.MAGIC);
  w.u32(FORMAT.VERSION);
  w.u32(programs.length);
  w.u32(0); // total, patched below
  programs.forEach((p, i) => {
    const d = p.domains[0];
    const d1 = p.domains[1];
    if (options.secondDomain && p.domains.length === 2 && d?.id === 0 && d1?.id === 1) {
      const port = d1.maxEvtchnPort ?? options.defaultMaxEvtchnPort;
      if (port === undefined) throw new EncodeError(`${p.id}: domain 1 has no max_evtchn_port and no default was given`);
      w.u32(FORMAT.PROG2_TAG);
      w.u32(first + i);
      w.u32(p.instrs.length);
      w.u32(d.memoryPages);
      w.u32(d1.memoryPages);
      w.u32(port);
      p.instrs.forEach((ins, k) => instr(w, ins, regs, `${p.id} instruction ${k}`, 2));
      return;
    }
    if (p.domains.length !== 1 || !d) {
      const why = options.secondDomain ? 'one domain, or dom0 and domain 1' : 'one domain';
      throw new EncodeError(`${p.id}: the live kernel runs ${why}, the program has ${p.domains.length}${p.domains.length ? ` (ids ${p.domains.map((x) => x.id).join(', ')})` : ''}`);
    }
    w.u32(FORMAT.PROG_TAG);
    w.u32(first + i);
    w.u32(p.instrs.length);
    w.u32(d.memoryPages);
    p.instrs.forEach((ins, k) => instr(w, ins, regs, `${p.id} instruction ${k}`));
  });
  w.patch32(12, w.length);
  return w.done();
}

/** The format's constants as C, for the kernel (written next to its sources at build time). */
export function formatHeader(): string {
  const lines = ['/* Generated by live-xen/format.ts: the program module format. Do not edit. */', '#ifndef HX_FORMAT_H', '#define HX_FORMAT_H'];
  for (const [k, v] of Object.entries(FORMAT)) lines.push(`#define HX_${k} 0x${v.toString(16)}u`);
  lines.push('#endif', '');
  return lines.join('\n');
}
