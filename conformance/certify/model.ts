/**
 * The certification report (`report.json`): its TypeBox schema, exported as JSON Schema
 * (docs/certify.md), and the types the writers and `certify verify` share.
 */
import Type, { type Static } from 'typebox';

export const REPORT_FORMAT = 'hyperabi-certify-report/1';
export const CERTIFICATE_FORMAT = 'hyperabi-certificate/1';

const Status = Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('error'), Type.Literal('skip')], {
  description: 'pass; fail: the implementation differs (see checks); error: the harness or target broke; skip: not run (see reason)',
});
const Level = Type.Union([Type.Literal('required'), Type.Literal('recommended')]);
const Count = Type.Integer({ minimum: 0 });
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const CheckRecord = Type.Object(
  {
    step: Type.Integer({ minimum: 1, description: 'The step of the scenario (1-based)' }),
    what: Type.String(),
    expected: Type.String(),
    actual: Type.String(),
    ok: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type CheckRecord = Static<typeof CheckRecord>;

export const ExpectedFailure = Type.Object(
  {
    pattern: Type.String({ description: 'The line of the expected-failures file (an id or a glob)' }),
    reason: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ExpectedFailure = Static<typeof ExpectedFailure>;

export const ScenarioRecord = Type.Object(
  {
    id: Type.String({ description: '<operation id>/<case>' }),
    digest: Type.String({ description: 'sha256 of the scenario as run (canonical JSON): ties the outcome to the scenario text' }),
    family: Type.String(),
    kind: Type.String({ description: 'derived, semantic or xsa' }),
    level: Level,
    doc: Type.String(),
    ref: Type.String(),
    status: Status,
    reason: Type.Optional(Type.String({ description: 'Why it failed, errored or was skipped, in one line' })),
    expectedFailure: Type.Optional(ExpectedFailure),
    unexpectedPass: Type.Optional(Type.Literal(true, { description: 'Listed as an expected failure, and passed' })),
    notClaimed: Type.Optional(
      Type.Literal(true, { description: 'Outside the subset the target declared: not run (status skip), and not counted against the subset certification' }),
    ),
    ms: Type.Number({ minimum: 0 }),
    checks: Type.Array(CheckRecord),
    steps: Type.Optional(Type.Array(Type.Unknown(), { description: 'The scenario steps (for scenarios that did not pass)' })),
    notes: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
export type ScenarioRecord = Static<typeof ScenarioRecord>;

export const Tally = Type.Object(
  {
    total: Count,
    pass: Count,
    fail: Count,
    error: Count,
    skip: Count,
    expectedFailures: Type.Integer({ minimum: 0, description: 'Listed in the expected-failures file and did not pass' }),
    unexpectedPasses: Type.Integer({ minimum: 0, description: 'Listed in the expected-failures file and passed' }),
    notClaimed: Type.Integer({ minimum: 0, description: 'Skipped as outside the subset the target declared (counted in skip too)' }),
  },
  { additionalProperties: false },
);
export type Tally = Static<typeof Tally>;

export const FamilyRow = Type.Object(
  { family: Type.String(), all: Tally, required: Tally },
  { additionalProperties: false },
);
export type FamilyRow = Static<typeof FamilyRow>;

const CoverageItem = Type.Object(
  { id: Type.String(), scenarios: Count, passed: Count },
  { additionalProperties: false, description: 'An operation id, or <operation id> <code> for a declared error' },
);

export const Coverage = Type.Object(
  {
    operations: Type.Object(
      {
        total: Type.Integer({ minimum: 0, description: 'Operation ids in the profile’s scope on its ABI' }),
        exercised: Type.Integer({ minimum: 0, description: 'Called by at least one scenario that ran (call steps, raw hypercalls)' }),
        passed: Type.Integer({ minimum: 0, description: 'Called by at least one scenario that passed' }),
        items: Type.Array(CoverageItem),
        missing: Type.Array(Type.String()),
      },
      { additionalProperties: false },
    ),
    errors: Type.Object(
      {
        total: Type.Integer({ minimum: 0, description: 'Errors the spec declares for those operations on the profile’s ABI' }),
        exercised: Count,
        passed: Count,
        items: Type.Array(CoverageItem),
        missing: Type.Array(Type.String()),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type Coverage = Static<typeof Coverage>;

export const Subset = Type.Object(
  {
    ops: Type.Optional(Type.Array(Type.String(), { description: 'The operation ids (or hypercalls) the target declared it implements (testee hello ops=)' })),
    scenarios: Type.Optional(Type.Array(Type.String(), { description: 'The scenario ids or globs the target declared it claims (testee hello scenarios=)' })),
    operations: Type.Object(
      {
        claimed: Type.Array(Type.String(), { description: 'The operation ids of the profile inside the subset, in profile order' }),
        total: Type.Integer({ minimum: 0, description: 'The operation ids of the profile' }),
      },
      { additionalProperties: false },
    ),
    claimedScenarios: Type.Integer({ minimum: 0, description: 'The scenarios of the profile inside the subset' }),
  },
  { additionalProperties: false, description: 'The subset of the profile the target declared; scenarios outside it are not claimed' },
);
export type Subset = Static<typeof Subset>;

const Summary = Type.Object(
  {
    all: Tally,
    required: Tally,
    recommended: Tally,
    certified: Type.Boolean({
      description: 'Certified for the whole profile: a complete run (no --only), no scenario left out by a declared subset, and every Required scenario passed or was expected not to pass',
    }),
    subsetCertified: Type.Optional(
      Type.Boolean({ description: 'With a declared subset that leaves part of the profile out: a complete run in which every Required scenario inside the subset passed or was expected not to pass' }),
    ),
    verdict: Type.String({ description: 'The verdict in words, e.g. "certified for a subset of <profile>: N of M operations (...)"' }),
  },
  { additionalProperties: false },
);

export const Report = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    format: Type.Literal(REPORT_FORMAT),
    hyperabi: Type.Object({ version: Type.String() }, { additionalProperties: false }),
    spec: Type.Object({ name: Type.String(), hash: Sha256 }, { additionalProperties: false, description: 'hash: sha256 of the exported spec JSON' }),
    suite: Type.Object(
      { hash: Sha256, scenarios: Count },
      { additionalProperties: false, description: 'hash: sha256 over the profile’s scenario ids and digests, in order' },
    ),
    profile: Type.Object({ name: Type.String(), title: Type.String(), abi: Type.String() }, { additionalProperties: false }),
    target: Type.Object(
      { name: Type.String(), spec: Type.String({ description: 'As given to --target' }) },
      { additionalProperties: false },
    ),
    options: Type.Object(
      {
        only: Type.Optional(Type.Array(Type.String(), { description: '--only globs: a partial run, not a certification' })),
        expectFailures: Type.Optional(
          Type.Object({ file: Type.String(), entries: Type.Array(ExpectedFailure) }, { additionalProperties: false }),
        ),
      },
      { additionalProperties: false },
    ),
    host: Type.Object({ node: Type.String(), platform: Type.String(), arch: Type.String() }, { additionalProperties: false }),
    started: Type.String({ format: 'date-time' }),
    finished: Type.String({ format: 'date-time' }),
    durationMs: Type.Number({ minimum: 0 }),
    subset: Type.Optional(Subset),
    summary: Summary,
    families: Type.Array(FamilyRow),
    coverage: Coverage,
    scenarios: Type.Array(ScenarioRecord),
  },
  { additionalProperties: false, $id: 'https://hyperabi.dev/schema/certify-report.json' },
);
export type Report = Static<typeof Report>;

export const Certificate = Type.Object(
  {
    format: Type.Literal(CERTIFICATE_FORMAT),
    hyperabi: Type.String({ description: 'hyperabi version (package.json)' }),
    spec: Type.Object({ name: Type.String(), hash: Sha256 }, { additionalProperties: false }),
    suite: Type.Object({ hash: Sha256, scenarios: Count }, { additionalProperties: false }),
    profile: Type.String(),
    target: Type.String(),
    date: Type.String({ format: 'date-time' }),
    subset: Type.Optional(Subset),
    summary: Type.Object(
      { all: Tally, required: Tally, certified: Type.Boolean(), subsetCertified: Type.Optional(Type.Boolean()), verdict: Type.String() },
      { additionalProperties: false },
    ),
    files: Type.Record(Type.String(), Sha256, { description: 'sha256 of each report file, by name' }),
    digest: Type.String({ description: 'sha256 of this document’s canonical JSON without digest and signature' }),
    signature: Type.Optional(
      Type.Object(
        {
          alg: Type.Union([Type.Literal('hmac-sha256'), Type.Literal('ed25519')]),
          value: Type.String({ description: 'base64 of the MAC or signature over the digest (hex text)' }),
          publicKey: Type.Optional(Type.String({ description: 'ed25519: the signer’s public key (PEM)' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: 'https://hyperabi.dev/schema/certificate.json' },
);
export type Certificate = Static<typeof Certificate>;

/** A JSON Schema document (draft 2020-12) of a TypeBox type. */
export function jsonSchemaOf(schema: object): Record<string, unknown> {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...(JSON.parse(JSON.stringify(schema)) as Record<string, unknown>) };
}

/** The report's JSON Schema (docs/certify.md; written as report.schema.json next to each report). */
export const reportJsonSchema = (): Record<string, unknown> => jsonSchemaOf(Report);
export const certificateJsonSchema = (): Record<string, unknown> => jsonSchemaOf(Certificate);
