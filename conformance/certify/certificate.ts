/**
 * The certificate of a report directory and `hyperabi certify verify`.
 *
 * `certificate.json` names what was certified (hyperabi version, spec hash, suite hash,
 * profile, target, date, summary) and holds the sha256 of every report file, with an
 * overall digest over the certificate itself. A digest shows the files are the ones the run
 * wrote (integrity), not who ran it (authenticity): anyone can rerun the harness, or rewrite
 * files and digests together. An optional signature over the digest (HMAC-SHA256 with a
 * shared key file, or Ed25519 with a PEM private key) adds authenticity for whoever holds or
 * trusts the key.
 *
 * Verification checks the certificate, the digests, the report against its schema, the
 * summary against the scenario records, the expected-failure marks against the listed
 * patterns, the HTML and JUnit files against what this hyperabi renders from the report,
 * and completeness: every scenario of the profile in this hyperabi's suite (for the same
 * spec hash) has an outcome, with the same scenario digest.
 */
import { createHmac, createPrivateKey, createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Compile } from 'typebox/compile';
import type { Spec } from '../../spec/model.js';
import { findProfile, profileScenarios } from '../profiles.js';
import type { Scenario } from '../scenario.js';
import { canonicalJson, hyperabiVersion, scenarioDigest, sha256, specHash, suiteHash } from './digest.js';
import { expectationFor } from './expect.js';
import { reportHtml } from './html.js';
import { junitXml } from './junit.js';
import { Certificate, CERTIFICATE_FORMAT, Report } from './model.js';
import { summarize } from './report.js';
import { declaresSubset, notClaimedReason, subsetRecord } from './subset.js';

/** The files a report directory holds, besides certificate.json. */
export const REPORT_FILES = ['report.json', 'report.schema.json', 'junit.xml', 'report.html'] as const;

/** A signing or verification key read from a file. */
export type SignKey = { alg: 'hmac-sha256'; secret: Buffer } | { alg: 'ed25519'; key: KeyObject };

/** Reads a key file: a PEM Ed25519 key (private to sign; public or private to verify), or any other bytes as an HMAC secret. */
export function readKeyFile(file: string, purpose: 'sign' | 'verify'): SignKey {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read the key file ${file}: ${(e as Error).message}`, { cause: e });
  }
  const text = bytes.toString('utf8');
  if (/-----BEGIN [A-Z ]*KEY-----/.test(text)) {
    let key: KeyObject;
    try {
      key = text.includes('PRIVATE KEY') ? createPrivateKey(text) : createPublicKey(text);
    } catch (e) {
      throw new Error(`${file}: not a usable PEM key: ${(e as Error).message}`, { cause: e });
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file}: a ${key.asymmetricKeyType ?? 'unknown'} key; only Ed25519 PEM keys (or an HMAC secret) are supported`);
    if (purpose === 'sign' && key.type !== 'private') throw new Error(`${file}: signing needs the Ed25519 private key`);
    return { alg: 'ed25519', key };
  }
  if (bytes.length < 16) throw new Error(`${file}: an HMAC secret of ${bytes.length} bytes is too short (at least 16)`);
  return { alg: 'hmac-sha256', secret: bytes };
}

/** The part of a report's summary a certificate repeats. */
const certificateSummary = (s: Report['summary']): Certificate['summary'] => ({
  all: s.all,
  required: s.required,
  certified: s.certified,
  ...(s.subsetCertified !== undefined ? { subsetCertified: s.subsetCertified } : {}),
  verdict: s.verdict,
});

const digestOf = (c: Omit<Certificate, 'digest' | 'signature'> & Partial<Pick<Certificate, 'digest' | 'signature'>>): string => {
  const { digest: _d, signature: _s, ...rest } = c;
  return sha256(canonicalJson(rest));
};

/** The certificate of a report and its files (name → content). */
export function makeCertificate(report: Report, files: ReadonlyMap<string, string>, key?: SignKey): Certificate {
  const body = {
    format: CERTIFICATE_FORMAT,
    hyperabi: report.hyperabi.version,
    spec: report.spec,
    suite: report.suite,
    profile: report.profile.name,
    target: report.target.spec,
    date: report.finished,
    ...(report.subset ? { subset: report.subset } : {}),
    summary: certificateSummary(report.summary),
    files: Object.fromEntries([...files].map(([name, text]) => [name, sha256(text)])),
  } as const;
  const digest = digestOf(body);
  const cert: Certificate = { ...body, digest };
  if (key?.alg === 'hmac-sha256') cert.signature = { alg: 'hmac-sha256', value: createHmac('sha256', key.secret).update(digest).digest('base64') };
  if (key?.alg === 'ed25519') {
    cert.signature = {
      alg: 'ed25519',
      value: edSign(null, Buffer.from(digest), key.key).toString('base64'),
      publicKey: createPublicKey(key.key).export({ type: 'spki', format: 'pem' }).toString(),
    };
  }
  return cert;
}

export interface VerifyOptions {
  /** The suite to check completeness against (the CLI: this hyperabi's loadSuite()). */
  suite: () => Scenario[];
  spec: Spec;
  key?: SignKey;
}

export interface VerifyResult {
  ok: boolean;
  /** Why it is rejected: each a sentence naming the file and what is wrong. */
  problems: string[];
  /** What was checked and is fine, or could not be checked. */
  notes: string[];
  certificate?: Certificate;
  report?: Report;
}

const checkCertificate = Compile(Certificate);
const checkReport = Compile(Report);

function readJson(dir: string, name: string, problems: string[]): unknown {
  const p = join(dir, name);
  if (!existsSync(p)) {
    problems.push(`${name} is missing from ${dir}`);
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as unknown;
  } catch (e) {
    problems.push(`${name} is not JSON: ${(e as Error).message}`);
    return undefined;
  }
}

/** Verifies a report directory; never throws for bad content (problems say what is wrong). */
export function verifyReportDir(dir: string, options: VerifyOptions): VerifyResult {
  const problems: string[] = [];
  const notes: string[] = [];
  const done = (extra: Partial<VerifyResult> = {}): VerifyResult => ({ ok: problems.length === 0, problems, notes, ...extra });

  // 1. The certificate: shape, digest, signature.
  const certDoc = readJson(dir, 'certificate.json', problems);
  if (certDoc === undefined) return done();
  if (!checkCertificate.Check(certDoc)) {
    const e = [...checkCertificate.Errors(certDoc)].slice(0, 3).map((x) => `${x.instancePath || '/'} ${x.message}`);
    problems.push(`certificate.json is not a certificate (${CERTIFICATE_FORMAT}): ${e.join('; ')}`);
    return done();
  }
  const cert = certDoc as Certificate;
  if (digestOf(cert) !== cert.digest) problems.push('certificate.json: its digest does not match its content (the certificate was edited)');
  if (cert.signature) {
    const sig = Buffer.from(cert.signature.value, 'base64');
    if (cert.signature.alg === 'hmac-sha256') {
      if (options.key?.alg !== 'hmac-sha256') notes.push('certificate.json carries an HMAC-SHA256 signature; not checked (give --key FILE with the shared secret)');
      else if (createHmac('sha256', options.key.secret).update(cert.digest).digest('base64') !== cert.signature.value)
        problems.push('certificate.json: the HMAC-SHA256 signature does not match with the given key');
      else notes.push('HMAC-SHA256 signature valid for the given key');
    } else {
      let pub: KeyObject | undefined;
      if (options.key?.alg === 'ed25519') pub = options.key.key.type === 'public' ? options.key.key : createPublicKey(options.key.key);
      else if (options.key) problems.push('certificate.json carries an Ed25519 signature, but the key given is an HMAC secret');
      else if (cert.signature.publicKey) {
        try {
          pub = createPublicKey(cert.signature.publicKey);
        } catch (e) {
          problems.push(`certificate.json: the embedded public key is unusable: ${(e as Error).message}`);
        }
      }
      if (pub) {
        if (!edVerify(null, Buffer.from(cert.digest), pub, sig)) problems.push(`certificate.json: the Ed25519 signature does not verify with ${options.key ? 'the given key' : 'the embedded public key'}`);
        else notes.push(options.key ? 'Ed25519 signature valid for the given public key' : 'Ed25519 signature valid for the embedded public key (authentic only if you trust that key: pass --key PUBLIC.pem)');
      } else if (!options.key && !cert.signature.publicKey) problems.push('certificate.json: an Ed25519 signature without a public key (give --key PUBLIC.pem)');
    }
  } else if (options.key) problems.push('certificate.json is not signed, but a key was given');

  // 2. The files: present and with the certified digests.
  for (const name of REPORT_FILES) if (!(name in cert.files)) problems.push(`certificate.json does not list ${name}`);
  const texts = new Map<string, string>();
  for (const [name, digest] of Object.entries(cert.files)) {
    const p = join(dir, name);
    if (!existsSync(p)) {
      problems.push(`${name} is missing from ${dir}`);
      continue;
    }
    const text = readFileSync(p, 'utf8');
    texts.set(name, text);
    if (sha256(text) !== digest) problems.push(`${name}: its sha256 differs from the certificate's (the file was changed after certification)`);
  }

  // 3. The report: schema, agreement with the certificate, its own arithmetic.
  const reportText = texts.get('report.json');
  if (reportText === undefined) return done({ certificate: cert });
  let doc: unknown;
  try {
    doc = JSON.parse(reportText);
  } catch (e) {
    problems.push(`report.json is not JSON: ${(e as Error).message}`);
    return done({ certificate: cert });
  }
  if (!checkReport.Check(doc)) {
    const e = [...checkReport.Errors(doc)].slice(0, 3).map((x) => `${x.instancePath || '/'} ${x.message}`);
    problems.push(`report.json does not match the report schema: ${e.join('; ')}`);
    return done({ certificate: cert });
  }
  const report = doc as Report;
  const same = (what: string, a: unknown, b: unknown) => {
    if (canonicalJson(a) !== canonicalJson(b)) problems.push(`report.json and certificate.json disagree on ${what}: ${canonicalJson(a)} vs ${canonicalJson(b)}`);
  };
  same('the hyperabi version', report.hyperabi.version, cert.hyperabi);
  same('the spec', report.spec, cert.spec);
  same('the suite', report.suite, cert.suite);
  same('the profile', report.profile.name, cert.profile);
  same('the target', report.target.spec, cert.target);
  same('the summary', certificateSummary(report.summary), cert.summary);
  same('the declared subset', report.subset ?? null, cert.subset ?? null);

  const xf = expectationFor(report.options.expectFailures?.entries ?? []);
  for (const r of report.scenarios) {
    // Scenarios outside a declared subset were not run: the expected-failures list does not apply to them.
    const want = r.notClaimed ? undefined : xf(r.id);
    if (r.notClaimed && !report.subset) problems.push(`report.json: ${r.id} is marked not claimed, but the report declares no subset`);
    if (r.notClaimed && (r.status !== 'skip' || r.checks.length > 0 || !(r.reason ?? '').startsWith('not claimed: '))) problems.push(`report.json: ${r.id} is marked not claimed but was not skipped as such`);
    if (canonicalJson(want) !== canonicalJson(r.expectedFailure)) problems.push(`report.json: ${r.id}: its expected-failure mark does not follow the listed patterns`);
    if ((r.unexpectedPass === true) !== (want !== undefined && r.status === 'pass')) problems.push(`report.json: ${r.id}: its unexpected-pass mark does not agree with its outcome`);
    const failing = r.checks.some((c) => !c.ok);
    if (r.status === 'pass' && failing) problems.push(`report.json: ${r.id} is marked pass but has a failed check`);
    if (r.status === 'fail' && !failing) problems.push(`report.json: ${r.id} is marked fail but every check passed`);
  }
  const partial = (report.options.only?.length ?? 0) > 0;
  const re = summarize(report.scenarios, partial, { profile: report.profile.name, ...(report.subset ? { subset: report.subset } : {}) });
  if (canonicalJson(re.summary) !== canonicalJson(report.summary)) problems.push(`report.json: the summary does not agree with the scenario outcomes (recounted: ${describe(re.summary)}; stated: ${describe(report.summary)})`);
  if (canonicalJson(re.families) !== canonicalJson(report.families)) problems.push('report.json: the per-family table does not agree with the scenario outcomes');
  if (suiteHash(report.scenarios) !== report.suite.hash || report.suite.scenarios !== report.scenarios.length) problems.push('report.json: the suite hash or count does not agree with the scenarios listed');
  if (report.subset && report.subset.claimedScenarios !== report.scenarios.filter((r) => !r.notClaimed).length) problems.push('report.json: the subset\'s count of claimed scenarios does not agree with the scenario records');

  // 4. The rendered files are what this hyperabi renders from report.json.
  if (report.hyperabi.version === hyperabiVersion()) {
    if (texts.has('junit.xml') && texts.get('junit.xml') !== junitXml(report)) problems.push('junit.xml does not match the JUnit rendering of report.json (one of them was edited)');
    if (texts.has('report.html') && texts.get('report.html') !== reportHtml(report)) problems.push('report.html does not match the HTML rendering of report.json (one of them was edited)');
  } else notes.push(`made by hyperabi ${report.hyperabi.version}, this is ${hyperabiVersion()}: junit.xml and report.html were checked by digest only`);

  // 5. Completeness against this hyperabi's suite.
  if (partial) problems.push(`report.json is a partial run (--only ${report.options.only!.join(' ')}): not a complete certification`);
  const here = specHash(options.spec);
  const profile = findProfile(report.profile.name);
  if (report.spec.hash !== here) {
    const fix =
      report.hyperabi.version === hyperabiVersion()
        ? 'the spec changed since the run (same hyperabi version): certify again'
        : `verify it with hyperabi ${report.hyperabi.version}, or certify again`;
    problems.push(`the report was made for spec sha256 ${report.spec.hash}, this hyperabi (${hyperabiVersion()}) has ${here}: ${fix}`);
  } else if (!profile) {
    problems.push(`report.json names profile '${report.profile.name}', which this hyperabi does not have`);
  } else {
    let entries;
    try {
      entries = profileScenarios(profile, options.suite(), options.spec);
    } catch (e) {
      problems.push(`cannot load this hyperabi's suite to check completeness: ${(e as Error).message}`);
    }
    if (entries) {
      const got = new Map(report.scenarios.map((r) => [r.id, r]));
      const missing = entries.filter((e) => !got.has(e.scenario.id)).map((e) => e.scenario.id);
      const wanted = new Set(entries.map((e) => e.scenario.id));
      const extra = report.scenarios.filter((r) => !wanted.has(r.id)).map((r) => r.id);
      const changed = entries.filter((e) => got.has(e.scenario.id) && got.get(e.scenario.id)!.digest !== scenarioDigest(e.scenario)).map((e) => e.scenario.id);
      const relevel = entries.filter((e) => got.has(e.scenario.id) && got.get(e.scenario.id)!.level !== e.level).map((e) => e.scenario.id);
      const list = (ids: string[]) => `${ids.slice(0, 5).join(', ')}${ids.length > 5 ? `, ... (${ids.length} in all)` : ''}`;
      if (missing.length) problems.push(`incomplete: ${missing.length} scenarios of ${profile.name} have no outcome in report.json: ${list(missing)}`);
      if (extra.length) problems.push(`report.json has ${extra.length} scenarios that are not in ${profile.name}: ${list(extra)}`);
      if (changed.length) problems.push(`report.json ran ${changed.length} scenarios whose text differs from this suite's: ${list(changed)}`);
      if (relevel.length) problems.push(`report.json gives ${relevel.length} scenarios another level than ${profile.name} does: ${list(relevel)}`);
      // The declared subset: which scenarios and operations it claims, recomputed with this suite and spec.
      if (report.subset) {
        const declared = { ...(report.subset.ops ? { ops: report.subset.ops } : {}), ...(report.subset.scenarios ? { scenarios: report.subset.scenarios } : {}) };
        if (!declaresSubset(declared)) problems.push('report.json: the subset declares neither operations nor scenarios');
        const inRun = entries.filter((e) => got.has(e.scenario.id));
        const marks = inRun.filter((e) => (notClaimedReason(options.spec, declared, e.scenario) !== undefined) !== (got.get(e.scenario.id)!.notClaimed === true)).map((e) => e.scenario.id);
        if (marks.length) problems.push(`report.json marks ${marks.length} scenarios claimed or not claimed against the declared subset: ${list(marks)}`);
        const again = subsetRecord(options.spec, profile, declared, inRun.map((e) => e.scenario));
        if (canonicalJson(again.operations) !== canonicalJson(report.subset.operations)) {
          problems.push(`report.json: the subset's operations (${report.subset.operations.claimed.length} of ${report.subset.operations.total}) are not what the declared subset gives (${again.operations.claimed.length} of ${again.operations.total})`);
        } else if (!marks.length) notes.push(`declared subset: ${again.operations.claimed.length} of ${again.operations.total} operations, ${again.claimedScenarios} of ${inRun.length} scenarios claimed`);
      }
      if (!missing.length && !extra.length && !changed.length) notes.push(`complete: all ${entries.length} scenarios of ${profile.name} have an outcome`);
    }
  }
  return done({ certificate: cert, report });
}

function describe(s: Report['summary']): string {
  const t = s.all;
  return `${t.total} scenarios, ${t.pass} pass, ${t.fail} fail, ${t.error} error, ${t.skip} skip (${t.notClaimed} not claimed); ${s.verdict}`;
}
