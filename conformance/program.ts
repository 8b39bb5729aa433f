/**
 * Lowered scenarios: the small instruction set every conformance target executes.
 *
 * A scenario (conformance/scenario.ts) is what people write and read: typed calls by
 * operation id, symbolic addresses, saved values, expectations. The runner lowers it, for
 * one target, to a Program: a machine to create and a list of primitive instructions
 * (write bytes, copy bytes, store a value, make a hypercall with register values, read
 * bytes, advance the clock). Every target executes Programs and nothing else: the
 * reference VMM in process, an external testee over the protocol (docs/protocol.md), and
 * real Xen, where the program is handed to our PV test kernel as a boot module. What a
 * program produces (a result per call, bytes or a fault per read) is checked against the
 * scenario's expectations by the harness, never by the target.
 *
 * Values a target alone knows are operands, resolved when the instruction runs: the
 * machine frame of a page of a domain's data area (page-table entries, frame lists), and a
 * value loaded from guest memory (a port or handle the hypervisor wrote earlier in the run).
 */

/** A register or stored value: a constant, or something resolved by the target as it runs. */
export type Operand =
  | bigint
  | {
      /** The machine frame (x86 PV) or guest frame (translated guests) of page `page` of domain `dom`'s data area. */
      frame: { dom: number; page: number };
      /** Shifted left by this many bits, then ORed with `or` (a page-table entry: shl 12, or flags). */
      shl?: number;
      or?: bigint;
    }
  | {
      /** An unsigned little-endian value of `size` bytes read from domain `dom`'s memory at `addr` when the instruction runs. */
      load: { dom: number; addr: bigint; size: 1 | 2 | 4 | 8 };
      add?: bigint;
      or?: bigint;
    };

/** One primitive instruction. `step` is the index of the scenario step it belongs to. */
export type Instr =
  | { op: 'write'; step: number; dom: number; addr: bigint; bytes: Uint8Array }
  /** Stores `value` (little-endian, `size` bytes) at `addr` of domain `dom`. */
  | { op: 'store'; step: number; dom: number; addr: bigint; size: 1 | 2 | 4 | 8; value: Operand }
  /** A hypercall from vCPU `vcpu` of `dom` with these registers (names of the domain's ABI; missing ones are 0). Produces the result register. */
  | { op: 'call'; step: number; dom: number; vcpu: number; regs: Record<string, Operand> }
  /** Reads `length` bytes. Produces the bytes, or a fault when they are not all accessible. */
  | { op: 'read'; step: number; dom: number; addr: bigint; length: number }
  /** Advances the virtual clock by `ns` nanoseconds (targets without a controllable clock skip it and say so). */
  | { op: 'advance'; step: number; ns: bigint };

/** A domain of a program's machine. */
export interface ProgramDomain {
  id: number;
  abi: string;
  /** Pages of the data area (guest RAM the scenario addresses as @offset). */
  memoryPages: number;
  vcpus: number;
  privileged: boolean;
  maxEvtchnPort?: number;
  /** Xen's max_pages for the domain (default: memoryPages). */
  maxPages?: number;
}

/** A lowered scenario for one target. */
export interface Program {
  /** The scenario id. */
  id: string;
  domains: ProgramDomain[];
  instrs: Instr[];
}

/** What a target tells about a domain it created: where things are in the guest's address space. */
export interface DomainLayout {
  id: number;
  /** The guest address of byte 0 of the data area (guest-physical on the reference VMM, a virtual address on a PV kernel). */
  dataBase: bigint;
  /** An address the guest cannot access (for fault scenarios). */
  unmapped: bigint;
  /** The guest address at which the domain can read its shared_info page, when it can. */
  sharedInfo?: bigint;
  /** The guest address at which the domain reaches frame 0 of its grant table (the frames follow), once set up. */
  grantTable?: bigint;
  /** The guest address of its first v2 grant status frame (the frames follow), once the table is v2. */
  grantStatus?: bigint;
}

/** What one instruction produced. */
export type InstrResult =
  | { op: 'call'; result: bigint }
  | { op: 'read'; bytes: Uint8Array }
  | { op: 'read'; fault: true }
  | { op: 'done' };

/** The formatting of an operand for reports and captured sessions. */
export function showOperand(o: Operand): string {
  if (typeof o === 'bigint') return `0x${o.toString(16)}`;
  if ('frame' in o) {
    const f = `frame(${o.frame.dom}:${o.frame.page})`;
    return `${o.shl ? `${f}<<${o.shl}` : f}${o.or ? `|0x${o.or.toString(16)}` : ''}`;
  }
  const l = `load${o.load.size * 8}(${o.load.dom}:0x${o.load.addr.toString(16)})`;
  return `${l}${o.add ? `+0x${o.add.toString(16)}` : ''}${o.or ? `|0x${o.or.toString(16)}` : ''}`;
}
