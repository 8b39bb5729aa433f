/**
 * Physical devices: the hypercall physdev_op (33), its legacy form physdev_op_compat (19),
 * the structures its operations carry and the PIRQ, MSI and PCI constants.
 *
 * @see xen/include/public/physdev.h
 * @see xen/arch/x86/physdev.c, xen/drivers/pci/physdev.c, xen/arch/arm/physdev.c,
 *      xen/arch/x86/hvm/hypercall.c:hvm_physdev_op, xen/arch/x86/compat.c (RELEASE-4.17.7)
 */
import { arg, err, f, familyBuilder, inlineStruct, inlineUnion, use, when, type FamilyModule } from '../../builders.js';

const H = 'xen/include/public/physdev.h';
const C = 'xen/arch/x86/physdev.c';
const PCI = 'xen/drivers/pci/physdev.c';
const b = familyBuilder('physdev', H);

/** Operations only x86 PV callers reach: the HVM filter rejects them and Arm has no handler. */
const PV = ['x86_64-pv', 'x86_32-pv'];
/** Operations x86 callers reach (PV always, HVM through the filter); Arm refuses them. */
const X86 = ['x86'];

// ───────────────────────────── constants ─────────────────────────────

const constants = [
  b.group('XENIRQSTAT', 'flags', 'Flags PHYSDEVOP_irq_status_query reports for an IRQ.', [
    ['XENIRQSTAT_needs_eoi', 1, 'The guest must issue PHYSDEVOP_eoi once it has serviced the IRQ.', { bit: 0 }],
    ['XENIRQSTAT_shared', 2, 'The IRQ line is shared with other domains.', { bit: 1 }],
  ], { type: 'uint32_t' }),
  b.group('_XENIRQSTAT', 'values', 'Bit numbers of the XENIRQSTAT_* flags.', [
    ['_XENIRQSTAT_needs_eoi', 0, 'Bit number of XENIRQSTAT_needs_eoi.'],
    ['_XENIRQSTAT_shared', 1, 'Bit number of XENIRQSTAT_shared.'],
  ]),
  b.group('MAP_PIRQ_TYPE', 'enum', 'Kinds of interrupt source PHYSDEVOP_map_pirq and PHYSDEVOP_get_free_pirq handle.', [
    ['MAP_PIRQ_TYPE_MSI', 0x0, 'A message-signalled interrupt of a device on PCI segment 0 (MSI or MSI-X).'],
    ['MAP_PIRQ_TYPE_GSI', 0x1, 'A global system interrupt (an IO-APIC or legacy line).'],
    ['MAP_PIRQ_TYPE_UNKNOWN', 0x2, 'Unspecified source; map_pirq rejects it.'],
    ['MAP_PIRQ_TYPE_MSI_SEG', 0x3, 'Like MSI, with the PCI segment in bits 16 and up of the bus field.'],
    ['MAP_PIRQ_TYPE_MULTI_MSI', 0x4, 'A block of MSI vectors of one device; entry_nr gives (and returns) the count.'],
  ], { type: 'int' }),
  b.group('XEN_PCI_MMCFG', 'flags', 'Flags of PHYSDEVOP_pci_mmcfg_reserved.', [
    ['XEN_PCI_MMCFG_RESERVED', 0x1, 'The MMCONFIG region is reserved in the firmware memory map and may be used.', { bit: 0 }],
  ], { type: 'uint32_t' }),
  b.group('XEN_PCI_DEV', 'flags', 'Flags of PHYSDEVOP_pci_device_add describing the device.', [
    ['XEN_PCI_DEV_EXTFN', 0x1, 'The device is an ARI extended function.', { bit: 0 }],
    ['XEN_PCI_DEV_VIRTFN', 0x2, 'The device is an SR-IOV virtual function; physfn names its physical function.', { bit: 1 }],
    ['XEN_PCI_DEV_PXM', 0x4, 'optarr[0] holds the proximity domain (NUMA node) of the device.', { bit: 2 }],
  ], { type: 'uint32_t' }),
  b.group('PHYSDEVOP_DBGP_RESET', 'enum', 'Actions of PHYSDEVOP_dbgp_op on the USB debug port.', [
    ['PHYSDEVOP_DBGP_RESET_PREPARE', 1, 'The caller is about to reset the EHCI controller: Xen stops using the debug port.'],
    ['PHYSDEVOP_DBGP_RESET_DONE', 2, 'The caller has finished resetting the controller: Xen may use the debug port again.'],
  ], { type: 'uint8_t' }),
  b.group('PHYSDEVOP_DBGP_BUS', 'enum', 'How PHYSDEVOP_dbgp_op identifies the controller.', [
    ['PHYSDEVOP_DBGP_BUS_UNKNOWN', 0, 'No bus address given: the action applies to whatever controller Xen uses.'],
    ['PHYSDEVOP_DBGP_BUS_PCI', 1, 'The controller is the PCI device in u.pci.'],
  ], { type: 'uint8_t' }),
  b.group('PHYSDEVOP_ALIAS', 'values', 'Version-dependent alias of a PHYSDEVOP command.', [
    ['PHYSDEVOP_pirq_eoi_gmfn', 28, 'Alias of PHYSDEVOP_pirq_eoi_gmfn_v2 (17, the _v1 form, below interface 0x00040200).'],
  ]),
];

// ───────────────────────────── structs ─────────────────────────────

const pciAddr = (dir: 'in' | 'out' | 'inout') => [
  f('bus', 'uint8_t', 'PCI bus number.', { dir }),
  f('devfn', 'uint8_t', 'PCI device and function number (device << 3 | function).', { dir }),
];

const types = [
  b.struct('physdev_eoi', 'Signals end of interrupt for a PIRQ of the caller.', [
    f('irq', 'uint32_t', 'The PIRQ being acknowledged.', { dir: 'in' }),
  ], { aliases: ['physdev_eoi_t'] }),
  b.struct('physdev_pirq_eoi_gmfn', 'Names a guest frame that Xen fills with a bitmap of PIRQs needing an EOI.', [
    f('gmfn', 'xen_pfn_t', 'Guest frame of the bitmap page, indexed by PIRQ.', { dir: 'in' }),
  ], { aliases: ['physdev_pirq_eoi_gmfn_t'] }),
  b.struct('physdev_irq_status_query', 'Asks how a PIRQ must be handled.', [
    f('irq', 'uint32_t', 'The PIRQ to query.', { dir: 'in' }),
    f('flags', 'uint32_t', 'XENIRQSTAT_* flags.', { dir: 'out', values: 'XENIRQSTAT' }),
  ], { aliases: ['physdev_irq_status_query_t'] }),
  b.struct('physdev_set_iopl', 'Sets the virtual I/O privilege level of the calling vCPU.', [
    f('iopl', 'uint32_t', 'The new IOPL, 0 to 3.', { dir: 'in' }),
  ], { aliases: ['physdev_set_iopl_t'] }),
  b.struct('physdev_set_iobitmap', 'Installs an I/O-port permission bitmap for the calling vCPU.', [
    f('bitmap', 'handle(uint8_t)', 'The bitmap in guest memory, one bit per port (a set bit denies access).', { dir: 'in' }),
    f('nr_ports', 'uint32_t', 'Number of ports the bitmap covers, at most 65536.', { dir: 'in' }),
  ], { aliases: ['physdev_set_iobitmap_t'] }),
  b.struct('physdev_apic', 'Reads or writes one register of an IO-APIC.', [
    f('apic_physbase', 'unsigned long', 'Physical base address of the IO-APIC.', { dir: 'in' }),
    f('reg', 'uint32_t', 'Register index.', { dir: 'in' }),
    f('value', 'uint32_t', 'The value read (apic_read) or to write (apic_write).', { dir: 'inout' }),
  ], { aliases: ['physdev_apic_t'] }),
  b.struct('physdev_irq', 'An IRQ line and the vector associated with it.', [
    f('irq', 'uint32_t', 'The IRQ line.', { dir: 'in' }),
    f('vector', 'uint32_t', 'The vector: returned by alloc_irq_vector (Xen returns the IRQ number itself).', { dir: 'inout' }),
  ], { aliases: ['physdev_irq_t'] }),
  b.struct('physdev_map_pirq', 'Maps an interrupt source (GSI or MSI) to a PIRQ of a domain.', [
    f('domid', 'domid_t', 'The domain receiving the PIRQ (DOMID_SELF allowed).', { dir: 'in' }),
    f('type', 'int', 'MAP_PIRQ_TYPE_* kind of source.', { dir: 'in', values: 'MAP_PIRQ_TYPE' }),
    f('index', 'int', 'GSI number, or IRQ for MSI (-1: allocate one); ignored for MULTI_MSI.', { dir: 'inout' }),
    f('pirq', 'int', 'The PIRQ wanted (negative: any free one); receives the PIRQ mapped.', { dir: 'inout' }),
    f('bus', 'int', 'PCI bus of the MSI device; bits 16 and up hold the segment for MSI_SEG and MULTI_MSI.', { dir: 'in' }),
    f('devfn', 'int', 'PCI device and function of the MSI device.', { dir: 'in' }),
    f('entry_nr', 'int', 'MSI-X table entry, or for MULTI_MSI the number of vectors (returned rounded).', { dir: 'inout' }),
    f('table_base', 'uint64_t', 'Physical address of the MSI-X table (0 for MSI).', { dir: 'in' }),
  ], { aliases: ['physdev_map_pirq_t'] }),
  b.struct('physdev_unmap_pirq', 'Removes a PIRQ mapping of a domain.', [
    f('domid', 'domid_t', 'The domain owning the PIRQ (DOMID_SELF allowed).', { dir: 'in' }),
    f('pirq', 'int', 'The PIRQ to unmap.', { dir: 'in' }),
  ], { aliases: ['physdev_unmap_pirq_t'] }),
  b.struct('physdev_manage_pci', 'A PCI device on segment 0, for the legacy add and remove commands.', pciAddr('in'), {
    aliases: ['physdev_manage_pci_t'],
  }),
  b.struct('physdev_restore_msi', 'A PCI device on segment 0 whose MSI state Xen should reprogram.', pciAddr('in'), {
    aliases: ['physdev_restore_msi_t'],
  }),
  b.struct('physdev_manage_pci_ext', 'A PCI device on segment 0 with its extended-function and SR-IOV details.', [
    ...pciAddr('in'),
    f('is_extfn', 'uint32_t', 'Boolean: the device is an ARI extended function.', { dir: 'in' }),
    f('is_virtfn', 'uint32_t', 'Boolean: the device is an SR-IOV virtual function.', { dir: 'in' }),
    f('physfn', inlineStruct([
      f('bus', 'uint8_t', 'Bus of the physical function.'),
      f('devfn', 'uint8_t', 'Device and function of the physical function.'),
    ]), 'The physical function of a virtual function.', { dir: 'in' }),
  ], { aliases: ['physdev_manage_pci_ext_t'] }),
  b.struct('physdev_op', 'The argument of the legacy physdev_op_compat: a command and its struct.', [
    f('cmd', 'uint32_t', 'PHYSDEVOP_* command; any command is forwarded, though the union only has room for the oldest ones.', { dir: 'in', values: 'PHYSDEVOP' }),
    f('u', inlineUnion([
      f('irq_status_query', 'physdev_irq_status_query_t', 'PHYSDEVOP_irq_status_query.'),
      f('set_iopl', 'physdev_set_iopl_t', 'PHYSDEVOP_set_iopl.'),
      f('set_iobitmap', 'physdev_set_iobitmap_t', 'PHYSDEVOP_set_iobitmap.'),
      f('apic_op', 'physdev_apic_t', 'PHYSDEVOP_apic_read and PHYSDEVOP_apic_write.'),
      f('irq_op', 'physdev_irq_t', 'PHYSDEVOP_alloc_irq_vector and PHYSDEVOP_free_irq_vector.'),
    ]), 'The command’s struct.', { dir: 'inout' }),
  ], { aliases: ['physdev_op_t'] }),
  b.struct('physdev_setup_gsi', 'Configures the trigger mode and polarity of a GSI.', [
    f('gsi', 'int', 'The GSI.', { dir: 'in' }),
    f('triggering', 'uint8_t', 'Trigger mode: 0 edge, 1 level.', { dir: 'in' }),
    f('polarity', 'uint8_t', 'Polarity: 0 active high, 1 active low.', { dir: 'in' }),
  ], { aliases: ['physdev_setup_gsi_t'] }),
  b.struct('physdev_get_free_pirq', 'Reserves an unused PIRQ of the caller.', [
    f('type', 'int', 'MAP_PIRQ_TYPE_GSI (prefers the GSI range) or MAP_PIRQ_TYPE_MSI.', { dir: 'in' }),
    f('pirq', 'uint32_t', 'The reserved PIRQ.', { dir: 'out' }),
  ], { aliases: ['physdev_get_free_pirq_t'] }),
  b.struct('physdev_pci_mmcfg_reserved', 'Reports a PCI MMCONFIG (ECAM) region that firmware reserves.', [
    f('address', 'uint64_t', 'Physical base address of the region.', { dir: 'in' }),
    f('segment', 'uint16_t', 'PCI segment the region serves.', { dir: 'in' }),
    f('start_bus', 'uint8_t', 'First bus of the region.', { dir: 'in' }),
    f('end_bus', 'uint8_t', 'Last bus of the region.', { dir: 'in' }),
    f('flags', 'uint32_t', 'XEN_PCI_MMCFG_* flags.', { dir: 'in', values: 'XEN_PCI_MMCFG' }),
  ], { aliases: ['physdev_pci_mmcfg_reserved_t'] }),
  b.struct('physdev_pci_device_add', 'Announces a PCI device to Xen, with optional details after the fixed part.', [
    f('seg', 'uint16_t', 'PCI segment.', { dir: 'in' }),
    ...pciAddr('in'),
    f('flags', 'uint32_t', 'XEN_PCI_DEV_* flags.', { dir: 'in', values: 'XEN_PCI_DEV' }),
    f('physfn', inlineStruct([
      f('bus', 'uint8_t', 'Bus of the physical function.'),
      f('devfn', 'uint8_t', 'Device and function of the physical function.'),
    ]), 'The physical function, when XEN_PCI_DEV_VIRTFN is set.', { dir: 'in' }),
    f('optarr', 'uint32_t[0]', 'Optional trailing words (flexible array): [0] is the proximity domain when XEN_PCI_DEV_PXM is set.', { dir: 'in' }),
  ], {
    aliases: ['physdev_pci_device_add_t'],
    // The trailing flexible array member is written as a zero-length array; the probe
    // compares its offset (C has no sizeof for it).
  }),
  b.struct('physdev_pci_device', 'A PCI device by segment, bus and devfn.', [
    f('seg', 'uint16_t', 'PCI segment.', { dir: 'in' }),
    ...pciAddr('in'),
  ], { aliases: ['physdev_pci_device_t'] }),
  b.struct('physdev_dbgp_op', 'Coordinates a reset of the EHCI controller Xen uses as a USB debug port.', [
    f('op', 'uint8_t', 'PHYSDEVOP_DBGP_RESET_* action.', { dir: 'in', values: 'PHYSDEVOP_DBGP_RESET' }),
    f('bus', 'uint8_t', 'PHYSDEVOP_DBGP_BUS_* addressing kind.', { dir: 'in', values: 'PHYSDEVOP_DBGP_BUS' }),
    f('u', inlineUnion([f('pci', 'physdev_pci_device_t', 'The controller, for PHYSDEVOP_DBGP_BUS_PCI.')]), 'The controller’s address.', {
      dir: 'in',
    }),
  ], { aliases: ['physdev_dbgp_op_t'] }),
];

// ───────────────────────────── operations ─────────────────────────────

const ref = (fn: string, file = C) => ({ header: H, handler: `${file}:${fn}` });
const badPirq = (path: string) =>
  err('EINVAL', 'The PIRQ is not below the caller’s number of PIRQs.', when.resource(path, 'pirq', 'out-of-range'));
const notControl = err('EPERM', 'The caller is not the control domain.', when.privilege('control-domain'));
const hvmNoPirq = err('ENOSYS', 'HVM caller whose domain was created without PIRQ support (the HVM filter refuses).', when.state('hvm-without-pirqs'));
const hvmNotHw = err('ENOSYS', 'HVM caller that is not the hardware domain (the HVM filter refuses).', when.state('hvm-not-hardware-domain'));
const noDomain = (path: string) => err('ESRCH', 'The domain does not exist.', when.resource(path, 'domid', 'nonexistent'));
const noPassthrough = err('EOPNOTSUPP', 'PCI passthrough is not enabled (always enabled on x86; an Arm boot option).', when.state('pci-passthrough-disabled'));
const noPciDevice = err('ENODEV', 'Xen knows no PCI device at that address.', when.resource('arg', 'pci_dev', 'nonexistent'));

const ops = [
  b.op('PHYSDEVOP_IRQ_UNMASK_NOTIFY', 4, 'Legacy: asks Xen to re-check every masked PIRQ of the caller and EOI those whose event channel is now unmasked.', {
    arg: null,
    abis: PV,
    deprecated: { since: '0x00030202', replacedBy: 'PHYSDEVOP_eoi', doc: 'Still handled by 4.17; always returns 0.' },
    ref: ref('pirq_guest_unmask', 'xen/arch/x86/irq.c'),
  }),
  b.op('PHYSDEVOP_irq_status_query', 5, 'Reports whether a PIRQ needs an explicit EOI and whether it is shared.', {
    arg: 'struct physdev_irq_status_query', argDir: 'inout',
    abis: X86,
    errors: [
      badPirq('arg.irq'),
      err('EINVAL', 'HVM caller: the PIRQ is bound neither to a machine IRQ nor to an emulated one.', when.resource('arg.irq', 'pirq', 'unmapped'), ['x86_64-hvm', 'x86_32-hvm']),
      hvmNoPirq,
    ],
    consumes: [use('pirq', 'arg.irq')],
    ref: ref('do_physdev_op'),
  }),
  b.op('PHYSDEVOP_set_iopl', 6, 'Sets the virtual IOPL of the calling vCPU (PV).', {
    arg: 'struct physdev_set_iopl', argDir: 'in',
    abis: PV,
    errors: [err('EINVAL', 'The IOPL is above 3.', when.value('arg.iopl', 'gt', 3))],
    ref: ref('do_physdev_op'),
  }),
  b.op('PHYSDEVOP_set_iobitmap', 7, 'Installs the I/O-port permission bitmap of the calling vCPU (PV).', {
    arg: 'struct physdev_set_iobitmap', argDir: 'in',
    abis: PV,
    errors: [
      err('EINVAL', 'More than 65536 ports.', when.value('arg.nr_ports', 'gt', 65536)),
      err('EINVAL', 'The 8 KiB bitmap range is not a valid guest address range.', when.fault('arg.bitmap')),
    ],
    ref: ref('do_physdev_op'),
  }),
  b.op('PHYSDEVOP_apic_read', 8, 'Reads an IO-APIC register.', {
    referenceVmm: { implemented: false, reason: 'IO-APIC access by the hardware domain is not modelled (no physical interrupt controllers)' },
    arg: 'struct physdev_apic', argDir: 'inout',
    abis: PV,
    privilege: 'control-domain',
    errors: [notControl, err('EINVAL', 'No IO-APIC has that physical base address.', when.state('no-such-ioapic'))],
    ref: ref('ioapic_guest_read', 'xen/arch/x86/io_apic.c'),
  }),
  b.op('PHYSDEVOP_apic_write', 9, 'Writes an IO-APIC register; Xen intercepts redirection-table writes to route the pin itself.', {
    referenceVmm: { implemented: false, reason: 'IO-APIC access by the hardware domain is not modelled (no physical interrupt controllers)' },
    arg: 'struct physdev_apic', argDir: 'in',
    abis: PV,
    privilege: 'control-domain',
    errors: [
      notControl,
      err('EINVAL', 'No IO-APIC has that physical base address.', when.state('no-such-ioapic')),
      err('EINVAL', 'The redirection entry asks for an unsupported delivery mode, or its PIRQ is out of range.', when.state('bad-redirection-entry')),
    ],
    ref: ref('ioapic_guest_write', 'xen/arch/x86/io_apic.c'),
  }),
  b.op('PHYSDEVOP_alloc_irq_vector', 10, 'Compatibility no-op: returns the IRQ number as the vector; Xen allocates real vectors itself.', {
    referenceVmm: { implemented: false, reason: 'physical IRQs are not modelled (no devices)' },
    arg: 'struct physdev_irq', argDir: 'inout',
    abis: PV,
    privilege: 'control-domain',
    errors: [notControl],
    ref: ref('do_physdev_op'),
  }),
  b.op('PHYSDEVOP_free_irq_vector', 11, 'Defined by the header but not implemented: every caller gets ENOSYS.', {
    referenceVmm: { implemented: false, reason: 'Xen 4.17 has no handler either: the -ENOSYS is exact' },
    arg: 'struct physdev_irq', argDir: 'in',
    errors: [err('ENOSYS', 'Xen 4.17 has no handler for this command.', when.state('unimplemented'))],
    ref: ref('pci_physdev_op', PCI),
  }),
  b.op('PHYSDEVOP_eoi', 12, 'Acknowledges a PIRQ; with the v1 EOI bitmap registered it also unmasks the bound event channel.', {
    arg: 'struct physdev_eoi', argDir: 'in',
    abis: X86,
    errors: [
      badPirq('arg.irq'),
      err('EINVAL', 'The PIRQ has never been set up for the caller.', when.resource('arg.irq', 'pirq', 'unmapped')),
      hvmNoPirq,
    ],
    consumes: [use('pirq', 'arg.irq')],
    ref: ref('do_physdev_op'),
  }),
  b.op('PHYSDEVOP_map_pirq', 13, 'Maps a GSI or MSI source to a PIRQ of a domain, allocating the PIRQ when none is given.', {
    referenceVmm: { implemented: false, reason: 'physical IRQs are not modelled (no devices)' },
    arg: 'struct physdev_map_pirq', argDir: 'inout',
    abis: X86,
    privilege: 'device-model',
    errors: [
      noDomain('arg.domid'),
      err('EPERM', 'The caller is neither the control domain nor the target’s device model (a PIRQ-enabled HVM mapping for itself is exempt).', when.privilege('device-model')),
      err('EPERM', 'The caller has no access to the machine IRQ.', when.privilege('irq-access')),
      err('EINVAL', 'The type is not GSI, MSI, MSI_SEG or MULTI_MSI.', when.value('arg.type', 'eq', 2)),
      err('EINVAL', 'MULTI_MSI with a non-zero table_base.', when.state('multi-msi-with-table-base')),
      err('EINVAL', 'The GSI index is negative or beyond the host’s GSIs, or (not the hardware domain) the caller has no IRQ for it.', when.state('bad-gsi-index')),
      err('EINVAL', 'MSI: the IRQ given is outside the MSI range, or none could be created.', when.state('bad-msi-irq')),
      err('EINVAL', 'A PIRQ-enabled HVM caller mapping for itself without a vector callback, or with a non-GSI type or GSI out of range.', when.state('hvm-self-map-invalid')),
      err('EINVAL', 'The PIRQ wanted is out of range.', when.resource('arg.pirq', 'pirq', 'out-of-range')),
      err('EEXIST', 'The IRQ is already mapped to a different PIRQ than the one asked for.', when.state('irq-mapped-elsewhere')),
      err('EBUSY', 'The IRQ is already mapped to a PIRQ that is being torn down.', when.state('irq-mapping-in-teardown')),
      err('ENOSPC', 'No free PIRQ (or block of PIRQs) is left.', when.state('pirqs-exhausted')),
      err('EDOM', 'MULTI_MSI with entry_nr 0, negative or above 32.', when.value('arg.entry_nr', 'gt', 32)),
      err('EOPNOTSUPP', 'MULTI_MSI with more than one vector while interrupt remapping is off.', when.state('no-interrupt-remapping')),
      err('ENODEV', 'The MSI device is not known to Xen.', when.state('unknown-msi-device')),
      err('ENOMEM', 'Xen ran out of memory for the PIRQ bookkeeping.', when.state('out-of-memory')),
      hvmNoPirq,
    ],
    consumes: [use('domid', 'arg.domid')],
    produces: [use('pirq', 'arg.pirq')],
    ref: ref('physdev_map_pirq'),
  }),
  b.op('PHYSDEVOP_unmap_pirq', 14, 'Removes a PIRQ mapping of a domain.', {
    referenceVmm: { implemented: false, reason: 'physical IRQs are not modelled (no devices)' },
    arg: 'struct physdev_unmap_pirq', argDir: 'in',
    abis: X86,
    privilege: 'device-model',
    errors: [
      noDomain('arg.domid'),
      err('EPERM', 'The caller is neither the control domain nor the target’s device model (a PIRQ-enabled HVM unmapping its own PIRQ is exempt).', when.privilege('device-model')),
      err('EINVAL', 'The PIRQ is out of range or not mapped.', when.resource('arg.pirq', 'pirq', 'unmapped')),
      err('EBUSY', 'The PIRQ is a secondary vector of a multi-vector MSI block.', when.state('secondary-msi-pirq')),
      hvmNoPirq,
    ],
    consumes: [use('domid', 'arg.domid'), use('pirq', 'arg.pirq')],
    ref: ref('physdev_unmap_pirq'),
  }),
  b.op('PHYSDEVOP_manage_pci_add', 15, 'Legacy: announces a PCI device on segment 0.', {
    referenceVmm: { implemented: false, reason: 'PCI devices are not modelled' },
    arg: 'struct physdev_manage_pci', argDir: 'in',
    abis: PV,
    privilege: 'control-domain',
    errors: [notControl, err('ENOMEM', 'Xen could not allocate its device records.', when.state('out-of-memory'))],
    produces: [use('pci_dev', 'arg')],
    deprecated: { replacedBy: 'PHYSDEVOP_pci_device_add', doc: 'Segment 0 only; superseded by PHYSDEVOP_pci_device_add.' },
    ref: ref('pci_add_device', 'xen/drivers/passthrough/pci.c'),
  }),
  b.op('PHYSDEVOP_manage_pci_remove', 16, 'Legacy: withdraws a PCI device on segment 0.', {
    referenceVmm: { implemented: false, reason: 'PCI devices are not modelled' },
    arg: 'struct physdev_manage_pci', argDir: 'in',
    abis: PV,
    privilege: 'control-domain',
    errors: [notControl, err('ENODEV', 'Xen knows no such device.', when.resource('arg', 'pci_dev', 'nonexistent'))],
    consumes: [use('pci_dev', 'arg')],
    deprecated: { replacedBy: 'PHYSDEVOP_pci_device_remove', doc: 'Segment 0 only; superseded by PHYSDEVOP_pci_device_remove.' },
    ref: ref('pci_remove_device', 'xen/drivers/passthrough/pci.c'),
  }),
  b.op('PHYSDEVOP_pirq_eoi_gmfn_v1', 17, 'Registers the PIRQ EOI bitmap page; afterwards PHYSDEVOP_eoi also unmasks the PIRQ’s event channel.', {
    arg: 'struct physdev_pirq_eoi_gmfn', argDir: 'in',
    abis: PV,
    errors: [
      err('EINVAL', 'The frame is not a writable page of the caller.', when.resource('arg.gmfn', 'gfn', 'unmapped')),
      err('EBUSY', 'An EOI bitmap page is already registered.', when.state('eoi-map-registered')),
      err('ENOSPC', 'Xen could not map the page.', when.state('map-failed')),
    ],
    consumes: [use('gfn', 'arg.gmfn')],
    deprecated: { since: '0x00040200', replacedBy: 'PHYSDEVOP_pirq_eoi_gmfn_v2', doc: 'Changes the meaning of PHYSDEVOP_eoi.' },
    ref: ref('do_physdev_op'),
  }),
  b.op('PHYSDEVOP_restore_msi', 19, 'Legacy: reprograms the MSI state of a device on segment 0 (after resume).', {
    referenceVmm: { implemented: false, reason: 'PCI devices and MSI are not modelled' },
    arg: 'struct physdev_restore_msi', argDir: 'in',
    abis: PV,
    errors: [
      err('ENODEV', 'Xen knows no such device.', when.resource('arg', 'pci_dev', 'nonexistent')),
      err('EOPNOTSUPP', 'MSI is disabled on the host.', when.state('msi-disabled')),
    ],
    consumes: [use('pci_dev', 'arg')],
    deprecated: { replacedBy: 'PHYSDEVOP_restore_msi_ext', doc: 'Segment 0 only.' },
    ref: ref('pci_restore_msi_state', 'xen/arch/x86/msi.c'),
  }),
  b.op('PHYSDEVOP_manage_pci_add_ext', 20, 'Legacy: announces a PCI device on segment 0 with extended-function and SR-IOV details.', {
    referenceVmm: { implemented: false, reason: 'PCI devices are not modelled' },
    arg: 'struct physdev_manage_pci_ext', argDir: 'in',
    abis: PV,
    privilege: 'control-domain',
    errors: [
      err('EINVAL', 'is_extfn is neither 0 nor 1.', when.value('arg.is_extfn', 'gt', 1)),
      err('EINVAL', 'is_virtfn is neither 0 nor 1.', when.value('arg.is_virtfn', 'gt', 1)),
      notControl,
      err('ENOMEM', 'Xen could not allocate its device records.', when.state('out-of-memory')),
    ],
    produces: [use('pci_dev', 'arg')],
    deprecated: { replacedBy: 'PHYSDEVOP_pci_device_add', doc: 'Segment 0 only; superseded by PHYSDEVOP_pci_device_add.' },
    ref: ref('pci_add_device', 'xen/drivers/passthrough/pci.c'),
  }),
  b.op('PHYSDEVOP_setup_gsi', 21, 'Sets trigger mode and polarity of a GSI and programs its IO-APIC pin.', {
    referenceVmm: { implemented: false, reason: 'physical IRQs are not modelled (no devices)' },
    arg: 'struct physdev_setup_gsi', argDir: 'in',
    abis: PV,
    privilege: 'control-domain',
    errors: [
      err('EINVAL', 'The GSI is negative or beyond the host’s GSIs.', when.value('arg.gsi', 'lt', 0)),
      notControl,
      err('EINVAL', 'No IO-APIC serves the GSI (or, without IO-APICs, it is not a legacy IRQ).', when.state('no-ioapic-for-gsi')),
      err('EEXIST', 'The GSI is already set up and in use.', when.state('gsi-in-use')),
    ],
    ref: ref('mp_register_gsi', 'xen/arch/x86/mpparse.c'),
  }),
  b.op('PHYSDEVOP_get_free_pirq', 23, 'Reserves an unused PIRQ of the caller and returns it.', {
    arg: 'struct physdev_get_free_pirq', argDir: 'inout',
    abis: X86,
    errors: [
      err('ENOSPC', 'No free PIRQ is left in the range for the type.', when.state('pirqs-exhausted')),
      err('ENOMEM', 'Xen ran out of memory for the PIRQ record.', when.state('out-of-memory')),
      hvmNoPirq,
    ],
    produces: [use('pirq', 'arg.pirq')],
    ref: ref('get_free_pirq', 'xen/arch/x86/irq.c'),
  }),
  b.op('PHYSDEVOP_pci_mmcfg_reserved', 24, 'Reports a firmware-reserved MMCONFIG region so Xen may use it (and map it for a PVH hardware domain).', {
    referenceVmm: { implemented: false, reason: 'PCI devices are not modelled' },
    arg: 'struct physdev_pci_mmcfg_reserved', argDir: 'in',
    abis: X86,
    privilege: 'control-domain',
    errors: [
      notControl,
      err('EINVAL', 'A flag other than XEN_PCI_MMCFG_RESERVED is set.', when.value('arg.flags', 'mask', 0xfffffffe)),
      err('ENODEV', 'No known MMCONFIG region matches the segment and bus range.', when.state('unknown-mmcfg-region')),
      err('EIO', 'The address differs from the region Xen already knows.', when.state('mmcfg-address-mismatch')),
      hvmNotHw,
    ],
    ref: ref('pci_mmcfg_reserved', 'xen/arch/x86/x86_64/mmconfig-shared.c'),
  }),
  b.op('PHYSDEVOP_pci_device_add', 25, 'Announces a PCI device (any segment), optionally a virtual or extended function, optionally with its NUMA node.', {
    referenceVmm: { implemented: false, reason: 'PCI devices are not modelled' },
    arg: 'struct physdev_pci_device_add', argDir: 'in',
    privilege: 'control-domain',
    errors: [
      noPassthrough,
      notControl,
      err('ENOMEM', 'Xen could not allocate its segment or device records.', when.state('out-of-memory')),
      err('ENOSYS', 'Arm build without PCI support.', when.state('no-pci-support')),
      hvmNotHw,
    ],
    produces: [use('pci_dev', 'arg')],
    ref: ref('pci_physdev_op', PCI),
  }),
  b.op('PHYSDEVOP_pci_device_remove', 26, 'Withdraws a PCI device (any segment).', {
    referenceVmm: { implemented: false, reason: 'PCI devices are not modelled' },
    arg: 'struct physdev_pci_device', argDir: 'in',
    privilege: 'control-domain',
    errors: [
      noPassthrough,
      notControl,
      noPciDevice,
      err('ENOSYS', 'Arm build without PCI support.', when.state('no-pci-support')),
      hvmNotHw,
    ],
    consumes: [use('pci_dev', 'arg')],
    ref: ref('pci_physdev_op', PCI),
  }),
  b.op('PHYSDEVOP_restore_msi_ext', 27, 'Reprograms the MSI state of a device (any segment), e.g. after resume.', {
    referenceVmm: { implemented: false, reason: 'PCI devices and MSI are not modelled' },
    arg: 'struct physdev_pci_device', argDir: 'in',
    abis: PV,
    errors: [noPciDevice, err('EOPNOTSUPP', 'MSI is disabled on the host.', when.state('msi-disabled'))],
    consumes: [use('pci_dev', 'arg')],
    ref: ref('pci_restore_msi_state', 'xen/arch/x86/msi.c'),
  }),
  b.op('PHYSDEVOP_pirq_eoi_gmfn_v2', 28, 'Registers the PIRQ EOI bitmap page, leaving PHYSDEVOP_eoi’s meaning unchanged.', {
    arg: 'struct physdev_pirq_eoi_gmfn', argDir: 'in',
    abis: PV,
    errors: [
      err('EINVAL', 'The frame is not a writable page of the caller.', when.resource('arg.gmfn', 'gfn', 'unmapped')),
      err('EBUSY', 'An EOI bitmap page is already registered.', when.state('eoi-map-registered')),
      err('ENOSPC', 'Xen could not map the page.', when.state('map-failed')),
    ],
    consumes: [use('gfn', 'arg.gmfn')],
    ref: ref('do_physdev_op'),
  }),
  b.op('PHYSDEVOP_dbgp_op', 29, 'Tells Xen the hardware domain is about to reset, or has reset, the EHCI controller behind the USB debug port.', {
    referenceVmm: { implemented: false, reason: 'USB debug ports are not modelled' },
    arg: 'struct physdev_dbgp_op', argDir: 'in',
    abis: X86,
    privilege: 'hardware-domain',
    errors: [
      err('EPERM', 'The caller is not the hardware domain.', when.privilege('hardware-domain')),
      err('ENOSYS', 'The action is neither RESET_PREPARE nor RESET_DONE (only when Xen uses a debug port on that controller).', when.state('bad-dbgp-action')),
      hvmNotHw,
    ],
    ref: ref('dbgp_op', 'xen/drivers/char/ehci-dbgp.c'),
  }),
  b.op('PHYSDEVOP_prepare_msix', 30, 'Promises Xen that the MSI-X table BARs of a device will not move, so Xen can set up MSI-X.', {
    referenceVmm: { implemented: false, reason: 'PCI devices and MSI-X are not modelled' },
    arg: 'struct physdev_pci_device', argDir: 'in',
    abis: PV,
    privilege: 'control-domain',
    errors: [
      notControl,
      noPciDevice,
      err('EBUSY', 'MSI-X entries of the device are in use.', when.state('msix-in-use')),
    ],
    consumes: [use('pci_dev', 'arg')],
    ref: ref('pci_prepare_msix', 'xen/arch/x86/msi.c'),
  }),
  b.op('PHYSDEVOP_release_msix', 31, 'Withdraws the promise of PHYSDEVOP_prepare_msix: the BARs may change again.', {
    referenceVmm: { implemented: false, reason: 'PCI devices and MSI-X are not modelled' },
    arg: 'struct physdev_pci_device', argDir: 'in',
    abis: PV,
    privilege: 'control-domain',
    errors: [
      notControl,
      noPciDevice,
      err('EBUSY', 'MSI-X entries of the device are still in use.', when.state('msix-in-use')),
    ],
    consumes: [use('pci_dev', 'arg')],
    ref: ref('pci_prepare_msix', 'xen/arch/x86/msi.c'),
  }),
];

const hypercalls = [
  b.hypercall('physdev_op', 33, 'Physical device operations: PIRQ mapping and EOI, IO-APIC and I/O-port access, PCI device management.', {
    abis: {
      'x86_64-pv': 'native',
      'x86_32-pv': 'compat',
      'x86_64-hvm': 'hvm-filter',
      'x86_32-hvm': 'hvm-filter',
      arm64: 'arm',
      arm32: 'arm',
    },
    args: [
      arg('cmd', 'int', 'PHYSDEVOP_* command.', { values: 'PHYSDEVOP' }),
      arg('arg', 'ptr(void)', 'The command’s struct (NULL for commands without one).', { dir: 'inout' }),
    ],
    subops: { selector: 'cmd', group: 'PHYSDEVOP', argument: 'arg', ops },
    errors: [
      err('ENOSYS', 'The command is unknown, or not available to this kind of caller (HVM filter, Arm).', when.state('unknown-command')),
      err('EFAULT', 'The argument struct cannot be read or written.', when.fault('arg')),
    ],
    ref: { header: H, handler: `${C}:do_physdev_op` },
  }),
  b.hypercall('physdev_op_compat', 19, 'Legacy form of physdev_op: a struct physdev_op carrying the command and its argument.', {
    referenceVmm: { implemented: false, reason: 'not implemented yet: the legacy wrapper (struct physdev_op) of physdev_op' },
    abis: { 'x86_64-pv': 'native', 'x86_32-pv': 'compat' },
    args: [arg('uop', 'ptr(struct physdev_op)', 'Command and argument.', { dir: 'inout' })],
    deprecated: { since: '0x00030202', replacedBy: 'physdev_op', doc: 'Forwards any command to physdev_op with a pointer to the union.' },
    errors: [
      err('EFAULT', 'The struct cannot be read or written.', when.fault('uop')),
      err('ENOSYS', 'The command is unknown.', when.state('unknown-command')),
    ],
    ref: { header: H, handler: 'xen/arch/x86/compat.c:do_physdev_op_compat' },
  }),
];

const resources = [
  b.resource('pirq', 'int', 'A physical IRQ number in a domain’s PIRQ space, bound to a machine or emulated interrupt source.'),
  b.resource('pci_dev', 'physdev_pci_device_t', 'A PCI device known to Xen, identified by segment, bus and devfn.'),
];

export const physdev: FamilyModule = {
  family: b.family('Physical devices: PIRQs, IO-APIC and I/O-port access, MSI and PCI device management.', { header: H, handler: C }),
  types,
  constants,
  hypercalls,
  resources,
};
