/**
 * Builds the certification report from a profile's scenarios and their outcomes, and
 * recomputes its summary (the writer and `certify verify` use the same functions).
 */
import type { Spec } from '../../spec/model.js';
import type { Profile, ProfileEntry } from '../profiles.js';
import type { Outcome } from '../runner.js';
import { specCoverage } from './coverage.js';
import { hyperabiVersion, scenarioDigest, specHash, suiteHash } from './digest.js';
import { expectationFor } from './expect.js';
import { REPORT_FORMAT, type ExpectedFailure, type FamilyRow, type Report, type ScenarioRecord, type Subset, type Tally } from './model.js';
import { leavesOut, notClaimedReason, subsetRecord, subsetWords } from './subset.js';
import type { Subset as Declared } from '../protocol/subset.js';

export interface ReportInput {
  spec: Spec;
  profile: Profile;
  entries: readonly ProfileEntry[];
  /** One per entry, in the same order. */
  outcomes: readonly Outcome[];
  target: { name: string; spec: string };
  expectFailures?: { file: string; entries: ExpectedFailure[] };
  only?: string[];
  /** The subset the target declared (a testee's hello ops= and scenarios=); the outcomes of scenarios outside it are ignored. */
  subset?: Declared;
  started: Date;
  finished: Date;
}

export const emptyTally = (): Tally => ({ total: 0, pass: 0, fail: 0, error: 0, skip: 0, expectedFailures: 0, unexpectedPasses: 0, notClaimed: 0 });

type Counted = Pick<ScenarioRecord, 'status' | 'expectedFailure' | 'notClaimed'>;

/** Adds one scenario record to a tally. */
export function count(t: Tally, r: Counted): void {
  t.total++;
  t[r.status]++;
  if (r.notClaimed) t.notClaimed++;
  if (r.expectedFailure) {
    if (r.status === 'pass') t.unexpectedPasses++;
    else t.expectedFailures++;
  }
}

/** Whether a scenario record does not count against the run: passed, listed and did not pass, or outside the declared subset. */
export const acceptable = (r: Counted): boolean => r.status === 'pass' || r.expectedFailure !== undefined || r.notClaimed === true;

/** What the verdict is about: the profile's name and the declared subset, if any. */
export interface VerdictContext {
  profile: string;
  subset?: Subset;
}

/** The summary and per-family table of a list of scenario records. */
export function summarize(records: readonly ScenarioRecord[], partial: boolean, ctx: VerdictContext): { summary: Report['summary']; families: FamilyRow[] } {
  const all = emptyTally();
  const required = emptyTally();
  const recommended = emptyTally();
  const fams = new Map<string, FamilyRow>();
  for (const r of records) {
    count(all, r);
    count(r.level === 'required' ? required : recommended, r);
    let row = fams.get(r.family);
    if (!row) fams.set(r.family, (row = { family: r.family, all: emptyTally(), required: emptyTally() }));
    count(row.all, r);
    if (r.level === 'required') count(row.required, r);
  }
  const bad = records.filter((r) => r.level === 'required' && !acceptable(r)).length;
  const sub = leavesOut(ctx.subset, all.notClaimed) ? ctx.subset : undefined;
  // A subset that claims no scenario at all certifies nothing.
  const empty = sub !== undefined && all.notClaimed === all.total;
  const ok = !partial && bad === 0 && !empty;
  const what = sub ? subsetWords(ctx.profile, sub, records.length) : ctx.profile;
  const verdict = partial
    ? `partial run (--only): not a certification of ${ctx.profile}`
    : empty
      ? `not certified: the declared subset claims no scenario of ${ctx.profile}`
      : ok
        ? `certified for ${what}`
        : `not certified for ${what}: ${bad} Required scenario${bad === 1 ? '' : 's'}${sub ? ' inside the subset' : ''} ${bad === 1 ? 'does' : 'do'} not pass`;
  return {
    summary: { all, required, recommended, certified: ok && !sub, ...(sub ? { subsetCertified: ok } : {}), verdict },
    families: [...fams.values()].sort((a, b) => a.family.localeCompare(b.family)),
  };
}

/** The report of a run. */
export function buildReport(input: ReportInput): Report {
  const { spec, profile, entries, outcomes } = input;
  if (outcomes.length !== entries.length) throw new Error(`internal: ${entries.length} scenarios but ${outcomes.length} outcomes`);
  const expected = expectationFor(input.expectFailures?.entries ?? []);
  const records: ScenarioRecord[] = entries.map((e, i) => {
    const s = e.scenario;
    const outside = input.subset ? notClaimedReason(spec, input.subset, s) : undefined;
    // A scenario outside the declared subset is not claimed: whatever the target did with it does not count.
    const o = outside !== undefined ? { id: s.id, status: 'skip' as const, reason: outside, checks: [], ms: 0 } : outcomes[i]!;
    if (o.id !== s.id) throw new Error(`internal: outcome ${o.id} in the place of ${s.id}`);
    const xf = outside === undefined ? expected(s.id) : undefined;
    return {
      id: s.id,
      digest: scenarioDigest(s),
      family: s.family,
      kind: s.kind,
      level: e.level,
      doc: s.doc,
      ref: s.ref,
      status: o.status,
      ...(o.reason !== undefined ? { reason: o.reason } : {}),
      ...(xf ? { expectedFailure: xf } : {}),
      ...(xf && o.status === 'pass' ? { unexpectedPass: true as const } : {}),
      ...(outside !== undefined ? { notClaimed: true as const } : {}),
      ms: Math.round(o.ms * 1000) / 1000,
      checks: o.checks.map((c) => ({ step: c.step + 1, what: c.what, expected: c.expected, actual: c.actual, ok: c.ok })),
      ...(o.status !== 'pass' && outside === undefined ? { steps: s.steps as unknown[] } : {}),
      ...('notes' in o && o.notes && o.notes.length > 0 ? { notes: o.notes } : {}),
    };
  });
  const partial = (input.only?.length ?? 0) > 0;
  const subset = input.subset ? subsetRecord(spec, profile, input.subset, entries.map((e) => e.scenario)) : undefined;
  const { summary, families } = summarize(records, partial, { profile: profile.name, ...(subset ? { subset } : {}) });
  return {
    $schema: './report.schema.json',
    format: REPORT_FORMAT,
    hyperabi: { version: hyperabiVersion() },
    spec: { name: spec.name, hash: specHash(spec) },
    suite: { hash: suiteHash(records), scenarios: records.length },
    profile: { name: profile.name, title: profile.title, abi: profile.abi },
    target: input.target,
    options: {
      ...(partial ? { only: input.only } : {}),
      ...(input.expectFailures ? { expectFailures: input.expectFailures } : {}),
    },
    host: { node: process.version, platform: process.platform, arch: process.arch },
    ...(subset ? { subset } : {}),
    started: input.started.toISOString(),
    finished: input.finished.toISOString(),
    durationMs: input.finished.getTime() - input.started.getTime(),
    summary,
    families,
    coverage: specCoverage(
      spec,
      profile,
      entries.map((e, i) => ({ scenario: e.scenario, status: records[i]!.status })),
    ),
    scenarios: records,
  };
}
