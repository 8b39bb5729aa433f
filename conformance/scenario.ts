/**
 * Conformance scenarios: the data format (docs/scenarios.md).
 *
 * A scenario is a machine (domains with their ABI, memory and privilege) and a sequence of
 * steps: typed calls by operation id, raw hypercalls by number and arguments, guest memory
 * writes and expected reads, event expectations, and clock advances. Values are numbers or
 * expression strings (conformance/expr.ts): `@0x100` (an address in the domain's data
 * area), `$port` (a value saved by an earlier step), `frame(2)`, `pte(2, 0x67)`, constant
 * names from the spec (`DOMID_SELF`, `GNTST_bad_handle`, `-EINVAL`), combined with `|` and `+`.
 *
 * Scenarios are files (YAML or JSON, one scenario or a list) or are derived from the spec
 * (conformance/derive.ts); the TypeBox schema below is exported as JSON Schema by
 * `hyperabi conformance schema`.
 */
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { parse as parseYaml } from 'yaml';

/** A value: an integer, or an expression string. */
export const Value = Type.Union([Type.Integer(), Type.String()], { description: 'An integer or an expression: @off, $name, frame(n), pte(n, flags), CONSTANT, -ERRNO, a | b, a + b' });
export type Value = Static<typeof Value>;

/** A struct value: fields by name (nested structs as objects, arrays as lists). */
export const Fields = Type.Record(Type.String(), Type.Unknown(), { description: 'Fields by name; nested structs are objects, arrays lists' });

const Who = {
  domain: Type.Optional(Type.Integer({ minimum: 0, description: 'The calling domain (default: the first of the machine)' })),
  vcpu: Type.Optional(Type.Integer({ minimum: 0, description: 'The calling vCPU (default 0)' })),
};

/** What a call must return. */
export const ResultExpectation = Type.Union([
  Value,
  Type.Literal('ok', { description: 'Not an error: the signed result is not in -4095..-1' }),
  Type.Literal('any', { description: 'Anything (the step is there for its effect)' }),
]);

export const CallExpect = Type.Union([
  ResultExpectation,
  Type.Object(
    {
      result: Type.Optional(ResultExpectation),
      arg: Type.Optional(Fields),
    },
    { additionalProperties: false },
  ),
]);

export const CallStep = Type.Object(
  {
    call: Type.String({ description: 'Operation id: <hypercall> or <hypercall>$<SUBOP>' }),
    ...Who,
    arg: Type.Optional(Fields),
    args: Type.Optional(Type.Array(Value, { description: "The stub's other parameters in order" })),
    at: Type.Optional(Value),
    expect: Type.Optional(CallExpect),
    save: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'name → arg.<field>: a value the hypervisor wrote, for later steps ($name)' })),
    doc: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const RawStep = Type.Object(
  {
    hypercall: Type.Object(
      { nr: Value, args: Type.Optional(Type.Array(Value)) },
      { additionalProperties: false, description: 'Hypercall number and argument values, placed in the registers of the caller’s ABI' },
    ),
    ...Who,
    expect: Type.Optional(ResultExpectation),
    doc: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const Bytes = {
  hex: Type.Optional(Type.String({ pattern: '^([0-9a-fA-F]{2})*$' })),
  text: Type.Optional(Type.String()),
  u8: Type.Optional(Type.Array(Value)),
  u16: Type.Optional(Type.Array(Value)),
  u32: Type.Optional(Type.Array(Value)),
  u64: Type.Optional(Type.Array(Value)),
};

export const WriteStep = Type.Object(
  {
    write: Type.Object({ domain: Type.Optional(Type.Integer({ minimum: 0 })), at: Value, ...Bytes }, { additionalProperties: false }),
    doc: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const MemoryStep = Type.Object(
  {
    memory: Type.Object(
      { domain: Type.Optional(Type.Integer({ minimum: 0 })), at: Value, ...Bytes, fault: Type.Optional(Type.Boolean()) },
      { additionalProperties: false, description: 'Expected guest memory: these bytes at this address (or, with fault: true, not accessible)' },
    ),
    doc: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const EventStep = Type.Object(
  {
    event: Type.Object(
      {
        domain: Type.Optional(Type.Integer({ minimum: 0 })),
        port: Value,
        pending: Type.Optional(Type.Boolean()),
        masked: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false, description: "The port's pending and mask bits in the domain's shared_info" },
    ),
    doc: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const AdvanceStep = Type.Object({ advance: Value, doc: Type.Optional(Type.String()) }, { additionalProperties: false });

export const Step = Type.Union([CallStep, RawStep, WriteStep, MemoryStep, EventStep, AdvanceStep]);
export type Step = Static<typeof Step>;
export type CallStep = Static<typeof CallStep>;
export type RawStep = Static<typeof RawStep>;

export const ScenarioDomain = Type.Object(
  {
    id: Type.Integer({ minimum: 0, maximum: 32751 }),
    abi: Type.String(),
    memoryPages: Type.Optional(Type.Integer({ minimum: 4, maximum: 4096, description: 'Pages of the data area (default 16)' })),
    vcpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    privileged: Type.Optional(Type.Boolean()),
    maxEvtchnPort: Type.Optional(Type.Integer({ minimum: 0 })),
    maxPages: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536, description: "Most pages the domain may own (Xen's max_pages, the toolstack's maxmem; default memoryPages)" })),
  },
  { additionalProperties: false },
);
export type ScenarioDomain = Static<typeof ScenarioDomain>;

export const Level = Type.Union([Type.Literal('required'), Type.Literal('recommended')]);
export type Level = Static<typeof Level>;

export const Scenario = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z_0-9]+(\\$[A-Za-z_0-9]+)?/[a-z0-9][a-z0-9._-]*$', description: '<operation id>/<case>' }),
    doc: Type.String({ minLength: 1 }),
    ref: Type.String({ minLength: 1, description: 'Upstream reference: handler, header, or advisory (XSA-nnn)' }),
    kind: Type.Union([Type.Literal('derived'), Type.Literal('semantic'), Type.Literal('xsa')]),
    family: Type.String({ description: 'The spec family (event_channel, grant_table, ...)' }),
    level: Type.Optional(Level),
    profiles: Type.Optional(Type.Array(Type.String(), { description: 'Profiles that claim this scenario (default: by family and ABI)' })),
    /** Why a target cannot be compared on this scenario, by target kind (e.g. live-xen). */
    limits: Type.Optional(Type.Record(Type.String(), Type.String())),
    covers: Type.Optional(
      Type.Array(
        Type.Object(
          {
            op: Type.String({ description: 'Operation id (or hypercall name, for an error of the hypercall itself)' }),
            code: Type.String({ description: 'The declared error code (errno name or status name) the scenario exercises' }),
          },
          { additionalProperties: false },
        ),
        { description: 'The declared errors this scenario exercises; a passing scenario counts them in the coverage table' },
      ),
    ),
    machine: Type.Object(
      {
        domains: Type.Array(ScenarioDomain, { minItems: 1 }),
        preemptEvery: Type.Optional(
          Type.Integer({
            minimum: 1,
            description: "Reference VMM only: Xen's preemption check answers yes at every n-th check of a call, so long operations go through continuations (other targets preempt when they do)",
          }),
        ),
      },
      { additionalProperties: false },
    ),
    steps: Type.Array(Step, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type Scenario = Static<typeof Scenario>;

const checkScenario = Compile(Scenario);

/** A bad scenario file or document: where, and what. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
  }
}

/** Validates one scenario document; `where` names the file (and index) for errors. */
export function validateScenario(doc: unknown, where: string): Scenario {
  if (checkScenario.Check(doc)) {
    const s = doc as Scenario;
    const ids = new Set(s.machine.domains.map((d) => d.id));
    if (ids.size !== s.machine.domains.length) throw new ScenarioError(`${where} (${s.id})`, 'machine.domains: two domains share an id');
    s.steps.forEach((st, i) => {
      const dom = 'domain' in st ? st.domain : (Object.values(st)[0] as { domain?: number } | undefined)?.domain;
      if (typeof dom === 'number' && !ids.has(dom)) throw new ScenarioError(`${where} (${s.id}) step ${i + 1}`, `no domain ${dom} in the machine`);
    });
    return s;
  }
  const first = [...checkScenario.Errors(doc)].slice(0, 3);
  const id = typeof doc === 'object' && doc !== null && 'id' in doc ? ` (${String((doc as { id: unknown }).id)})` : '';
  throw new ScenarioError(`${where}${id}`, first.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ') || 'not a scenario');
}

/** Parses a YAML or JSON text of one scenario or a list of them. */
export function parseScenarios(text: string, where: string): Scenario[] {
  let doc: unknown;
  try {
    doc = where.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ScenarioError(where, `not ${where.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  const list = Array.isArray(doc) ? doc : [doc];
  return list.map((d, i) => validateScenario(d, list.length > 1 ? `${where}[${i}]` : where));
}
