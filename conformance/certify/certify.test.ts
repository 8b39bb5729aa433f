import { Ajv2020 } from 'ajv/dist/2020.js';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { xenSpec } from '../../spec/index.js';
import { stableJson } from '../../spec/export.js';
import { main } from '../../cli/main.js';
import { referenceTarget } from '../targets/reference.js';
import { parseScenarios } from '../scenario.js';
import { certify, readKeyFile, verifyReportDir, type CertifyOptions } from './index.js';
import { canonicalJson, sha256 } from './digest.js';
import { globMatcher, parseExpectations } from './expect.js';
import { FIXTURE_EXPECTATIONS, FIXTURE_TARGET, fixtureSuite } from './fixtures.js';
import { Report as ReportSchema, ScenarioRecord, Tally, type Certificate, type Report } from './model.js';
import { findProfile, PROFILES, profileOperations } from '../profiles.js';
import { summarize } from './report.js';
import { writeReportDir } from './run.js';

const tmp = mkdtempSync(join(tmpdir(), 'hyperabi-certify-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const suite = fixtureSuite();
const xfFile = join(tmp, 'expected-failures.txt');
writeFileSync(xfFile, FIXTURE_EXPECTATIONS);

let n = 0;
async function run(extra: Partial<CertifyOptions> = {}) {
  const dir = join(tmp, `run-${++n}`);
  const r = await certify({
    target: 'reference',
    profile: 'xen-4.17-pv64-core',
    reportDir: dir,
    suite,
    openedTarget: referenceTarget({ name: FIXTURE_TARGET }),
    ...extra,
  });
  return { ...r, dir };
}
const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
const verify = (dir: string, extra: Partial<Parameters<typeof verifyReportDir>[1]> = {}) => verifyReportDir(dir, { spec: xenSpec, suite: () => suite, ...extra });

function ajv(): Ajv2020 {
  const a = new Ajv2020({ strict: false, allErrors: true });
  a.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  return a;
}

describe('hyperabi certify on the reference VMM', () => {
  it('gives all four outcomes, exit 1 for a failing Required scenario, and a report that matches its JSON Schema', async () => {
    const r = await run();
    expect(r.exitCode).toBe(1);
    const byId = new Map(r.report.scenarios.map((s) => [s.id, s]));
    expect(byId.get('xen_version$XENVER_version/cert-ok')?.status).toBe('pass');
    const wrong = byId.get('xen_version$XENVER_version/cert-wrong')!;
    expect(wrong.status).toBe('fail');
    expect(wrong.checks[0]).toMatchObject({ step: 1, expected: '262160 (0x40010)', actual: '262161 (0x40011)', ok: false });
    expect(wrong.steps).toEqual([{ call: 'xen_version$XENVER_version', expect: 0x40010 }]);
    expect(byId.get('event_channel_op$EVTCHNOP_send/cert-broken')).toMatchObject({ status: 'error', reason: expect.stringMatching(/unknown constant 'NO_SUCH_CONSTANT'/) });
    expect(byId.get('xen_version$XENVER_version/cert-limited')).toMatchObject({ status: 'skip', reason: 'the fixture target cannot run this one' });
    expect(byId.get('xen_version$XENVER_version/cert-rec-wrong')).toMatchObject({ status: 'fail', level: 'recommended' });
    expect(r.report.summary.all).toEqual({ total: 7, pass: 3, fail: 2, error: 1, skip: 1, notClaimed: 0, expectedFailures: 0, unexpectedPasses: 0 });
    expect(r.report.summary.required).toMatchObject({ total: 6, pass: 3, fail: 1, error: 1, skip: 1 });
    expect(r.report.summary.certified).toBe(false);
    expect(r.report.families.map((f) => `${f.family} ${f.all.pass}/${f.all.total}`)).toEqual(['event_channel 1/2', 'version 2/5']);
    // Spec coverage: the called operations and the declared error the einval scenario checks.
    expect(r.report.coverage.operations.items.find((i) => i.id === 'event_channel_op$EVTCHNOP_bind_ipi')).toEqual({ id: 'event_channel_op$EVTCHNOP_bind_ipi', scenarios: 1, passed: 1 });
    expect(r.report.coverage.errors.items.find((i) => i.id === 'event_channel_op$EVTCHNOP_send EINVAL')).toMatchObject({ scenarios: 1, passed: 1 });
    expect(r.report.coverage.operations.missing).toContain('grant_table_op$GNTTABOP_copy');

    const a = ajv();
    const validate = a.compile(readJson<object>(join(r.dir, 'report.schema.json')));
    const doc = readJson<Report>(join(r.dir, 'report.json'));
    expect(validate(doc), a.errorsText(validate.errors)).toBe(true);
    const bad = structuredClone(doc) as unknown as { scenarios: { status: string }[] };
    bad.scenarios[0]!.status = 'passed';
    expect(validate(bad)).toBe(false);
  });

  it('counts listed scenarios as expected failures, reports the unexpected pass, and exits 0', async () => {
    const r = await run({ expectFailures: xfFile });
    expect(r.exitCode).toBe(0);
    expect(r.report.summary.certified).toBe(true);
    expect(r.report.summary.all).toMatchObject({ expectedFailures: 3, unexpectedPasses: 1 });
    const listed = r.report.scenarios.find((s) => s.id === 'xen_version$XENVER_version/cert-listed-pass')!;
    expect(listed).toMatchObject({ status: 'pass', unexpectedPass: true, expectedFailure: { pattern: 'xen_version$XENVER_version/cert-l*' } });
    expect(r.report.scenarios.find((s) => s.id.endsWith('cert-wrong'))?.expectedFailure?.reason).toBe('the fixture target reports another version');
    expect(r.report.options.expectFailures?.entries).toHaveLength(3);

    const junit = readFileSync(join(r.dir, 'junit.xml'), 'utf8');
    expect(junit.match(/<testcase /g)).toHaveLength(7);
    expect(junit).toContain('<skipped message="expected failure (the fixture target reports another version): fail: step 1: xen_version$XENVER_version result: expected 262160 (0x40010), got 262161 (0x40011)"/>');
    expect(junit).toMatch(/<failure message="step 1: xen_version\$XENVER_version result: expected 196608 \(0x30000\)/);
    expect(junit).toContain('unexpected pass: listed as an expected failure');
    expect(junit.match(/<testsuite /g)?.length).toBe(junit.match(/<\/testsuite>/g)?.length);
  });

  it('reads expected-failures files and globs, and names a bad line', () => {
    expect(parseExpectations('a$B/c  why not\n\n  # only a comment\nx/*   # c\n', 'f')).toEqual([{ pattern: 'a$B/c', reason: 'why not' }, { pattern: 'x/*' }]);
    expect(() => parseExpectations('ok/one\nb@d\n', 'xf.txt')).toThrow(/^xf\.txt:2: 'b@d' is not a scenario id or glob/);
    const m = globMatcher(['event_channel_op$*/*', 'grant_table_op$GNTTABOP_copy/derived-?']);
    expect(m('event_channel_op$EVTCHNOP_send/x')).toBe(true);
    expect(m('event_channel_opXEVTCHNOP_send/x')).toBe(false);
    expect(m('grant_table_op$GNTTABOP_copy/derived-1')).toBe(true);
    expect(m('grant_table_op$GNTTABOP_copy/derived-12')).toBe(false);
    expect(globMatcher(['**'])('a$b/c')).toBe(true);
    expect(globMatcher(['*'])('a$b/c')).toBe(false);
  });
});

describe('certify verify', () => {
  it('accepts an untouched report directory', async () => {
    const r = await run({ expectFailures: xfFile });
    const v = verify(r.dir);
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.notes.join('\n')).toMatch(/complete: all 7 scenarios of xen-4.17-pv64-core have an outcome/);
    const cert = readJson<Certificate>(join(r.dir, 'certificate.json'));
    expect(cert).toMatchObject({ profile: 'xen-4.17-pv64-core', target: 'reference', hyperabi: readJson<{ version: string }>('package.json').version });
    expect(cert.files['report.html']).toBe(sha256(readFileSync(join(r.dir, 'report.html'), 'utf8')));
    expect(cert.spec.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects a report whose outcome was edited, and says why', async () => {
    const r = await run();
    const p = join(r.dir, 'report.json');
    const doc = readJson<Report>(p);
    doc.scenarios.find((s) => s.id.endsWith('cert-wrong'))!.status = 'pass';
    writeFileSync(p, stableJson(doc));
    const v = verify(r.dir);
    expect(v.ok).toBe(false);
    expect(v.problems).toContain("report.json: its sha256 differs from the certificate's (the file was changed after certification)");
    expect(v.problems).toContain('report.json: xen_version$XENVER_version/cert-wrong is marked pass but has a failed check');
    expect(v.problems.join('\n')).toMatch(/the summary does not agree with the scenario outcomes \(recounted: 7 scenarios, 4 pass, 1 fail/);

    // The same edit with the summary, checks and file digests redone: the certificate's own digest catches it.
    const w = doc.scenarios.find((s) => s.id.endsWith('cert-wrong'))!;
    w.checks = w.checks.map((c) => ({ ...c, actual: c.expected, ok: true }));
    doc.summary.all.pass++;
    doc.summary.all.fail--;
    doc.summary.required.pass++;
    doc.summary.required.fail--;
    const fam = doc.families.find((f) => f.family === 'version')!;
    fam.all.pass++;
    fam.all.fail--;
    fam.required.pass++;
    fam.required.fail--;
    writeFileSync(p, stableJson(doc));
    const cp = join(r.dir, 'certificate.json');
    const cert = readJson<Certificate>(cp);
    cert.files['report.json'] = sha256(readFileSync(p, 'utf8'));
    cert.summary = { all: doc.summary.all, required: doc.summary.required, certified: doc.summary.certified, verdict: doc.summary.verdict };
    writeFileSync(cp, stableJson(cert));
    const v2 = verify(r.dir);
    expect(v2.ok).toBe(false);
    expect(v2.problems).toContain('certificate.json: its digest does not match its content (the certificate was edited)');
    expect(v2.problems).toContain('report.html does not match the HTML rendering of report.json (one of them was edited)');
  });

  it('rejects a report whose HTML was edited', async () => {
    const r = await run();
    const p = join(r.dir, 'report.html');
    writeFileSync(p, readFileSync(p, 'utf8').replace('NOT CERTIFIED: Required scenarios fail', 'CERTIFIED: every Required scenario passes'));
    const v = verify(r.dir);
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([
      "report.html: its sha256 differs from the certificate's (the file was changed after certification)",
      'report.html does not match the HTML rendering of report.json (one of them was edited)',
    ]);
  });

  it('rejects incomplete reports: a scenario of the profile without an outcome, a changed scenario, a partial run, a missing file', async () => {
    const r = await run();
    const extra = parseScenarios(
      'id: xen_version$XENVER_version/cert-new\ndoc: d\nref: r\nkind: semantic\nfamily: version\nmachine: { domains: [ { id: 0, abi: x86_64-pv } ] }\nsteps: [ { call: xen_version$XENVER_version, expect: ok } ]\n',
      'n.yaml',
    );
    expect(verify(r.dir, { suite: () => [...suite, ...extra] }).problems).toEqual(['incomplete: 1 scenarios of xen-4.17-pv64-core have no outcome in report.json: xen_version$XENVER_version/cert-new']);
    const changed = suite.map((s) => (s.id.endsWith('cert-ok') ? { ...s, doc: 'reworded' } : s));
    expect(verify(r.dir, { suite: () => changed }).problems).toEqual(["report.json ran 1 scenarios whose text differs from this suite's: xen_version$XENVER_version/cert-ok"]);

    const partial = await run({ only: ['xen_version$*/cert-ok'] });
    expect(partial.report.scenarios).toHaveLength(1);
    expect(partial.report.summary.certified).toBe(false);
    expect(partial.exitCode).toBe(0);
    const vp = verify(partial.dir);
    expect(vp.problems[0]).toMatch(/^report\.json is a partial run \(--only xen_version\$\*\/cert-ok\): not a complete certification$/);
    expect(vp.problems[1]).toMatch(/^incomplete: 6 scenarios of xen-4.17-pv64-core have no outcome/);

    rmSync(join(r.dir, 'junit.xml'));
    expect(verify(r.dir).problems).toEqual([`junit.xml is missing from ${r.dir}`]);
  });

  it('signs with an Ed25519 or HMAC key and checks the signature when given the key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const priv = join(tmp, 'ed.pem');
    const pub = join(tmp, 'ed.pub.pem');
    writeFileSync(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
    const ed = await run({ signKey: readKeyFile(priv, 'sign') });
    expect(verify(ed.dir, { key: readKeyFile(pub, 'verify') }).problems).toEqual([]);
    expect(verify(ed.dir, { key: readKeyFile(pub, 'verify') })).toMatchObject({ ok: true, notes: expect.arrayContaining(['Ed25519 signature valid for the given public key']) });
    const other = generateKeyPairSync('ed25519').publicKey;
    const otherFile = join(tmp, 'other.pub.pem');
    writeFileSync(otherFile, other.export({ type: 'spki', format: 'pem' }));
    expect(verify(ed.dir, { key: readKeyFile(otherFile, 'verify') }).problems).toEqual(['certificate.json: the Ed25519 signature does not verify with the given key']);
    expect(() => readKeyFile(pub, 'sign')).toThrow(/signing needs the Ed25519 private key/);

    const secret = join(tmp, 'hmac.key');
    writeFileSync(secret, 'a shared secret of enough bytes');
    const h = await run({ signKey: readKeyFile(secret, 'sign') });
    expect(verify(h.dir, { key: readKeyFile(secret, 'verify') }).ok).toBe(true);
    expect(verify(h.dir).notes[0]).toMatch(/HMAC-SHA256 signature; not checked/);
    // A forger who redoes every digest without the key: the signature no longer matches.
    const cp = join(h.dir, 'certificate.json');
    const cert = readJson<Certificate>(cp);
    cert.target = 'cmd:./someone-else';
    const { digest: _d, signature: _s, ...body } = cert;
    cert.digest = sha256(canonicalJson(body));
    writeFileSync(cp, stableJson(cert));
    const v = verify(h.dir, { key: readKeyFile(secret, 'verify') });
    expect(v.problems).toContain('certificate.json: the HMAC-SHA256 signature does not match with the given key');
    expect(v.problems.some((p) => p.startsWith('report.json and certificate.json disagree on the target'))).toBe(true);
  });
});

describe('certification of a declared subset', () => {
  // The fixture target declares that it implements XENVER_version only: the event-channel scenarios are not claimed.
  const subsetTarget = () => ({ ...referenceTarget({ name: FIXTURE_TARGET }), subset: { ops: ['xen_version$XENVER_version'] } });
  const total = profileOperations(xenSpec, findProfile('xen-4.17-pv64-core')!).length;

  it('leaves the scenarios outside the subset out as not claimed, and still counts a skip inside it', async () => {
    const r = await run({ openedTarget: subsetTarget() });
    expect(r.exitCode).toBe(1);
    const byId = new Map(r.report.scenarios.map((x) => [x.id, x]));
    expect(byId.get('event_channel_op$EVTCHNOP_send/cert-broken')).toMatchObject({
      status: 'skip',
      notClaimed: true,
      reason: "not claimed: outside the testee's declared subset: event_channel_op$EVTCHNOP_send",
      checks: [],
    });
    expect(byId.get('event_channel_op$EVTCHNOP_send/cert-broken')?.steps).toBeUndefined();
    // Inside the subset, a scenario skipped for another reason (a limit of the target) still counts against.
    expect(byId.get('xen_version$XENVER_version/cert-limited')).toMatchObject({ status: 'skip', reason: 'the fixture target cannot run this one' });
    expect(byId.get('xen_version$XENVER_version/cert-limited')?.notClaimed).toBeUndefined();
    expect(r.report.subset).toEqual({ ops: ['xen_version$XENVER_version'], operations: { claimed: ['xen_version$XENVER_version'], total }, claimedScenarios: 5 });
    expect(r.report.summary).toMatchObject({
      all: { total: 7, skip: 3, notClaimed: 2 },
      certified: false,
      subsetCertified: false,
      verdict: `not certified for a subset of xen-4.17-pv64-core: 1 of ${total} operations (5 of 7 scenarios claimed): 2 Required scenarios inside the subset do not pass`,
    });
    // Not run, so not exercised.
    expect(r.report.coverage.operations.items.find((i) => i.id === 'event_channel_op$EVTCHNOP_bind_ipi')).toEqual({ id: 'event_channel_op$EVTCHNOP_bind_ipi', scenarios: 0, passed: 0 });
    expect(verify(r.dir).problems).toEqual([]);
  });

  it('certifies the subset, never plainly, and records it in the certificate, the HTML and the JUnit XML', async () => {
    const r = await run({ openedTarget: subsetTarget(), expectFailures: xfFile });
    expect(r.exitCode).toBe(0);
    const verdict = `certified for a subset of xen-4.17-pv64-core: 1 of ${total} operations (5 of 7 scenarios claimed)`;
    expect(r.report.summary).toMatchObject({ certified: false, subsetCertified: true, verdict });
    // The expected-failures list does not apply outside the subset: its entry for the broken scenario is unused.
    expect(r.report.scenarios.find((x) => x.id.endsWith('cert-broken'))?.expectedFailure).toBeUndefined();
    expect(r.unusedExpectations.map((e) => e.pattern)).toEqual(['event_channel_op$EVTCHNOP_send/cert-broken']);
    const cert = readJson<Certificate>(join(r.dir, 'certificate.json'));
    expect(cert.subset).toEqual(r.report.subset);
    expect(cert.summary).toMatchObject({ certified: false, subsetCertified: true, verdict });
    const html = readFileSync(join(r.dir, 'report.html'), 'utf8');
    expect(html).toContain(`CERTIFIED FOR A SUBSET of xen-4.17-pv64-core: 1 of ${total} operations, 5 of 7 scenarios; the rest is not claimed`);
    expect(html).not.toContain('CERTIFIED: every Required scenario');
    expect(html).toMatch(/<h2 id="subset">Declared subset: 2 scenarios not claimed<\/h2>/);
    expect(html).toContain('<span class="st skip" title="outside the declared subset">not claimed</span>');
    const junit = readFileSync(join(r.dir, 'junit.xml'), 'utf8');
    expect(junit).toContain(`<skipped message="not claimed: outside the testee&apos;s declared subset: event_channel_op$EVTCHNOP_send"/>`);
    const v = verify(r.dir);
    expect(v.problems).toEqual([]);
    expect(v.notes).toContain(`declared subset: 1 of ${total} operations, 5 of 7 scenarios claimed`);

  });

  it('verify recomputes the subset: a failing scenario marked not claimed, or a widened subset, is rejected even with every digest redone', async () => {
    const r = await run({ openedTarget: subsetTarget() });
    const doc = readJson<Report>(join(r.dir, 'report.json'));
    const resign = (d: Report) => {
      const re = summarize(d.scenarios, false, { profile: d.profile.name, ...(d.subset ? { subset: d.subset } : {}) });
      d.summary = re.summary;
      d.families = re.families;
      writeReportDir(r.dir, d);
      return verify(r.dir).problems;
    };
    // Hide the failing and the limited scenarios as not claimed.
    const hidden = structuredClone(doc);
    for (const x of hidden.scenarios.filter((y) => /cert-(wrong|limited)$/.test(y.id))) Object.assign(x, { status: 'skip', reason: 'not claimed: hidden', checks: [], notClaimed: true });
    hidden.subset!.claimedScenarios -= 2;
    expect(resign(hidden)).toEqual(['report.json marks 2 scenarios claimed or not claimed against the declared subset: xen_version$XENVER_version/cert-wrong, xen_version$XENVER_version/cert-limited']);
    // Claim more operations than were run.
    const wider = structuredClone(doc);
    wider.subset!.ops = [...wider.subset!.ops!, 'event_channel_op'];
    expect(resign(wider)).toEqual([
      'report.json marks 2 scenarios claimed or not claimed against the declared subset: event_channel_op$EVTCHNOP_send/cert-broken, event_channel_op$EVTCHNOP_send/cert-einval',
      `report.json: the subset's operations (1 of ${total}) are not what the declared subset gives (${1 + xenSpec.hypercalls.find((h) => h.name === 'event_channel_op')!.subops!.ops.filter((o) => profileOperations(xenSpec, findProfile('xen-4.17-pv64-core')!).includes(`event_channel_op$${o.name}`)).length} of ${total})`,
    ]);
    // Drop the subset but keep the marks: the not-claimed scenarios would no longer count, so the verdict turns.
    const dropped = structuredClone(doc);
    delete dropped.subset;
    const problems = resign(dropped);
    expect(problems).toContain('report.json: event_channel_op$EVTCHNOP_send/cert-broken is marked not claimed, but the report declares no subset');
    expect(problems).toContain('report.json: event_channel_op$EVTCHNOP_send/cert-einval is marked not claimed, but the report declares no subset');
  });
});

describe('the certify command', () => {
  const cli = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
    return { code, out, err };
  };

  it('lists the profiles, runs a partial certification of the shipped suite, and verifies it', async () => {
    const l = await cli('certify', '--list-profiles', '--json');
    expect(l.code).toBe(0);
    const profiles = JSON.parse(l.out) as { name: string; scenarios: number }[];
    expect(profiles.map((p) => p.name)).toEqual(['xen-4.17-pv64-core', 'xen-4.17-pv64-full', 'xen-4.17-arm64']);
    const dir = join(tmp, 'cli');
    const r = await cli('certify', '--target', 'reference', '--profile', 'xen-4.17-pv64-core', '--only', 'event_channel_op$EVTCHNOP_send/*', '--report', dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^hyperabi certify: xen-4\.17-pv64-core on reference: \d+ scenarios/);
    expect(r.out).toContain('PARTIAL RUN (--only)');
    const v = await cli('certify', 'verify', dir);
    expect(v.code).toBe(1);
    expect(v.out).toMatch(/REJECTED: .*\n {2}- report\.json is a partial run/);
  });

  it('exits 2 with a clear message on bad usage', async () => {
    const dir = join(tmp, 'bad');
    expect(await cli('certify', '--target', 'reference', '--profile', 'nope', '--report', dir)).toMatchObject({ code: 2, err: expect.stringMatching(/unknown profile 'nope'; profiles: xen-4\.17-pv64-core/) });
    expect(await cli('certify', '--target', 'qemu', '--profile', 'xen-4.17-pv64-core', '--report', dir)).toMatchObject({ code: 2, err: expect.stringMatching(/unknown target 'qemu'; use reference \| cmd:"<command>" \| live-xen/) });
    expect(await cli('certify', '--target', 'reference', '--profile', 'xen-4.17-pv64-core')).toMatchObject({ code: 2, err: expect.stringMatching(/certify needs --report/) });
    expect(await cli('certify', '--target', 'cmd:', '--profile', 'xen-4.17-pv64-core', '--report', dir)).toMatchObject({ code: 2, err: expect.stringMatching(/cmd: needs a command line/) });
    expect(await cli('certify', '--target', 'reference', '--profile', 'xen-4.17-pv64-core', '--only', 'zzz/*', '--report', dir)).toMatchObject({ code: 2, err: expect.stringMatching(/no scenario of xen-4\.17-pv64-core matches --only zzz\/\*/) });
    const xf = join(tmp, 'bad-xf.txt');
    writeFileSync(xf, 'fine/one\nnot@fine\n');
    expect(await cli('certify', '--target', 'reference', '--profile', 'xen-4.17-pv64-core', '--expect-failures', xf, '--report', dir)).toMatchObject({ code: 2, err: expect.stringMatching(/bad-xf\.txt:2: 'not@fine' is not a scenario id or glob/) });
    expect(await cli('certify', 'verify', join(tmp, 'no-such-dir'))).toMatchObject({ code: 2, err: expect.stringMatching(/is not a directory/) });
  });
});

describe('docs/certify.md', () => {
  it('documents every field of report.json, of a scenario record and of a tally, and every profile', () => {
    const doc = readFileSync('docs/certify.md', 'utf8');
    for (const schema of [ReportSchema, ScenarioRecord, Tally]) for (const k of Object.keys(schema.properties)) expect(doc, k).toMatch(new RegExp(`\`[^\`\\n]*(?<![\\w$])${k.replace('$', '\\$')}(?![\\w])[^\`\\n]*\``));
    for (const p of PROFILES) expect(doc, p.name).toContain(`\`${p.name}\``);
  });
});
