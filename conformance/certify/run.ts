/**
 * `hyperabi certify` as a library: resolve the target, pick the profile's scenarios, run
 * them, build the report and write the report directory with its certificate.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { xenSpec } from '../../spec/index.js';
import { stableJson } from '../../spec/export.js';
import type { Spec } from '../../spec/model.js';
import { findProfile, profileScenarios, unknownProfile, type ProfileEntry } from '../profiles.js';
import { runScenarios, type Outcome } from '../runner.js';
import type { Scenario } from '../scenario.js';
import { loadSuite } from '../suite.js';
import type { Target } from '../target.js';
import { referenceTarget } from '../targets/reference.js';
import { makeCertificate, type SignKey } from './certificate.js';
import { expectationFor, globMatcher, parseExpectations } from './expect.js';
import { reportHtml } from './html.js';
import { junitXml } from './junit.js';
import { reportJsonSchema, type Certificate, type ExpectedFailure, type Report } from './model.js';
import { acceptable, buildReport } from './report.js';
import { declaresSubset, notClaimedReason } from './subset.js';

/** Bad usage or input of certify (exit code 2): the message says what and what to do. */
export class CertifyUsageError extends Error {
  override name = 'CertifyUsageError';
}

/** The --target forms, for help texts. */
export const TARGET_FORMS = 'reference | cmd:"<command>" | live-xen';

async function importOptional(path: string, what: string): Promise<Record<string, unknown>> {
  try {
    return (await import(path)) as Record<string, unknown>;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(path.replace(/^(\.\.\/)+/, '').replace(/\.js$/, '')))
      throw new CertifyUsageError(`${what} is not available in this build of hyperabi (${path} is missing)`);
    throw e;
  }
}

/** Options of openTarget. */
export interface OpenTargetOptions {
  /** cmd: targets only: write the testee session (both directions) to this file. */
  capture?: string;
}

/** Opens a target from its --target form. */
export async function openTarget(form: string, spec: Spec = xenSpec, options: OpenTargetOptions = {}): Promise<Target> {
  if (options.capture !== undefined && !form.startsWith('cmd:')) throw new CertifyUsageError(`--capture records a testee session: it needs a --target cmd:"<command>", not '${form}'`);
  if (form === 'reference') return referenceTarget();
  if (form.startsWith('cmd:')) {
    const command = form.slice(4).trim();
    if (command === '') throw new CertifyUsageError('--target cmd: needs a command line, e.g. --target cmd:"./my-testee --quiet"');
    const mod = await importOptional('../targets/process.js', 'the cmd: target (conformance/targets/process.ts)');
    const processTarget = mod['processTarget'];
    if (typeof processTarget !== 'function') throw new CertifyUsageError('conformance/targets/process.ts does not export processTarget');
    try {
      const capture = options.capture !== undefined ? { capture: resolve(options.capture) } : {};
      return (await (processTarget as (c: string, o: { spec: Spec; capture?: string }) => Promise<Target>)(command, { spec, ...capture })) as Target;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (options.capture !== undefined && typeof err.code === 'string' && err.syscall === 'open')
        throw new CertifyUsageError(`cannot write the capture file ${options.capture}: ${err.message}`);
      throw new CertifyUsageError(`cannot start the testee '${command}': ${err.message}`);
    }
  }
  if (form === 'live-xen') {
    const mod = await importOptional('../../live-xen/target.js', 'the live-xen target (live-xen/target.ts)');
    const liveXenTarget = mod['liveXenTarget'];
    if (typeof liveXenTarget !== 'function') throw new CertifyUsageError('live-xen/target.ts does not export liveXenTarget');
    try {
      return (await (liveXenTarget as () => Target | Promise<Target>)()) as Target;
    } catch (e) {
      throw new CertifyUsageError(`the live-xen target is not usable here: ${(e as Error).message}`);
    }
  }
  throw new CertifyUsageError(`unknown target '${form}'; use ${TARGET_FORMS}`);
}

export interface CertifyOptions {
  /** --target: reference, cmd:"<command>" or live-xen. */
  target: string;
  profile: string;
  /** --expect-failures FILE. */
  expectFailures?: string;
  /** --only globs. */
  only?: string[];
  /** --report DIR. */
  reportDir: string;
  /** --capture FILE: cmd: targets only, the testee session as the protocol carried it. */
  capture?: string;
  signKey?: SignKey;
  spec?: Spec;
  /** The suite (default: loadSuite()); tests pass their own lists. */
  suite?: readonly Scenario[];
  /** An opened target instead of `target`'s form (tests: a broken reference VMM). */
  openedTarget?: Target;
  progress?: (done: number, total: number, last: Outcome) => void;
  /** Told once the scenarios are chosen. */
  started?: (total: number, target: string) => void;
}

export interface CertifyResult {
  report: Report;
  certificate: Certificate;
  /** The files written, by name. */
  files: string[];
  /** 0: every Required scenario passed, was an expected failure or is outside the declared subset; 1: otherwise. */
  exitCode: 0 | 1;
  /** Expected-failure entries that matched no scenario of the profile. */
  unusedExpectations: ExpectedFailure[];
}

/** Reads and parses an expected-failures file. */
export function readExpectations(file: string): { file: string; entries: ExpectedFailure[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CertifyUsageError(`cannot read the expected-failures file ${file}: ${(e as Error).message}`);
  }
  try {
    return { file, entries: parseExpectations(text, file) };
  } catch (e) {
    throw new CertifyUsageError((e as Error).message);
  }
}

/** The profile's scenarios, narrowed by --only. */
export function selectScenarios(profileName: string, suite: readonly Scenario[], spec: Spec, only?: readonly string[]): ProfileEntry[] {
  const profile = findProfile(profileName);
  if (!profile) throw new CertifyUsageError(unknownProfile(profileName).message);
  let entries: ProfileEntry[];
  try {
    entries = profileScenarios(profile, suite, spec);
  } catch (e) {
    throw new CertifyUsageError((e as Error).message);
  }
  if (entries.length === 0) throw new CertifyUsageError(`profile ${profile.name} has no scenarios in this suite: nothing to certify`);
  if (only && only.length > 0) {
    let match: (id: string) => boolean;
    try {
      match = globMatcher(only);
    } catch (e) {
      throw new CertifyUsageError(`--only: ${(e as Error).message}`);
    }
    entries = entries.filter((e) => match(e.scenario.id));
    if (entries.length === 0) throw new CertifyUsageError(`no scenario of ${profile.name} matches --only ${only.join(' ')}`);
  }
  return entries;
}

/** Writes the report files and the certificate into `dir`; returns the certificate and the paths. */
export function writeReportDir(dir: string, report: Report, key?: SignKey): { certificate: Certificate; files: string[] } {
  const texts = new Map<string, string>([
    ['report.json', stableJson(report)],
    ['report.schema.json', stableJson(reportJsonSchema())],
    ['junit.xml', junitXml(report)],
    ['report.html', reportHtml(report)],
  ]);
  const certificate = makeCertificate(report, texts, key);
  const out = resolve(dir);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new CertifyUsageError(`cannot create the report directory ${out}: ${(e as Error).message}`);
  }
  const files: string[] = [];
  for (const [name, text] of [...texts, ['certificate.json', stableJson(certificate)] as const]) {
    writeFileSync(join(out, name), text);
    files.push(join(out, name));
  }
  return { certificate, files };
}

/** Runs a certification and writes its report directory. */
export async function certify(options: CertifyOptions): Promise<CertifyResult> {
  const spec = options.spec ?? xenSpec;
  if (!findProfile(options.profile)) throw new CertifyUsageError(unknownProfile(options.profile).message);
  const expectFailures = options.expectFailures ? readExpectations(options.expectFailures) : undefined;
  let suite = options.suite;
  if (!suite) {
    try {
      suite = loadSuite(spec);
    } catch (e) {
      throw new CertifyUsageError(`cannot load the conformance suite: ${(e as Error).message}`);
    }
  }
  const entries = selectScenarios(options.profile, suite, spec, options.only);
  const profile = findProfile(options.profile)!;
  const target = options.openedTarget ?? (await openTarget(options.target, spec, options.capture !== undefined ? { capture: options.capture } : {}));
  // A declared subset: the scenarios outside it are not claimed, and not run.
  const declared = target.kind === 'interactive' && declaresSubset(target.subset) ? target.subset : undefined;
  const claimed = declared ? entries.filter((e) => notClaimedReason(spec, declared, e.scenario) === undefined) : entries;
  const started = new Date();
  let outcomes: Outcome[];
  try {
    options.started?.(claimed.length, target.name);
    const ran = await runScenarios(
      claimed.map((e) => e.scenario),
      target,
      { spec, ...(options.progress ? { progress: options.progress } : {}) },
    );
    const byId = new Map(ran.map((o) => [o.id, o]));
    outcomes = entries.map((e) => byId.get(e.scenario.id) ?? { id: e.scenario.id, status: 'skip', reason: notClaimedReason(spec, declared!, e.scenario)!, checks: [], ms: 0 });
  } finally {
    if (!options.openedTarget) await target.dispose();
  }
  const finished = new Date();
  const report = buildReport({
    spec,
    profile,
    entries,
    outcomes,
    target: { name: target.name, spec: options.target },
    ...(expectFailures ? { expectFailures } : {}),
    ...(options.only && options.only.length > 0 ? { only: options.only } : {}),
    ...(declared ? { subset: declared } : {}),
    started,
    finished,
  });
  const { certificate, files } = writeReportDir(options.reportDir, report, options.signKey);
  const xf = expectFailures ? expectationFor(expectFailures.entries) : undefined;
  const used = new Set(xf ? claimed.map((e) => xf(e.scenario.id)).filter((x) => x !== undefined) : []);
  // Every Required scenario passed, was an expected failure or is outside the declared subset.
  const requiredOk = report.scenarios.every((r) => r.level !== 'required' || acceptable(r));
  return {
    report,
    certificate,
    files,
    exitCode: requiredOk ? 0 : 1,
    unusedExpectations: (expectFailures?.entries ?? []).filter((e) => !used.has(e)),
  };
}
