/**
 * The meta-model: what a hyperabi spec is.
 *
 * A spec is plain data (JSON-compatible) validated by these TypeBox schemas. Everything
 * downstream (layouts, generators, the reference VMM, conformance, fuzzing) reads specs
 * through these types only.
 *
 * Sections, in the order every spec file uses them: ABIs and architectures, types,
 * constants, hypercalls and their operations with errors, resources, references.
 */
import Type, { type Static } from 'typebox';

// ───────────────────────────── common ─────────────────────────────

/** Where an item comes from upstream: a header, a handler, a document. */
export const Reference = Type.Object(
  {
    header: Type.Optional(Type.String({ description: 'Upstream header path, e.g. xen/include/public/event_channel.h' })),
    handler: Type.Optional(Type.String({ description: 'Upstream handler, e.g. xen/common/event_channel.c:evtchn_send' })),
    doc: Type.Optional(Type.String({ description: 'Upstream document or web reference' })),
  },
  { additionalProperties: false, description: 'Upstream reference of a spec item.' },
);
export type Reference = Static<typeof Reference>;

/** Direction of data behind a pointer, or of a struct field, as seen by the caller. */
export const Direction = Type.Union([Type.Literal('in'), Type.Literal('out'), Type.Literal('inout')], {
  description: 'in: read by the hypervisor; out: written by it; inout: both.',
});
export type Direction = Static<typeof Direction>;

/** A constant value: a number, or a "0x..." hex string when it does not fit in 2^53. */
export const ConstValue = Type.Union([Type.Integer(), Type.String({ pattern: '^-?0x[0-9a-f]+$' })], {
  description: 'Integer value; values beyond ±2^53 are "0x..." hex strings.',
});
export type ConstValue = Static<typeof ConstValue>;

// ───────────────────────────── ABIs ─────────────────────────────

/** Size and alignment of one scalar C type under an architecture's data model. */
export const ScalarLayout = Type.Object(
  { size: Type.Integer({ minimum: 0 }), align: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export type ScalarLayout = Static<typeof ScalarLayout>;

/**
 * An architecture's data model: the C layout rules that struct layouts are computed with.
 * Several ABIs can share one (x86_64 PV and x86_64 HVM share `x86_64`).
 */
export const Arch = Type.Object(
  {
    name: Type.String({ description: 'e.g. x86_64, x86_32, arm64, arm32' }),
    family: Type.String({ description: 'Architecture family for per-family overrides: x86, arm, i386' }),
    doc: Type.String(),
    endianness: Type.Union([Type.Literal('little'), Type.Literal('big')]),
    wordSize: Type.Integer({ description: 'Machine word (register) size in bytes' }),
    pointerSize: Type.Integer(),
    scalars: Type.Record(Type.String(), ScalarLayout, {
      description: 'Size and in-struct alignment of every scalar type name (C spelling)',
    }),
    handle: ScalarLayout,
    handle64: ScalarLayout,
    emptyStructSize: Type.Integer({ description: 'sizeof an empty struct (GNU C: 0)' }),
    ref: Type.Optional(Reference),
  },
  { additionalProperties: false },
);
export type Arch = Static<typeof Arch>;

/** How a hypercall is entered under an ABI. */
export const EntryMechanism = Type.Object(
  {
    kind: Type.Union([Type.Literal('hypercall-page'), Type.Literal('trap'), Type.Literal('rom-call')]),
    instruction: Type.String({ description: 'The trap instruction, e.g. syscall, int $0x82, vmcall, hvc #0xEA1' }),
    encoding: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 255 }))),
    immediate: Type.Optional(Type.Integer({ description: 'Immediate operand that marks a hypercall (Arm: 0xEA1)' })),
    stubSize: Type.Optional(Type.Integer({ description: 'Bytes per hypercall-page entry: call page + nr*stubSize' })),
    doc: Type.String(),
  },
  { additionalProperties: false },
);
export type EntryMechanism = Static<typeof EntryMechanism>;

/** A register-level calling convention. */
export const CallingConvention = Type.Object(
  {
    number: Type.String({ description: 'Register carrying the hypercall number' }),
    args: Type.Array(Type.String(), { description: 'Argument registers in order' }),
    result: Type.String(),
    clobbers: Type.Array(Type.String()),
    entry: EntryMechanism,
    split64: Type.Union([Type.Literal('none'), Type.Literal('lo-hi')], {
      description: 'How a 64-bit argument travels when wider than a register',
    }),
    doc: Type.String(),
  },
  { additionalProperties: false },
);
export type CallingConvention = Static<typeof CallingConvention>;

/** An ABI: an architecture data model plus a calling convention. */
export const Abi = Type.Object(
  {
    name: Type.String({ description: 'e.g. x86_64-pv, x86_32-pv, x86_64-hvm, x86_32-hvm, arm64, arm32' }),
    arch: Type.String({ description: 'Name of the Arch whose data model this ABI uses' }),
    doc: Type.String(),
    convention: CallingConvention,
    ref: Type.Optional(Reference),
  },
  { additionalProperties: false },
);
export type Abi = Static<typeof Abi>;

// ───────────────────────────── types ─────────────────────────────

const TypeRefDefs = {
  TypeRef: Type.Union(
    [
      Type.Object(
        { kind: Type.Literal('name'), name: Type.String({ description: 'A scalar or a declared type, C spelling' }) },
        { additionalProperties: false },
      ),
      Type.Object(
        { kind: Type.Literal('handle'), to: Type.Ref('TypeRef'), width: Type.Optional(Type.Literal(64)) },
        { additionalProperties: false, description: 'XEN_GUEST_HANDLE(T) (width 64: XEN_GUEST_HANDLE_64)' },
      ),
      Type.Object(
        { kind: Type.Literal('pointer'), to: Type.Ref('TypeRef') },
        { additionalProperties: false, description: 'A plain pointer (register argument)' },
      ),
      Type.Object(
        {
          kind: Type.Literal('array'),
          of: Type.Ref('TypeRef'),
          length: Type.Union([Type.Integer({ minimum: 0 }), Type.String()], {
            description: 'Element count, or the name of a constant giving it',
          }),
        },
        { additionalProperties: false },
      ),
      Type.Object(
        {
          kind: Type.Union([Type.Literal('struct'), Type.Literal('union')]),
          fields: Type.Array(Type.Ref('Field')),
          align: Type.Optional(Type.Integer()),
          packed: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false, description: 'An anonymous inline struct or union' },
      ),
    ],
    { description: 'A reference to a type' },
  ),
  Field: Type.Object(
    {
      name: Type.String({ description: 'Member name; empty for a C11 anonymous struct or union member' }),
      type: Type.Ref('TypeRef'),
      dir: Type.Optional(Direction),
      doc: Type.String(),
      count: Type.Optional(Type.String({ description: 'Sibling field giving the element count behind this handle' })),
      values: Type.Optional(
        Type.String({ description: 'Constant group whose values the field takes (an enum) or whose flags it combines' }),
      ),
      align: Type.Optional(Type.Integer({ description: 'Explicit __attribute__((aligned(N)))' })),
      arches: Type.Optional(Type.Array(Type.String(), { description: 'Present only on these arches or families' })),
    },
    { additionalProperties: false },
  ),
};

export const TypeRef = Type.Cyclic(TypeRefDefs, 'TypeRef');
export type TypeRef = Static<typeof TypeRef>;
export const Field = Type.Cyclic(TypeRefDefs, 'Field');
export type Field = Static<typeof Field>;

/** The body of a named type; per-arch overrides replace it whole. */
export const TypeBody = Type.Object(
  {
    kind: Type.Union([Type.Literal('struct'), Type.Literal('union'), Type.Literal('typedef')]),
    fields: Type.Optional(Type.Array(Field)),
    target: Type.Optional(TypeRef),
    packed: Type.Optional(Type.Boolean()),
    align: Type.Optional(Type.Integer({ description: 'Explicit alignment attribute' })),
  },
  { additionalProperties: false },
);
export type TypeBody = Static<typeof TypeBody>;

/** A computed layout (filled in by export, never written by hand). */
export const ComputedLayout = Type.Object(
  {
    size: Type.Integer({ minimum: 0 }),
    align: Type.Integer({ minimum: 1 }),
    fields: Type.Record(
      Type.String(),
      Type.Object(
        { offset: Type.Integer({ minimum: 0 }), size: Type.Integer({ minimum: 0 }), align: Type.Integer({ minimum: 1 }) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ComputedLayout = Static<typeof ComputedLayout>;

/** A named type: struct, union or typedef, in its C spelling ("struct evtchn_send", "domid_t"). */
export const TypeDef = Type.Object(
  {
    name: Type.String(),
    family: Type.String(),
    doc: Type.String(),
    body: TypeBody,
    overrides: Type.Optional(
      Type.Record(Type.String(), TypeBody, { description: 'Per arch (x86_32) or family (arm) replacement body' }),
    ),
    arches: Type.Optional(Type.Array(Type.String(), { description: 'Defined only on these arches or families' })),
    aliases: Type.Optional(Type.Array(Type.String(), { description: 'Typedef names of the same type, e.g. evtchn_send_t' })),
    declaredSize: Type.Optional(
      Type.Record(Type.String(), Type.Integer(), { description: 'Sizes the upstream headers or docs state, per arch' }),
    ),
    probe: Type.Optional(
      Type.Boolean({ description: 'false: not checkable against the headers (e.g. declared only in prose)' }),
    ),
    layout: Type.Optional(
      Type.Record(Type.String(), ComputedLayout, {
        description: 'Computed layout per arch, present in exported documents (derived, never written by hand)',
      }),
    ),
    ref: Reference,
  },
  { additionalProperties: false },
);
export type TypeDef = Static<typeof TypeDef>;

// ───────────────────────────── constants ─────────────────────────────

export const Constant = Type.Object(
  {
    name: Type.String({ description: 'Name as in the headers' }),
    value: ConstValue,
    doc: Type.String(),
    perArch: Type.Optional(Type.Record(Type.String(), ConstValue, { description: 'Value per arch or family' })),
    arches: Type.Optional(Type.Array(Type.String())),
    bit: Type.Optional(Type.Integer({ description: 'For a flag: its bit number' })),
    tools: Type.Optional(Type.Boolean({ description: 'Visible only to the toolstack (__XEN_TOOLS__)' })),
    deprecated: Type.Optional(Type.String()),
    probe: Type.Optional(Type.Boolean({ description: 'false: not checkable against the headers' })),
  },
  { additionalProperties: false },
);
export type Constant = Static<typeof Constant>;

/** A set of related constants: sub-op numbers, an enum, a flag word or plain values. */
export const ConstantGroup = Type.Object(
  {
    name: Type.String({ description: 'Group name, usually the common prefix (EVTCHNOP, GTF, XEN_E)' }),
    family: Type.String(),
    kind: Type.Union([
      Type.Literal('subops'),
      Type.Literal('enum'),
      Type.Literal('flags'),
      Type.Literal('values'),
      Type.Literal('errno'),
      Type.Literal('status'),
      Type.Literal('hypercalls'),
    ]),
    doc: Type.String(),
    type: Type.Optional(Type.String({ description: 'C type that carries the values, when one is named' })),
    members: Type.Array(Constant),
    ref: Reference,
  },
  { additionalProperties: false },
);
export type ConstantGroup = Static<typeof ConstantGroup>;

// ───────────────────────────── errors and resources ─────────────────────────────

/** A machine-usable condition that produces an error. */
export const Trigger = Type.Union(
  [
    Type.Object(
      {
        kind: Type.Literal('value'),
        path: Type.String({ description: 'Argument or field path: arg name, or <arg>.<field>' }),
        op: Type.Union([
          Type.Literal('eq'),
          Type.Literal('ne'),
          Type.Literal('lt'),
          Type.Literal('le'),
          Type.Literal('gt'),
          Type.Literal('ge'),
          Type.Literal('mask'),
        ]),
        value: ConstValue,
        doc: Type.Optional(Type.String()),
      },
      { additionalProperties: false, description: 'An argument or field compared with a value (mask: any bit set)' },
    ),
    Type.Object(
      {
        kind: Type.Literal('resource'),
        path: Type.String(),
        resource: Type.String(),
        state: Type.String({ description: 'e.g. unallocated, free, wrong-state, foreign, stale, out-of-range' }),
      },
      { additionalProperties: false, description: 'A handle argument whose resource is in a given state' },
    ),
    Type.Object(
      {
        kind: Type.Literal('fault'),
        path: Type.String({ description: 'The pointer argument or handle field that is unreadable or unwritable' }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      { kind: Type.Literal('privilege'), need: Type.String({ description: 'e.g. control-domain, hardware-domain' }) },
      { additionalProperties: false },
    ),
    Type.Object(
      { kind: Type.Literal('state'), state: Type.String({ description: 'A named machine state, described in the doc' }) },
      { additionalProperties: false },
    ),
  ],
  { description: 'What argument or state produces an error' },
);
export type Trigger = Static<typeof Trigger>;

/** An error an operation can return. */
export const ErrorDecl = Type.Object(
  {
    code: Type.String({ description: 'An errno name (EINVAL) or a status name (GNTST_bad_domain)' }),
    via: Type.Optional(
      Type.Union([Type.Literal('return'), Type.Literal('status')], {
        description: 'return: the hypercall result (default); status: a status field in the struct',
      }),
    ),
    when: Type.String({ description: 'The condition, in words' }),
    trigger: Type.Optional(Trigger),
    abis: Type.Optional(
      Type.Array(Type.String(), { description: 'Only callers of these ABIs, arches or families get this error (default: all)' }),
    ),
  },
  { additionalProperties: false },
);
export type ErrorDecl = Static<typeof ErrorDecl>;

/** A kind of handle that operations produce and consume. */
export const Resource = Type.Object(
  {
    name: Type.String({ description: 'e.g. domid, evtchn_port, grant_ref, grant_handle, gfn, mfn, vcpu_id' }),
    family: Type.String(),
    type: Type.String({ description: 'The C type carrying it' }),
    doc: Type.String(),
    special: Type.Optional(
      Type.Array(Type.Object({ name: Type.String(), doc: Type.String() }, { additionalProperties: false }), {
        description: 'Constants of the resource type that name something special (DOMID_SELF)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type Resource = Static<typeof Resource>;

export const ResourceUse = Type.Object(
  {
    resource: Type.String(),
    path: Type.String({ description: 'Where the handle travels: arg name or <arg>.<field>' }),
    doc: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ResourceUse = Static<typeof ResourceUse>;

// ───────────────────────────── hypercalls ─────────────────────────────

/** A register argument of a hypercall. */
export const Arg = Type.Object(
  {
    name: Type.String(),
    type: TypeRef,
    dir: Type.Optional(Direction),
    count: Type.Optional(Type.String({ description: 'Argument giving the element count behind this pointer' })),
    values: Type.Optional(
      Type.String({ description: 'Constant group whose values the argument takes (an enum) or whose flags it combines' }),
    ),
    register: Type.Optional(
      Type.String({
        description:
          'Where the value travels under the ABI convention, when the spec states it: a register (eax), a hi:lo register ' +
          'pair (edx:eax), or a stack slot counted in words from the first stacked argument (stack[0], stack[1]:stack[0])',
      }),
    ),
    doc: Type.String(),
  },
  { additionalProperties: false },
);
export type Arg = Static<typeof Arg>;

export const Privilege = Type.Union(
  [
    Type.Literal('any'),
    Type.Literal('control-domain'),
    Type.Literal('hardware-domain'),
    Type.Literal('device-model'),
    Type.Literal('target-or-privileged'),
  ],
  { description: 'Who may make the call under Xen’s default (dummy XSM) policy' },
);
export type Privilege = Static<typeof Privilege>;

export const Deprecation = Type.Object(
  { since: Type.Optional(Type.String()), replacedBy: Type.Optional(Type.String()), doc: Type.String() },
  { additionalProperties: false },
);
export type Deprecation = Static<typeof Deprecation>;

/** How the reference VMM stands to an operation it does not implement (it then answers -ENOSYS). */
export const ReferenceVmmStatus = Type.Object(
  {
    implemented: Type.Literal(false),
    reason: Type.String({ description: 'Why the reference VMM does not implement it' }),
  },
  { additionalProperties: false },
);
export type ReferenceVmmStatus = Static<typeof ReferenceVmmStatus>;

/** One operation of a multiplexed hypercall, selected by a command value. */
export const Operation = Type.Object(
  {
    name: Type.String({ description: 'Constant name of the command, e.g. EVTCHNOP_send' }),
    value: Type.Integer(),
    doc: Type.String(),
    arg: Type.Optional(
      Type.Union([TypeRef, Type.Null()], { description: 'What the pointer argument carries; null: nothing' }),
    ),
    argDir: Type.Optional(Direction),
    errors: Type.Array(ErrorDecl),
    produces: Type.Optional(Type.Array(ResourceUse)),
    consumes: Type.Optional(Type.Array(ResourceUse)),
    privilege: Type.Optional(Privilege),
    abis: Type.Optional(Type.Array(Type.String(), { description: 'Only these ABIs (or arch families) have it' })),
    arches: Type.Optional(
      Type.Array(Type.String(), { description: 'Arches or families whose headers define the command constant (default: all)' }),
    ),
    tools: Type.Optional(Type.Boolean()),
    deprecated: Type.Optional(Deprecation),
    referenceVmm: Type.Optional(ReferenceVmmStatus),
    ref: Reference,
  },
  { additionalProperties: false },
);
export type Operation = Static<typeof Operation>;

/** How a multiplexed hypercall selects its operation. */
export const SubopTable = Type.Object(
  {
    selector: Type.String({
      description: 'The argument (cmd) or, for batched calls, the element field (uops[].cmd) that selects',
    }),
    mask: Type.Optional(Type.Integer({ description: 'Bits of the selector that hold the command' })),
    group: Type.String({ description: 'Constant group of the command values' }),
    argument: Type.Optional(Type.String({ description: 'The pointer argument that carries the operation struct' })),
    ops: Type.Array(Operation),
  },
  { additionalProperties: false },
);
export type SubopTable = Static<typeof SubopTable>;

/** How an ABI reaches a hypercall. */
export const Handler = Type.Union(
  [Type.Literal('native'), Type.Literal('compat'), Type.Literal('hvm-filter'), Type.Literal('arm')],
  { description: 'native: do_*; compat: 32-bit translation; hvm-filter: HVM subset; arm: Arm handler' },
);
export type Handler = Static<typeof Handler>;

export const Hypercall = Type.Object(
  {
    name: Type.String(),
    number: Type.Integer({ minimum: 0 }),
    family: Type.String(),
    doc: Type.String(),
    abis: Type.Record(Type.String(), Handler, { description: 'ABIs that have the call, and how' }),
    args: Type.Array(Arg),
    argsByAbi: Type.Optional(
      Type.Record(Type.String(), Type.Array(Arg), { description: 'Per-ABI (or per-arch) argument lists' }),
    ),
    returns: Type.Object({ type: TypeRef, doc: Type.String() }, { additionalProperties: false }),
    privilege: Privilege,
    deprecated: Type.Optional(Deprecation),
    interface: Type.Optional(
      Type.Object(
        { min: Type.Optional(Type.Integer()), max: Type.Optional(Type.Integer()), doc: Type.String() },
        { additionalProperties: false, description: '__XEN_INTERFACE_VERSION__ gate' },
      ),
    ),
    numberConstant: Type.Optional(
      Type.Object(
        {
          header: Type.Optional(Type.String({ description: 'Header defining __HYPERVISOR_<name> when not the spec’s main one' })),
          arches: Type.Optional(Type.Array(Type.String())),
          public: Type.Optional(Type.Boolean({ description: 'false: the number has no macro in the public headers' })),
        },
        { additionalProperties: false, description: 'Where the number’s __HYPERVISOR_<name> macro is defined' },
      ),
    ),
    subops: Type.Optional(SubopTable),
    errors: Type.Array(ErrorDecl, { description: 'Errors of the call itself (any operation)' }),
    produces: Type.Optional(Type.Array(ResourceUse)),
    consumes: Type.Optional(Type.Array(ResourceUse)),
    results: Type.Optional(
      Type.Array(Arg, {
        description: 'Values the call leaves in registers besides `returns` (e.g. CPUID: eax, ebx, ecx, edx), with `register` set',
      }),
    ),
    clobbers: Type.Optional(
      Type.Array(Type.String(), { description: 'Registers (and flags) this call may change, when narrower or wider than the convention’s' }),
    ),
    noReturn: Type.Optional(Type.Boolean({ description: 'The call does not return to its caller (IRET, SYSEXIT)' })),
    referenceVmm: Type.Optional(ReferenceVmmStatus),
    ref: Reference,
  },
  { additionalProperties: false },
);
export type Hypercall = Static<typeof Hypercall>;

// ───────────────────────────── discovery ─────────────────────────────

/** One test a guest applies to a candidate image while discovering an interface in memory. */
export const DiscoveryCheck = Type.Union(
  [
    Type.Object(
      {
        kind: Type.Literal('field'),
        at: Type.Optional(
          Type.String({ description: 'Field of the header struct holding the offset (from the image start) of `type`; absent: the header itself' }),
        ),
        type: Type.Optional(Type.String({ description: 'Struct found at `at` (default: the discovery header type)' })),
        field: Type.String({ description: 'Field compared, a path into the struct' }),
        op: Type.Union([Type.Literal('eq'), Type.Literal('ne'), Type.Literal('ge'), Type.Literal('le')]),
        value: Type.Union([ConstValue, Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' })], {
          description: 'A number, or the name of a constant of the spec',
        }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('string'),
        at: Type.String({ description: 'Field of the header holding the offset of a NUL-terminated string' }),
        oneOf: Type.Array(Type.String(), { description: 'Accepted strings, compared exactly' }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('checksum'),
        lengthField: Type.String({ description: 'Header field giving the image length in `unit` bytes' }),
        unit: Type.Integer({ minimum: 1 }),
      },
      { additionalProperties: false, description: 'The bytes of the image sum to 0 modulo 256' },
    ),
  ],
  { description: 'What is tested' },
);
export type DiscoveryCheck = Static<typeof DiscoveryCheck>;

/** A named check with its outcome on failure. */
export const DiscoveryRule = Type.Object(
  {
    name: Type.String(),
    check: DiscoveryCheck,
    onFail: Type.Union([Type.Literal('reject'), Type.Literal('warn')], {
      description: 'reject: the candidate is skipped; warn: it is still used',
    }),
    reason: Type.String({ description: 'What the guest reports when the check fails' }),
    doc: Type.String(),
    ref: Type.Optional(Reference),
  },
  { additionalProperties: false },
);
export type DiscoveryRule = Static<typeof DiscoveryRule>;

/** How a guest finds an interface in its physical memory: where it scans and what it checks, in order. */
export const Discovery = Type.Object(
  {
    name: Type.String(),
    doc: Type.String(),
    region: Type.Object(
      {
        start: Type.Integer({ minimum: 0 }),
        end: Type.Integer({ minimum: 0, description: 'First address not scanned' }),
        step: Type.Integer({ minimum: 1 }),
      },
      { additionalProperties: false, description: 'Candidate addresses: start, start+step, ... below end' },
    ),
    header: Type.String({ description: 'The struct at each candidate address' }),
    rules: Type.Array(DiscoveryRule, { description: 'Checks in the order the guest applies them; the first candidate passing every reject rule wins' }),
    ref: Reference,
  },
  { additionalProperties: false },
);
export type Discovery = Static<typeof Discovery>;

// ───────────────────────────── interfaces (operation tables and their implementations) ─────────────────────────────

/** An implementation strategy that interface members can use, and where its references resolve. */
export const Backend = Type.Object(
  {
    name: Type.String({ description: 'e.g. native, vmi, xen, lguest; the prefix of references (`xen:mmuext_op$MMUEXT_PIN_L1_TABLE`)' }),
    doc: Type.String(),
    spec: Type.Optional(Type.String({ description: 'Built-in spec whose operation ids the references name' })),
    group: Type.Optional(Type.String({ description: 'Constant group of this spec whose names the references name' })),
  },
  { additionalProperties: false },
);
export type Backend = Static<typeof Backend>;

/** One call an implementation makes, with how the member's arguments map onto it. */
export const ImplCall = Type.Object(
  {
    ref: Type.String({ description: '<backend>:<operation id>, e.g. vmi:SetPxE, xen:mmuext_op$MMUEXT_PIN_L1_TABLE, lguest:LHCALL_SET_PTE' }),
    args: Type.Optional(Type.Array(Type.String(), { description: 'Argument expressions in the callee’s order, over the member’s parameters' })),
    when: Type.Optional(Type.String({ description: 'Condition under which this call is made' })),
  },
  { additionalProperties: false },
);
export type ImplCall = Static<typeof ImplCall>;

/** How one backend implements one interface member. */
export const Implementation = Type.Object(
  {
    backend: Type.String(),
    kind: Type.Union(
      [
        Type.Literal('instructions'),
        Type.Literal('call'),
        Type.Literal('shared-memory'),
        Type.Literal('nop'),
        Type.Literal('value'),
        Type.Literal('default'),
        Type.Literal('code'),
      ],
      {
        description:
          'instructions: a native sequence; call: calls into the backend (calls); shared-memory: reads or writes a page shared ' +
          'with the hypervisor, no call; nop: does nothing; value: a data member’s value; default: keeps the native one; code: ' +
          'other guest code, described in doc',
      },
    ),
    instructions: Type.Optional(Type.Array(Type.String(), { description: 'Native instruction sequence (AT&T syntax)' })),
    calls: Type.Optional(Type.Array(ImplCall)),
    value: Type.Optional(Type.Union([ConstValue, Type.String()])),
    patched: Type.Optional(Type.Boolean({ description: 'Call sites are rewritten inline rather than called through the pointer' })),
    doc: Type.String(),
  },
  { additionalProperties: false },
);
export type Implementation = Static<typeof Implementation>;

/** One member of an operation table: a function pointer or a data field. */
export const InterfaceMember = Type.Object(
  {
    name: Type.String(),
    kind: Type.Union([Type.Literal('function'), Type.Literal('data'), Type.Literal('jump-target'), Type.Literal('callee-save')], {
      description: 'function: called through the pointer; data: a value; jump-target: jumped to, never called; callee-save: preserves all registers but the result',
    }),
    signature: Type.String({ description: 'C signature, e.g. void (pte_t *ptep, pte_t pteval)' }),
    doc: Type.String(),
    arches: Type.Optional(Type.Array(Type.String(), { description: 'Present only in these builds (x86_32, x86_64, pae)' })),
    implementations: Type.Array(Implementation),
    ref: Type.Optional(Reference),
  },
  { additionalProperties: false },
);
export type InterfaceMember = Static<typeof InterfaceMember>;

/** An operation table (Linux pv_cpu_ops...): members and how each backend implements them. */
export const InterfaceGroup = Type.Object(
  {
    name: Type.String(),
    doc: Type.String(),
    members: Type.Array(InterfaceMember),
    ref: Reference,
  },
  { additionalProperties: false },
);
export type InterfaceGroup = Static<typeof InterfaceGroup>;

// ───────────────────────────── the spec ─────────────────────────────

export const Family = Type.Object(
  { name: Type.String(), doc: Type.String(), ref: Reference },
  { additionalProperties: false },
);
export type Family = Static<typeof Family>;

export const ErrorSpace = Type.Object(
  {
    via: Type.Union([Type.Literal('return'), Type.Literal('status')]),
    group: Type.String({ description: 'Constant group holding the codes' }),
    prefix: Type.String({ description: 'Prefix added to a code to get the constant name (XEN_ for EINVAL)' }),
    negate: Type.Boolean({ description: 'The guest sees the negated value' }),
  },
  { additionalProperties: false },
);
export type ErrorSpace = Static<typeof ErrorSpace>;

export const Spec = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: Type.String(),
    title: Type.String(),
    version: Type.String(),
    doc: Type.String(),
    ref: Reference,
    arches: Type.Array(Arch),
    abis: Type.Array(Abi),
    families: Type.Array(Family),
    types: Type.Array(TypeDef),
    constants: Type.Array(ConstantGroup),
    hypercalls: Type.Array(Hypercall),
    resources: Type.Array(Resource),
    errorSpaces: Type.Array(ErrorSpace),
    discovery: Type.Optional(Type.Array(Discovery, { description: 'How a guest finds the interface in memory' })),
    backends: Type.Optional(Type.Array(Backend, { description: 'Backends that `interfaces` implementations name' })),
    interfaces: Type.Optional(Type.Array(InterfaceGroup, { description: 'Operation tables and their implementations per backend' })),
  },
  { additionalProperties: false, $id: 'https://hyperabi.dev/schema/spec.json', title: 'hyperabi spec' },
);
export type Spec = Static<typeof Spec>;
