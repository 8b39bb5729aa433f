/**
 * The legacy VMI generation, API 13.0 (2005–2006, before Linux merged VMI): a ROM whose call
 * N is the fixed 32-byte slot at ROM + 32·N, with its own numbering (Init 4, CPUID 5, ...).
 * A separate spec, `vmi-api13`, so that its numbers are never mixed with API 3.0's. It
 * records the numbering and the ROM header only; argument registers are not specified here.
 *
 * @see LKML, 13 March 2006, "[RFC, PATCH 3/24] i386 Vmi interface definition" (VROMHeader, VMI_CALLS, API 13.0)
 * @see l4ka/afterburner afterburn-wedge/ia32/vmiCalls.h, vmiRom.h (same list, plus three Karlsruhe extensions)
 */
import { f, familyBuilder } from '../builders.js';
import type { Abi, Spec } from '../model.js';
import { arches } from './abis.js';

const REF = 'LKML 2006-03-13 [RFC, PATCH 3/24] i386 Vmi interface definition';
const b = familyBuilder('legacy', 'vmi.h (2006 RFC)');

const abis: Abi[] = [
  {
    name: 'vmi13-i386',
    arch: 'x86_32',
    doc: 'VMI API 13.0 (legacy): call N is a near CALL to ROM base + 32·N.',
    convention: {
      number: 'slot',
      args: ['eax', 'edx', 'ecx'],
      result: 'eax',
      clobbers: ['eax', 'ecx', 'edx', 'eflags'],
      entry: {
        kind: 'rom-call',
        instruction: 'call',
        encoding: [0xe8],
        stubSize: 32,
        doc: 'Call N lives in the 32-byte slot at ROM base + N·32; slots 0 to 3 are the ROM header, so Init (4) is at 0x80.',
      },
      split64: 'lo-hi',
      doc: 'C calls with regparm(3), as in API 3.0; the call number selects a fixed slot instead of a get_reloc answer.',
    },
    ref: { doc: REF },
  },
];

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('VMI13_API_REV', 'values', 'The legacy API revision (same names as API 3.0’s, other values: never mix).', [
    ['VMI13_API_REV_MAJOR', 13, 'Legacy major revision (VMI_API_REV_MAJOR in the 2006 headers).', { probe: false }],
    ['VMI13_API_REV_MINOR', 0, 'Legacy minor revision.', { probe: false }],
    ['VROM_CALL_LEN', 32, 'Bytes per call slot.', { probe: false }],
  ], { ref: { doc: REF } }),
];

// ───────────────────────────── structs ─────────────────────────────

const types = [
  b.struct('VROMHeader', 'The legacy ROM header: the first four 32-byte slots (0x80 bytes); call slots follow from slot 4.', [
    f('romSignature', 'uint16_t', 'Option ROM signature 0xAA55.'),
    f('romLength', 'uint8_t', 'Length in 512-byte blocks.'),
    f('romEntry', 'uint8_t[4]', 'Real-mode initialisation entry.'),
    f('romPad0', 'uint8_t', 'Padding.'),
    f('vRomSignature', 'uint32_t', '"cVmi".'),
    f('APIVersionMinor', 'uint8_t', 'API minor revision.'),
    f('APIVersionMajor', 'uint8_t', 'API major revision (13).'),
    f('reserved0', 'uint8_t', 'Reserved.'),
    f('reserved1', 'uint8_t', 'Reserved.'),
    f('reserved2', 'uint32_t', 'Reserved.'),
    f('reserved3', 'uint32_t', 'Reserved for private use.'),
    f('pciHeaderOffset', 'uint16_t', 'Offset of the PCI data structure.'),
    f('pnpHeaderOffset', 'uint16_t', 'Offset of the PnP header.'),
    f('romPad3', 'uint32_t', 'Reserved.'),
    f('reserved', 'uint8_t[96]', 'Three reserved 32-byte slots.'),
  ], { packed: true, declaredSize: { x86: 128 }, probe: false, ref: { doc: REF } }),
];

// ───────────────────────────── operations ─────────────────────────────

const NAMES: [number, string][] = [
  [4, 'Init'], [5, 'CPUID'], [6, 'WRMSR'], [7, 'RDMSR'], [8, 'SetGDT'], [9, 'SetLDT'], [10, 'SetIDT'], [11, 'SetTR'],
  [12, 'GetGDT'], [13, 'GetLDT'], [14, 'GetIDT'], [15, 'GetTR'], [16, 'WriteGDTEntry'], [17, 'WriteLDTEntry'],
  [18, 'WriteIDTEntry'], [19, 'UpdateKernelStack'], [20, 'SetCR0'], [21, 'SetCR2'], [22, 'SetCR3'], [23, 'SetCR4'],
  [24, 'GetCR0'], [25, 'GetCR2'], [26, 'GetCR3'], [27, 'GetCR4'], [28, 'INVD'], [29, 'WBINVD'], [30, 'SetDR'],
  [31, 'GetDR'], [32, 'RDPMC'], [33, 'RDTSC'], [34, 'CLTS'], [35, 'EnableInterrupts'], [36, 'DisableInterrupts'],
  [37, 'GetInterruptMask'], [38, 'SetInterruptMask'], [39, 'IRET'], [40, 'SYSEXIT'], [41, 'Pause'], [42, 'Halt'],
  [43, 'Reboot'], [44, 'Shutdown'], [45, 'SetPxE'], [46, 'GetPxE'], [47, 'SwapPxE'], [48, 'SetPxELong'],
  [49, 'GetPxELong'], [50, 'SwapPxELongAtomic'], [51, 'TestAndSetPxEBit'], [52, 'TestAndClearPxEBit'],
  [53, 'AllocatePage'], [54, 'ReleasePage'], [55, 'InvalPage'], [56, 'FlushTLB'], [57, 'FlushDeferredCalls'],
  [58, 'SetLinearMapping'], [59, 'IN'], [60, 'INB'], [61, 'INW'], [62, 'INS'], [63, 'INSB'], [64, 'INSW'], [65, 'OUT'],
  [66, 'OUTB'], [67, 'OUTW'], [68, 'OUTS'], [69, 'OUTSB'], [70, 'OUTSW'], [71, 'SetIOPLMask'],
  [72, 'DeactivatePxELongAtomic'], [73, 'TestAndSetPxELongBit'], [74, 'TestAndClearPxELongBit'],
  [75, 'SetInitialAPState'], [76, 'APICWrite'], [77, 'APICRead'], [78, 'IODelay'], [79, 'GetCycleFrequency'],
  [80, 'GetCycleCounter'], [81, 'SetAlarm'], [82, 'CancelAlarm'], [83, 'GetWallclockTime'], [84, 'WallclockUpdated'],
];

const hypercalls = NAMES.map(([n, name]) =>
  b.hypercall(name, n, `Legacy call ${name} in slot ${n} (ROM offset ${n * 32}); not the API 3.0 call of the same name.`, {
    abis: { 'vmi13-i386': 'native' },
    args: [],
    returns: { type: 'void', doc: 'Not recorded for the legacy generation.' },
    ref: { doc: REF },
  }),
);

/** The legacy VMI API 13.0 spec (numbering and header only). */
export const vmiApi13Spec: Spec = {
  name: 'vmi-api13',
  title: 'VMware VMI, legacy API 13.0 (pre-merge, fixed 32-byte slots) — do not mix with API 3.0',
  version: '13.0',
  doc:
    'The VMI generation VMware proposed in 2006 before Linux merged API 3.0: fixed 32-byte call slots at ROM + 32·N and ' +
    'its own call numbers. Kept apart from the `vmi` spec so that nobody mixes the numberings. Numbering and header ' +
    'only. The Karlsruhe afterburner ROM added PhysToMachine (85), MachineToPhys (86) and PhysIsCoherent (87), which ' +
    'are not VMware’s and are left out.',
  ref: { doc: REF },
  arches: arches.filter((a) => a.name === 'x86_32'),
  abis,
  families: [b.family('The legacy API 13.0 generation.', { doc: REF })],
  types,
  constants: [
    {
      name: 'VMI13_CALL',
      family: 'legacy',
      kind: 'hypercalls',
      doc: 'Legacy call (slot) numbers.',
      members: hypercalls.map((h) => ({ name: `VMI13_CALL_${h.name}`, value: h.number, doc: h.doc, probe: false })),
      ref: { doc: REF },
    },
    ...constants,
  ],
  hypercalls,
  resources: [],
  errorSpaces: [],
};
