/**
 * The VMI option ROM: identification constants, the ROM header and the PCI and PnP
 * structures Linux reads from it, the relocation record `get_reloc` returns, the AP start
 * state, and the discovery rules a guest follows to find and accept a ROM.
 *
 * @see arch/x86/include/asm/vmi.h (Linux 2.6.32)
 * @see arch/x86/kernel/vmi_32.c:check_vmi_rom, probe_vmi_rom (Linux 2.6.32)
 */
import { f, familyBuilder } from '../builders.js';
import type { Discovery, DiscoveryRule } from '../model.js';

const H = 'arch/x86/include/asm/vmi.h';
const C = 'arch/x86/kernel/vmi_32.c';
const b = familyBuilder('rom', H);

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('VMI_ID', 'values', 'Values that identify a VMI ROM.', [
    ['OPTION_ROM_SIGNATURE', 0xaa55, 'The PC option ROM signature in the first two bytes (bytes 55 AA). vmi_32.c writes it as a literal.', {
      probe: false,
    }],
    ['VMI_SIGNATURE', 0x696d5663, 'The VMI signature at offset 8: the bytes "cVmi" read as a little-endian 32-bit word.'],
    ['PCI_VENDOR_ID_VMWARE', 0x15ad, 'PCI vendor id expected in the ROM’s PCI data structure.'],
    ['PCI_DEVICE_ID_VMWARE_VMI', 0x0801, 'PCI device id expected in the ROM’s PCI data structure.'],
  ], { ref: { header: H, handler: `${C}:check_vmi_rom` } }),
  b.group('VMI_API_REV', 'values', 'The API revision this spec describes; a guest accepts a ROM of the same major and any minor at least this one.', [
    ['VMI_API_REV_MAJOR', 3, 'API major revision.'],
    ['VMI_API_REV_MINOR', 0, 'API minor revision.'],
  ]),
  b.group('VMI_RELOCATION', 'enum', 'How a guest reaches a call, as get_reloc reports it.', [
    ['VMI_RELOCATION_NONE', 0, 'The ROM does not implement the call: the guest keeps its native code.'],
    ['VMI_RELOCATION_CALL_REL', 1, 'Reach the call with a near CALL to eip (a call site may be patched to E8 rel32).'],
    ['VMI_RELOCATION_JUMP_REL', 2, 'Reach the call with a near JMP to eip (non-returning calls: IRET, SYSEXIT).'],
    ['VMI_RELOCATION_NOP', 3, 'The call does nothing on this hypervisor: the guest removes the native instruction.'],
  ], { type: 'unsigned char' }),
];

// ───────────────────────────── structs ─────────────────────────────

const types = [
  b.typedef('u8', 'uint8_t', 'Linux’s unsigned 8-bit integer.', { probe: false }),
  b.typedef('u16', 'uint16_t', 'Linux’s unsigned 16-bit integer.', { probe: false }),
  b.typedef('u32', 'uint32_t', 'Linux’s unsigned 32-bit integer.', { probe: false }),
  b.typedef('u64', 'uint64_t', 'Linux’s unsigned 64-bit integer (4-aligned inside i386 structs).', { probe: false }),
  b.struct('vrom_header', 'The first 144 bytes of a VMI ROM: the option ROM header, VMI identification, and the two entry points.', [
    f('rom_signature', 'u16', 'OPTION_ROM_SIGNATURE.'),
    f('rom_length', 'u8', 'Image length in 512-byte blocks.'),
    f('rom_entry', 'u8[4]', 'Real-mode initialisation entry the BIOS far-calls (code: typically a jump or a far return).'),
    f('rom_pad0', 'u8', 'Padding.'),
    f('vrom_signature', 'u32', 'VMI_SIGNATURE.'),
    f('api_version_min', 'u8', 'API minor revision of the ROM.'),
    f('api_version_maj', 'u8', 'API major revision of the ROM.'),
    f('jump_slots', 'u8', 'Number of jump slots; unused by Linux, meaning undocumented.'),
    f('reserved1', 'u8', 'Reserved.'),
    f('virtual_top', 'u32', 'Lowest linear address the hypervisor occupies; the guest keeps the space from here to 4 GiB free (0: nothing).'),
    f('reserved2', 'u16', 'Reserved.'),
    f('license_offs', 'u16', 'Offset from the ROM start of the NUL-terminated licence string (0: none).'),
    f('pci_header_offs', 'u16', 'Offset from the ROM start of the PCI data structure (0: none, which makes the ROM unusable).'),
    f('pnp_header_offs', 'u16', 'Offset from the ROM start of the PnP expansion header (0: none).'),
    f('rom_pad3', 'u32', 'Reserved.'),
    f('reserved', 'u8[96]', 'Reserved for other headers.'),
    f('vmi_init', 'char[8]', 'Code: VMI initialisation, called as u32 f(void) in 32-bit protected mode; returns 0 on success.'),
    f('get_reloc', 'char[8]', 'Code: u64 f(int call): the struct vmi_relocation_info of a call number, in edx:eax.'),
  ], { packed: true, declaredSize: { x86: 144 } }),
  b.struct('pci_header', 'The PCI data structure ("PCIR") of the ROM, as Linux declares it. Linux names bytes 13 to 15 class, subclass, interface; the PCI firmware specification puts the programming interface at 13, the sub-class at 14 and the base class at 15.', [
    f('sig', 'char[4]', 'The bytes "PCIR".'),
    f('vendorID', 'short', 'PCI vendor id.'),
    f('deviceID', 'short', 'PCI device id.'),
    f('vpdData', 'short', 'Offset of vital product data (0: none).'),
    f('size', 'short', 'Length of this structure in bytes.'),
    f('rev', 'char', 'Revision of this structure.'),
    f('class', 'char', 'Class code byte 0 (PCI: programming interface).'),
    f('subclass', 'char', 'Class code byte 1 (PCI: sub-class).'),
    f('interface', 'char', 'Class code byte 2 (PCI: base class).'),
    f('chunks', 'short', 'Image length in 512-byte blocks.'),
    f('rom_version_min', 'char', 'ROM (code) minor version, printed by Linux.'),
    f('rom_version_maj', 'char', 'ROM (code) major version, printed by Linux.'),
    f('codetype', 'char', 'Code type (0: x86 PC-AT compatible).'),
    f('lastRom', 'char', 'Indicator: bit 7 set on the last image of the ROM.'),
    f('reserved', 'short', 'Reserved.'),
  ], { packed: true, declaredSize: { x86: 24 } }),
  b.struct('pnp_header', 'The start of the PnP expansion header ("$PnP") as Linux declares it (18 bytes; the full PnP BIOS header is 32 bytes, its length field counts 16-byte units).', [
    f('sig', 'char[4]', 'The bytes "$PnP".'),
    f('rev', 'char', 'Structure revision (1).'),
    f('size', 'char', 'Length of the full header in 16-byte units.'),
    f('next', 'short', 'Offset of the next expansion header (0: none).'),
    f('res', 'short', 'Reserved byte and the header checksum byte.'),
    f('devID', 'long', 'PnP device id.'),
    f('manufacturer_offset', 'unsigned short', 'Offset from the ROM start of the manufacturer string (0: none).'),
    f('product_offset', 'unsigned short', 'Offset from the ROM start of the product string (0: none).'),
  ], { packed: true, declaredSize: { x86: 18 } }),
  b.struct('vmi_relocation_info', 'What get_reloc returns for a call number, in edx:eax: where the call is and how to reach it.', [
    f('eip', 'ptr(unsigned char)', 'Linear address of the call’s code (meaningless for NONE).'),
    f('type', 'unsigned char', 'VMI_RELOCATION_*.'),
    f('reserved', 'unsigned char[3]', 'Reserved.'),
  ], { declaredSize: { x86: 8 } }),
  b.struct('vmi_ap_state', 'The initial state of an application processor, given to SetInitialAPState between the INIT and STARTUP IPIs: the AP starts directly in protected, paged mode.', [
    f('cr0', 'u32', 'CR0 (PE and PG set).'),
    f('cr2', 'u32', 'CR2.'),
    f('cr3', 'u32', 'CR3: physical address of the page directory.'),
    f('cr4', 'u32', 'CR4.'),
    f('efer', 'u64', 'EFER MSR (PAE kernels with NX: the boot CPU’s value).'),
    f('eip', 'u32', 'Start address.'),
    f('eflags', 'u32', 'EFLAGS.'),
    f('eax', 'u32', 'EAX.'),
    f('ebx', 'u32', 'EBX.'),
    f('ecx', 'u32', 'ECX.'),
    f('edx', 'u32', 'EDX.'),
    f('esp', 'u32', 'Start stack pointer.'),
    f('ebp', 'u32', 'EBP.'),
    f('esi', 'u32', 'ESI.'),
    f('edi', 'u32', 'EDI.'),
    f('cs', 'u16', 'CS selector.'),
    f('ss', 'u16', 'SS selector.'),
    f('ds', 'u16', 'DS selector.'),
    f('es', 'u16', 'ES selector.'),
    f('fs', 'u16', 'FS selector.'),
    f('gs', 'u16', 'GS selector.'),
    f('ldtr', 'u16', 'LDT selector.'),
    f('gdtr_limit', 'u16', 'GDT limit.'),
    f('gdtr_base', 'u32', 'GDT linear base.'),
    f('idtr_base', 'u32', 'IDT linear base.'),
    f('idtr_limit', 'u16', 'IDT limit.'),
  ], { declaredSize: { x86: 92 } }),
];

// ───────────────────────────── discovery ─────────────────────────────

const rule = (name: string, check: DiscoveryRule['check'], onFail: DiscoveryRule['onFail'], reason: string, doc: string): DiscoveryRule => ({
  name,
  check,
  onFail,
  reason,
  doc,
  ref: { handler: `${C}:check_vmi_rom` },
});

/** How Linux finds the ROM: every 2 KiB from 0xC0000 below 0xE0000, the first candidate passing every reject rule. */
export const discovery: Discovery[] = [
  {
    name: 'vmi-rom',
    doc:
      'probe_vmi_rom scans physical memory from 0xC0000 up to 0xE0000 in 2 KiB steps and takes the first ROM that ' +
      'check_vmi_rom accepts. The BIOS checksum is not checked by Linux, only by firmware.',
    region: { start: 0xc0000, end: 0xe0000, step: 2048 },
    header: 'struct vrom_header',
    rules: [
      rule('rom-signature', { kind: 'field', field: 'rom_signature', op: 'eq', value: 'OPTION_ROM_SIGNATURE' }, 'reject',
        'no option ROM signature', 'An option ROM starts with 55 AA.'),
      rule('vmi-signature', { kind: 'field', field: 'vrom_signature', op: 'eq', value: 'VMI_SIGNATURE' }, 'reject',
        'not a VMI ROM (no "cVmi" signature)', 'A VMI ROM has "cVmi" at offset 8.'),
      rule('api-major', { kind: 'field', field: 'api_version_maj', op: 'eq', value: 'VMI_API_REV_MAJOR' }, 'reject',
        'mismatched ROM version (major)', 'The major revision must be the guest’s.'),
      rule('api-minor', { kind: 'field', field: 'api_version_min', op: 'ge', value: 'VMI_API_REV_MINOR' }, 'reject',
        'mismatched ROM version (minor)', 'The minor revision must be at least the guest’s.'),
      rule('pci-header', { kind: 'field', field: 'pci_header_offs', op: 'ne', value: 0 }, 'reject',
        'ROM does not contain a PCI header', 'The signature alone is not trusted: a PCI data structure must be present.'),
      rule('pci-vendor', { kind: 'field', at: 'pci_header_offs', type: 'struct pci_header', field: 'vendorID', op: 'eq', value: 'PCI_VENDOR_ID_VMWARE' }, 'warn',
        'ROM from unknown manufacturer (vendor id)', 'Another vendor id only draws a warning; the ROM is used.'),
      rule('pci-device', { kind: 'field', at: 'pci_header_offs', type: 'struct pci_header', field: 'deviceID', op: 'eq', value: 'PCI_DEVICE_ID_VMWARE_VMI' }, 'warn',
        'ROM from unknown manufacturer (device id)', 'Another device id only draws a warning; the ROM is used.'),
      rule('license', { kind: 'string', at: 'license_offs', oneOf: ['GPL', 'GPL v2'] }, 'reject',
        'non-GPL licence, ROM not used', 'Linux accepts only a ROM whose licence string is exactly "GPL" or "GPL v2" (none counts as "unspecified").'),
      rule('checksum', { kind: 'checksum', lengthField: 'rom_length', unit: 512 }, 'warn',
        'BIOS checksum does not sum to 0', 'Firmware checks that the rom_length × 512 bytes sum to 0 modulo 256; Linux does not.'),
    ],
    ref: { handler: `${C}:probe_vmi_rom` },
  },
];

export const rom = { family: b.family('The option ROM: header, PCI and PnP structures, relocation records, discovery.'), types, constants };
