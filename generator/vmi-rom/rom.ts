/**
 * Builds the native VMI option ROM from the VMI spec: the option ROM header, the PCI data
 * structure, the PnP header, the licence and identification strings, the relocation table
 * get_reloc answers from, the code of every call (NATIVE, assembled by our assembler), the
 * padding to a whole number of 512-byte blocks and the BIOS checksum.
 *
 * Every number comes from the spec: field offsets and sizes from the layout engine, values
 * from constants, call numbers from the calls, the scan, licence and checksum rules from the
 * discovery section.
 */
import { LayoutEngine, type TypeLayout } from '../../spec/layout.js';
import type { Discovery, DiscoveryRule, Spec } from '../../spec/model.js';
import { constantValue, toBigInt } from '../../spec/query.js';
import { vmiSpec } from '../../spec/vmi/index.js';
import { assemble } from './asm.js';
import { NATIVE, NATIVE_HELPERS, type NativeImpl } from './native.js';

/** Identity of the generated ROM (our choices, not ABI facts). */
export interface RomOptions {
  manufacturer: string;
  product: string;
  /** ROM code version printed by Linux. */
  romVersion: [major: number, minor: number];
  /** PCI class code bytes 13, 14, 15 (programming interface, sub-class, base class): a memory controller, other. */
  classCode: [number, number, number];
}

export const DEFAULT_OPTIONS: RomOptions = {
  manufacturer: 'hyperabi',
  product: 'native VMI ROM',
  romVersion: [1, 0],
  classCode: [0x00, 0x80, 0x05],
};

/** One entry of the relocation table. */
export interface RelocEntry {
  number: number;
  name: string;
  type: number;
  kind: NativeImpl['reloc'];
  /** Offset of the code from the ROM start (0 for NONE). */
  offset: number;
}

/** A built ROM and what went into it. */
export interface Rom {
  image: Uint8Array;
  relocations: RelocEntry[];
  /** Code labels (entry of each call: `vmi_<Name>`) → offset. */
  labels: Map<string, number>;
  /** Offsets of the structures. */
  offsets: { pci: number; pnp: number; license: number; relocTable: number; code: number };
}

/** A generator problem: the spec lacks what the ROM needs. */
export class RomError extends Error {
  override name = 'RomError';
}

const num = (spec: Spec, name: string): number => {
  const v = constantValue(spec, name);
  if (v === undefined) throw new RomError(`spec ${spec.name} has no constant ${name}`);
  return Number(toBigInt(v));
};

function rule<K extends DiscoveryRule['check']['kind']>(d: Discovery, kind: K): Extract<DiscoveryRule['check'], { kind: K }> {
  const r = d.rules.find((x) => x.check.kind === kind);
  if (!r) throw new RomError(`discovery ${d.name} has no ${kind} rule`);
  return r.check as Extract<DiscoveryRule['check'], { kind: K }>;
}

/** Writes `value` little-endian into the field of a struct laid out at `base`. */
function put(buf: Uint8Array, base: number, layout: TypeLayout, field: string, value: number | bigint | string): void {
  const f = layout.fields[field];
  if (!f) throw new RomError(`layout has no field ${field}`);
  if (typeof value === 'string') {
    const bytes = new TextEncoder().encode(value);
    if (bytes.length > f.size) throw new RomError(`'${value}' does not fit ${field} (${f.size} bytes)`);
    buf.set(bytes, base + f.offset);
    return;
  }
  let v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(8 * f.size)) throw new RomError(`${value} does not fit ${field} (${f.size} bytes)`);
  for (let i = 0; i < f.size; i++, v >>= 8n) buf[base + f.offset + i] = Number(v & 0xffn);
}

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** Builds the ROM image. */
export function buildVmiRom(spec: Spec = vmiSpec, options: RomOptions = DEFAULT_OPTIONS, impls: Record<string, NativeImpl> = NATIVE): Rom {
  const helpers = NATIVE_HELPERS;
  const disc = spec.discovery?.find((d) => d.name === 'vmi-rom');
  if (!disc) throw new RomError(`spec ${spec.name} has no vmi-rom discovery section`);
  const engine = new LayoutEngine(spec, 'x86_32');
  const hdr = engine.named(disc.header);
  const pci = engine.named('struct pci_header');
  const pnp = engine.named('struct pnp_header');
  const reloc = engine.named('struct vmi_relocation_info');
  const checksum = rule(disc, 'checksum');
  const license = rule(disc, 'string').oneOf[0];
  if (license === undefined) throw new RomError('the licence rule accepts no string');

  const missing = spec.hypercalls.filter((h) => !impls[h.name]).map((h) => h.name);
  const extra = Object.keys(impls).filter((n) => !spec.hypercalls.some((h) => h.name === n));
  if (missing.length || extra.length) throw new RomError(`implementations do not match the calls: missing ${missing.join(', ') || 'none'}, unknown ${extra.join(', ') || 'none'}`);

  // Layout of the image: header, PCI, PnP (a full 32-byte PnP BIOS header), strings, relocation table, code.
  const PNP_UNIT = 16;
  const pnpFull = alignUp(pnp.size, PNP_UNIT * 2);
  const offPci = alignUp(hdr.size, 4);
  const offPnp = alignUp(offPci + pci.size, PNP_UNIT);
  const strings = [license, options.manufacturer, options.product];
  const stringOffsets: number[] = [];
  let at = offPnp + pnpFull;
  for (const s of strings) {
    stringOffsets.push(at);
    at += new TextEncoder().encode(s).length + 1;
  }
  const maxCall = Math.max(...spec.hypercalls.map((h) => h.number));
  const offTable = alignUp(at, reloc.align);
  const offCode = alignUp(offTable + (maxCall + 1) * reloc.size, 16);

  // Code: get_reloc's body, a shared NOP target, then every implemented call.
  const field = (l: TypeLayout, name: string) => {
    const f = l.fields[name];
    if (!f) throw new RomError(`layout has no field ${name}`);
    return f;
  };
  const symbols: Record<string, number> = {
    RELOC_TABLE: offTable,
    RELOC_EIP: field(reloc, 'eip').offset,
    RELOC_TYPE: field(reloc, 'type').offset,
    RELOC_SIZE: reloc.size,
    MAX_CALL: maxCall,
  };
  // The implementations' own arithmetic constants: one value per name, and never a spec constant's name.
  for (const [owner, impl] of [...Object.entries(impls), ['helpers', helpers] as const]) {
    for (const [name, value] of Object.entries(impl.symbols ?? {})) {
      if (constantValue(spec, name) !== undefined) throw new RomError(`${owner}: symbol ${name} shadows a spec constant`);
      if (symbols[name] !== undefined && symbols[name] !== value) throw new RomError(`${owner}: symbol ${name} defined twice with different values`);
      symbols[name] = value;
    }
  }
  const resolve = (n: string) => symbols[n] ?? (constantValue(spec, n) === undefined ? undefined : num(spec, n));
  const lines = [
    'vmi_get_reloc_body:',
    'cmp $MAX_CALL, %eax',
    'ja reloc_none',
    'call reloc_here',
    'reloc_here:',
    'pop %ecx',
    'sub $reloc_here, %ecx', // ecx = where the ROM is mapped
    `lea RELOC_TABLE(%ecx,%eax,${reloc.size}), %edx`,
    'mov RELOC_EIP(%edx), %eax',
    'add %ecx, %eax',
    'movzbl RELOC_TYPE(%edx), %edx',
    'ret',
    'reloc_none:',
    'xor %eax, %eax',
    'mov $VMI_RELOCATION_NONE, %edx',
    'ret',
    'vmi_nop:',
    'ret',
  ];
  for (const h of spec.hypercalls) {
    const impl = impls[h.name] as NativeImpl;
    if (impl.reloc === 'call' || impl.reloc === 'jump') lines.push(`vmi_${h.name}:`, ...(impl.asm ?? []));
  }
  lines.push(...(helpers.asm ?? []));
  const code = assemble(lines, offCode, resolve);

  const relocType = { none: 'VMI_RELOCATION_NONE', call: 'VMI_RELOCATION_CALL_REL', jump: 'VMI_RELOCATION_JUMP_REL', nop: 'VMI_RELOCATION_NOP' } as const;
  const relocations: RelocEntry[] = spec.hypercalls.map((h) => {
    const impl = impls[h.name] as NativeImpl;
    const label = impl.reloc === 'nop' ? 'vmi_nop' : `vmi_${h.name}`;
    const offset = impl.reloc === 'none' ? 0 : (code.labels.get(label) as number);
    return { number: h.number, name: h.name, type: num(spec, relocType[impl.reloc]), kind: impl.reloc, offset };
  });

  const used = offCode + code.bytes.length + 1; // one byte for the checksum
  const size = alignUp(used, checksum.unit);
  const blocks = size / checksum.unit;
  if (blocks > 255) throw new RomError(`ROM of ${size} bytes is too large for rom_length`);
  const img = new Uint8Array(size);

  // Header.
  put(img, 0, hdr, 'rom_signature', num(spec, 'OPTION_ROM_SIGNATURE'));
  put(img, 0, hdr, checksum.lengthField, blocks);
  put(img, 0, hdr, 'vrom_signature', num(spec, 'VMI_SIGNATURE'));
  put(img, 0, hdr, 'api_version_maj', num(spec, 'VMI_API_REV_MAJOR'));
  put(img, 0, hdr, 'api_version_min', num(spec, 'VMI_API_REV_MINOR'));
  put(img, 0, hdr, 'virtual_top', 0);
  put(img, 0, hdr, 'license_offs', stringOffsets[0] as number);
  put(img, 0, hdr, 'pci_header_offs', offPci);
  put(img, 0, hdr, 'pnp_header_offs', offPnp);
  // Entry points: the BIOS init (real mode) returns at once; vmi_init returns 0; get_reloc jumps to its body.
  const slot = (name: string, src: string[]) => {
    const f = field(hdr, name);
    const a = assemble(src, f.offset, (n) => code.labels.get(n) ?? resolve(n));
    if (a.bytes.length > f.size) throw new RomError(`${name} code is ${a.bytes.length} bytes, the slot ${f.size}`);
    img.set(a.bytes, f.offset);
  };
  slot('rom_entry', ['lret']);
  slot('vmi_init', ['xor %eax, %eax', 'ret']);
  slot('get_reloc', ['jmp vmi_get_reloc_body']);

  // PCI data structure.
  put(img, offPci, pci, 'sig', 'PCIR');
  put(img, offPci, pci, 'vendorID', num(spec, 'PCI_VENDOR_ID_VMWARE'));
  put(img, offPci, pci, 'deviceID', num(spec, 'PCI_DEVICE_ID_VMWARE_VMI'));
  put(img, offPci, pci, 'size', pci.size);
  put(img, offPci, pci, 'class', options.classCode[0]);
  put(img, offPci, pci, 'subclass', options.classCode[1]);
  put(img, offPci, pci, 'interface', options.classCode[2]);
  put(img, offPci, pci, 'chunks', blocks);
  put(img, offPci, pci, 'rom_version_maj', options.romVersion[0]);
  put(img, offPci, pci, 'rom_version_min', options.romVersion[1]);
  put(img, offPci, pci, 'lastRom', 0x80);

  // PnP header, with its own checksum in the second byte of `res`.
  put(img, offPnp, pnp, 'sig', '$PnP');
  put(img, offPnp, pnp, 'rev', 1);
  put(img, offPnp, pnp, 'size', pnpFull / PNP_UNIT);
  put(img, offPnp, pnp, 'manufacturer_offset', stringOffsets[1] as number);
  put(img, offPnp, pnp, 'product_offset', stringOffsets[2] as number);
  const pnpSum = img.subarray(offPnp, offPnp + pnpFull).reduce((s, x) => s + x, 0);
  img[offPnp + field(pnp, 'res').offset + 1] = (256 - (pnpSum & 0xff)) & 0xff;

  strings.forEach((s, i) => img.set(new TextEncoder().encode(s), stringOffsets[i] as number));

  // Relocation table.
  for (const r of relocations) {
    const base = offTable + r.number * reloc.size;
    put(img, base, reloc, 'eip', r.offset);
    put(img, base, reloc, 'type', r.type);
  }
  img.set(code.bytes, offCode);

  // BIOS checksum in the last byte.
  const sum = img.reduce((s, x) => s + x, 0);
  img[size - 1] = (256 - (sum & 0xff)) & 0xff;
  return {
    image: img,
    relocations,
    labels: code.labels,
    offsets: { pci: offPci, pnp: offPnp, license: stringOffsets[0] as number, relocTable: offTable, code: offCode },
  };
}
