/**
 * The kinds of guest violation strict mode reports, and the few protocol facts the spec
 * cannot express yet (it says what operations produce and consume, not what releases a
 * handle or which step must come first). Everything else the checker decides from the spec.
 * rules.test.ts checks that every operation id, path and constant named here exists there.
 */

/** Finding kinds, each with what it means. */
export const KINDS = {
  'unknown-hypercall': 'a hypercall number the guest’s ABI does not have (absent from the spec, or not in the hypercall’s `abis`)',
  'unknown-operation': 'a command the hypercall has no operation for on the guest’s ABI (its value is absent, or the operation’s `abis` exclude the ABI)',
  deprecated: 'a hypercall, operation or enum value the spec marks deprecated',
  'reserved-bits': 'bits set outside a flags field’s declared group, or outside a command selector’s mask',
  'invalid-value': 'an enum field or argument holding a value that is no member of its group',
  'nonzero-padding': 'a padding or reserved field (_pad, pad, rsvd, _unused...) of an input struct that is not zero',
  'bad-pointer': 'a pointer or guest handle (argument or input field) to memory the domain does not own',
  'misaligned-pointer': 'a pointer to a struct or scalar that is not aligned to its type’s alignment',
  'unowned-handle': 'a port or grant handle the domain never obtained, a domain that does not exist, a vCPU the domain does not have',
  'stale-handle': 'a port or grant handle used after the call that released it',
  'double-release': 'a port closed, or a grant handle unmapped, a second time',
  'release-unheld': 'a release of something never acquired: a close of a port never bound, an unmap of a handle never mapped, an unpin of a page never pinned',
  'ignored-error': 'a handle taken from the output of a call that failed (the guest ignored the error and used what the field held)',
  'not-offered': 'a grant reference used that its granting domain has not offered to the caller (no valid entry naming the caller)',
  'out-of-order': 'a protocol step before the step it needs: another domain’s grants used before it set up its grant table, a vCPU brought up before it was initialised (or initialised twice), any call after shutdown',
  'leak-at-shutdown': 'event channels still bound, grant mappings still held, or grants still offered when the domain shuts down',
} as const;

export type Kind = keyof typeof KINDS;

/** Resources whose handles the checker tracks from `produces` to their release. */
export interface Tracked {
  /** Whose table the handle indexes: a domain the operation names beside it, or always the caller's. */
  scope: 'named-domain' | 'caller';
  /** Operation id → the path whose handle it releases (on success). */
  releases: Readonly<Record<string, string>>;
  /** Operation id → the domid path of the domain whose every handle it releases. */
  resets: Readonly<Record<string, string>>;
  /** What a handle held at shutdown is called in a leak finding. */
  leak: string;
}

export const TRACKED: Readonly<Record<string, Tracked>> = {
  evtchn_port: {
    scope: 'named-domain',
    releases: { 'event_channel_op$EVTCHNOP_close': 'arg.port' },
    resets: { 'event_channel_op$EVTCHNOP_reset': 'arg.dom' },
    leak: 'event channel still bound',
  },
  grant_handle: {
    scope: 'caller',
    releases: { 'grant_table_op$GNTTABOP_unmap_grant_ref': 'arg.handle', 'grant_table_op$GNTTABOP_unmap_and_replace': 'arg.handle' },
    resets: {},
    leak: 'grant mapping still held',
  },
};

/** Acquire/release pairs on values that are no tracked resource of their own (pinned page tables, keyed by frame). */
export const PAIRS = [
  {
    name: 'pinned page table',
    acquire: ['mmuext_op$MMUEXT_PIN_L1_TABLE', 'mmuext_op$MMUEXT_PIN_L2_TABLE', 'mmuext_op$MMUEXT_PIN_L3_TABLE', 'mmuext_op$MMUEXT_PIN_L4_TABLE'],
    release: 'mmuext_op$MMUEXT_UNPIN_TABLE',
    key: 'arg.arg1.mfn',
  },
] as const;

/** The steps that set a domain's grant table up (its frames reach the guest), with the path naming the domain and a condition. */
export const GRANT_SETUP = [
  { op: 'grant_table_op$GNTTABOP_setup_table', dom: 'arg.dom' },
  { op: 'memory_op$XENMEM_add_to_physmap', dom: 'arg.domid', when: { path: 'arg.space', constant: 'XENMAPSPACE_grant_table' } },
] as const;

/** Grant entries: where a domain's table version changes, the entry layouts, and the refs kept for the toolstack. */
export const GRANTS = {
  setVersion: { op: 'grant_table_op$GNTTABOP_set_version', path: 'arg.version' },
  header: 'struct grant_entry_header',
  entry: { 1: 'struct grant_entry_v1', 2: 'union grant_entry_v2' },
  typeGroup: 'GTF_type',
  invalid: 'GTF_invalid',
  reserved: 'GNTTAB_NR_RESERVED_ENTRIES',
} as const;

/** vCPU bring-up: `up` needs `initialise` first (or the vCPU online from boot); `initialise` only once. */
export const VCPU_BRINGUP = { up: 'vcpu_op$VCPUOP_up', initialise: 'vcpu_op$VCPUOP_initialise', vcpu: 'vcpuid' } as const;

/** Shutdown: after it no call is allowed, and what is still held leaks; suspend resumes. */
export const SHUTDOWN = { op: 'sched_op$SCHEDOP_shutdown', reason: 'arg.reason', resumes: ['SHUTDOWN_suspend'] } as const;

/**
 * Flags fields and arguments whose declared group does not cover every bit they carry: the
 * other bits hold an encoded value, not reserved ones.
 */
export const FLAGS_CARRY_VALUES: Readonly<Record<string, string>> = {
  'update_va_mapping(flags)': 'under UVMF_MULTI the upper bits carry the vcpumask pointer',
  'struct xen_memory_reservation.mem_flags': 'bits 0-15 carry XENMEMF_address_bits() and XENMEMF_node()',
};

/** The batching hypercall whose entries are calls of their own, and its list's fields. */
export const MULTICALL = { hypercall: 'multicall', list: 'call_list', count: 'nr_calls', op: 'op', result: 'result', args: 'args' } as const;

/** Names of padding and reserved members (upstream header conventions). */
export const PADDING = /^_?(pad|rsvd|unused)[0-9]*$/;

/** The resource a domain id is, and the one a vCPU id is (checked for existence). */
export const DOMID = 'domid';
export const VCPU_ID = 'vcpu_id';
export const GRANT_REF = 'grant_ref';

/** The most elements of one batch the checker looks at. */
export const MAX_ELEMENTS = 4096;
