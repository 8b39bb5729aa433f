/**
 * Core types and constants of xen.h and the arch headers: domain ids, machine words,
 * frame numbers, special domain ids, and the resources most operations use.
 *
 * @see xen/include/public/xen.h, xen/include/public/arch-x86/xen.h, xen/include/public/arch-arm.h
 */
import { familyBuilder, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/xen.h';
const b = familyBuilder('core', H);

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('DOMID', 'values', 'Domain ids with a special meaning.', [
    ['DOMID_FIRST_RESERVED', 0x7ff0, 'First domain id that names no real domain.'],
    ['DOMID_SELF', 0x7ff0, 'The calling domain.'],
    ['DOMID_IO', 0x7ff1, 'Owner of I/O memory; used to map device memory.'],
    ['DOMID_XEN', 0x7ff2, 'Xen itself, owner of Xen heap pages shared with guests.'],
    ['DOMID_COW', 0x7ff3, 'Owner of shared copy-on-write pages.'],
    ['DOMID_INVALID', 0x7ff4, 'No domain.'],
    ['DOMID_IDLE', 0x7fff, 'The idle domain.'],
    ['DOMID_MASK', 0x7fff, 'Mask of the significant bits of a domain id.'],
  ], { type: 'domid_t' }),
];

// ───────────────────────────── types ─────────────────────────────

const types = [
  b.typedef('domid_t', 'uint16_t', 'A domain id.'),
  b.typedef('xen_ulong_t', 'unsigned long', 'An unsigned machine word; 64-bit on Arm for both guest widths.', {
    overrides: { arm: { kind: 'typedef', target: { kind: 'name', name: 'uint64_t' } } },
    ref: { header: 'xen/include/public/arch-x86/xen.h' },
  }),
  b.typedef('xen_pfn_t', 'unsigned long', 'A guest or machine frame number; 64-bit on Arm.', {
    overrides: { arm: { kind: 'typedef', target: { kind: 'name', name: 'uint64_t' } } },
    ref: { header: 'xen/include/public/arch-x86/xen.h' },
  }),
  b.typedef('uint64_aligned_t', 'uint64_t', 'A 64-bit integer aligned to 8 bytes on every ABI (the toolstack view of i386).', {
    align: 8,
    probe: false,
  }),
];

const resources = [
  b.resource('domid', 'domid_t', 'A domain.', [
    { name: 'DOMID_SELF', doc: 'The caller.' },
    { name: 'DOMID_IO', doc: 'I/O memory owner.' },
    { name: 'DOMID_XEN', doc: 'Xen.' },
  ]),
  b.resource('vcpu_id', 'uint32_t', 'A vCPU of a domain, numbered from 0.'),
  b.resource('gfn', 'xen_pfn_t', 'A guest frame number: a page of the domain’s physical address space.'),
  b.resource('mfn', 'xen_pfn_t', 'A machine frame number: a page of host memory.'),
];

export const core: FamilyModule = {
  family: b.family('Core types of the hypercall interface: domain ids, machine words, frame numbers.'),
  types,
  constants,
  hypercalls: [],
  resources,
};
