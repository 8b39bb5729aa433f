/**
 * `hyperabi certify`: run a profile of the conformance suite on an implementation and write
 * a verifiable report (docs/certify.md); `certify verify DIR` checks one; `certify
 * --list-profiles` lists the profiles.
 */
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { xenSpec, stableJson } from '../spec/index.js';
import { certify, CertifyUsageError, readKeyFile, TARGET_FORMS, verifyReportDir, type CertifyResult } from '../conformance/certify/index.js';
import { PROFILES, profileScenarios } from '../conformance/profiles.js';
import type { Outcome } from '../conformance/runner.js';
import { loadSuite } from '../conformance/suite.js';
import type { Report, Tally } from '../conformance/certify/model.js';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

interface CertifyFlags {
  target?: string;
  profile?: string;
  expectFailures?: string;
  only?: string[];
  report?: string;
  json?: boolean;
  listProfiles?: boolean;
  signKey?: string;
  capture?: string;
}

/** A progress line on a terminal: a bar, counts by outcome and the last scenario; redrawn at most every 80 ms. */
function progressLine(io: Io, label: string): { tick: (done: number, total: number, last: Outcome) => void; end: () => void } {
  const counts = { pass: 0, fail: 0, error: 0, skip: 0 };
  let lastDraw = 0;
  let shown = false;
  const cols = Math.max(60, process.stderr.columns ?? 100);
  return {
    tick(done, total, last) {
      counts[last.status]++;
      const now = Date.now();
      if (done < total && now - lastDraw < 80) return;
      lastDraw = now;
      const width = 24;
      const filled = Math.round((width * done) / total);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      const tallies = `\x1b[32m${counts.pass} pass\x1b[0m ${counts.fail ? '\x1b[31m' : ''}${counts.fail} fail\x1b[0m ${counts.error ? '\x1b[33m' : ''}${counts.error} error\x1b[0m ${counts.skip} skip`;
      const head = `${label} ${bar} ${done}/${total} `;
      const room = cols - head.length - 30;
      const id = room > 10 ? ` ${last.id.length > room ? `…${last.id.slice(-room + 1)}` : last.id}` : '';
      io.err(`\r\x1b[K${head}${tallies}${id}`);
      shown = true;
    },
    end() {
      if (shown) io.err('\r\x1b[K');
    },
  };
}

const tally = (t: Tally) =>
  `${t.pass} pass, ${t.fail} fail, ${t.error} error, ${t.skip} skip${t.notClaimed ? ` (${t.notClaimed} not claimed)` : ''}${t.expectedFailures ? `, ${t.expectedFailures} expected failures` : ''}${t.unexpectedPasses ? `, ${t.unexpectedPasses} unexpected passes` : ''}`;

function printResult(io: Io, r: CertifyResult, dir: string): void {
  const rep: Report = r.report;
  const s = rep.summary;
  const shown = (p: string) => relative(process.cwd(), p) || p;
  io.out(`hyperabi certify: ${rep.profile.name} on ${rep.target.spec}: ${s.all.total} scenarios in ${(rep.durationMs / 1000).toFixed(2)} s\n`);
  io.out(`  Required     ${s.required.total}: ${tally(s.required)}\n`);
  io.out(`  Recommended  ${s.recommended.total}: ${tally(s.recommended)}\n`);
  if (rep.subset) {
    const sub = rep.subset;
    io.out(`  declared subset: ${sub.operations.claimed.length} of ${sub.operations.total} operations of the profile, ${sub.claimedScenarios} of ${s.all.total} scenarios claimed; the rest is not claimed (skipped)\n`);
  }
  io.out(`  by family: ${rep.families.map((f) => `${f.family} ${f.all.pass}/${f.all.total}`).join(', ')}\n`);
  const bad = rep.scenarios.filter((x) => (x.status === 'fail' || x.status === 'error') && !x.expectedFailure).sort((a, b) => (a.level === b.level ? 0 : a.level === 'required' ? -1 : 1));
  if (bad.length > 0) {
    io.out(`  failures and errors (${bad.length}):\n`);
    for (const x of bad.slice(0, 20)) io.out(`    ${x.status.toUpperCase()} ${x.level === 'required' ? '[R]' : '[r]'} ${x.id}: ${x.reason ?? ''}\n`);
    if (bad.length > 20) io.out(`    ... and ${bad.length - 20} more in ${shown(resolve(dir, 'report.html'))}\n`);
  }
  const up = rep.scenarios.filter((x) => x.unexpectedPass);
  if (up.length > 0) io.out(`  unexpected passes (listed as expected failures, and passed): ${up.map((x) => x.id).join(', ')}\n`);
  if (r.unusedExpectations.length > 0) io.out(`  expected-failure entries that match no scenario of the profile: ${r.unusedExpectations.map((e) => e.pattern).join(', ')}\n`);
  const c = rep.coverage;
  io.out(`  coverage: ${c.operations.exercised}/${c.operations.total} operations, ${c.errors.exercised}/${c.errors.total} declared errors exercised\n`);
  io.out(`  wrote ${r.files.map(shown).join(', ')}\n`);
  const partial = (rep.options.only?.length ?? 0) > 0;
  io.out(
    partial
      ? `PARTIAL RUN (--only): ${r.exitCode === 0 ? 'every selected Required scenario passes or is an expected failure' : 'Required scenarios fail'}\n`
      : s.certified
        ? `CERTIFIED: every Required scenario of ${rep.profile.name} passes or is an expected failure\n`
        : s.subsetCertified
          ? `${s.verdict.replace(/^certified for/, 'CERTIFIED FOR')}: every Required scenario inside the subset passes or is an expected failure\n`
          : `${s.verdict.replace(/^not certified/, 'NOT CERTIFIED')}\n`,
  );
}

/** Adds the `certify` command; `fail` raises a usage error (exit 2), `exit` sets the exit code. */
export function register(program: Command, io: Io, exit: (code: number) => void, fail: (message: string) => never): void {
  const cmd = program
    .command('certify')
    .description(
      `Certify an implementation against a profile of the conformance suite and write a verifiable report directory ` +
        `(report.json, junit.xml, report.html, certificate.json). Exit 0 when every Required scenario passes or is an expected failure, 1 otherwise, 2 on bad usage.`,
    )
    .option('--target <target>', `what to certify: ${TARGET_FORMS}`)
    .option('--profile <name>', `the profile claimed: ${PROFILES.map((p) => p.name).join(', ')}`)
    .option('--expect-failures <file>', 'scenario ids or globs expected not to pass, one a line (# comments, an optional reason after the id)')
    .option('--only <glob...>', 'run only these scenario ids or globs (a partial run: not a certification)')
    .option('--report <dir>', 'the report directory to write')
    .option('--sign-key <file>', 'also sign the certificate: an Ed25519 PEM private key, or a file of HMAC secret bytes')
    .option('--capture <file>', 'cmd: targets: write the whole testee session to this file (> harness lines, < testee lines, # notes)')
    .option('--json', 'print the certificate as JSON instead of the text summary')
    .option('--list-profiles', 'list the profiles with their scenario counts')
    .exitOverride()
    .action(async (opts: CertifyFlags) => {
      try {
        if (opts.listProfiles) return listProfiles(io, opts.json === true);
        const missing = (['target', 'profile', 'report'] as const).filter((k) => !opts[k]);
        if (missing.length > 0) fail(`certify needs ${missing.map((k) => `--${k}`).join(', ')} (e.g. hyperabi certify --target reference --profile xen-4.17-pv64-core --report out/cert)`);
        let signKey;
        try {
          signKey = opts.signKey ? readKeyFile(opts.signKey, 'sign') : undefined;
        } catch (e) {
          fail((e as Error).message);
        }
        const tty = process.stderr.isTTY === true && !opts.json;
        const bar = tty ? progressLine(io, `certify ${opts.profile!}`) : undefined;
        let result: CertifyResult;
        try {
          result = await certify({
            target: opts.target!,
            profile: opts.profile!,
            reportDir: opts.report!,
            ...(opts.expectFailures ? { expectFailures: opts.expectFailures } : {}),
            ...(opts.only ? { only: opts.only } : {}),
            ...(signKey ? { signKey } : {}),
            ...(opts.capture !== undefined ? { capture: opts.capture } : {}),
            ...(bar ? { progress: bar.tick } : {}),
          });
        } finally {
          bar?.end();
        }
        if (opts.json) io.out(stableJson({ exitCode: result.exitCode, reportDir: resolve(opts.report!), certificate: result.certificate }));
        else printResult(io, result, opts.report!);
        exit(result.exitCode);
      } catch (e) {
        if (e instanceof CertifyUsageError) fail(e.message);
        throw e;
      }
    });

  cmd
    .command('verify <dir>')
    .description('Check a report directory: the certificate, the file digests, the report against its schema and itself, and completeness for its profile (every scenario of this suite has an outcome).')
    .option('--key <file>', 'check the signature too: the Ed25519 public (or private) PEM key, or the HMAC secret file')
    .option('--json', 'print the result as JSON')
    .exitOverride()
    .action((dir: string, opts: { key?: string; json?: boolean }) => {
      // `certify verify --json DIR`: commander gives --json to certify, which has one too.
      const json = opts.json === true || (cmd.opts() as CertifyFlags).json === true;
      if (!existsSync(dir) || !statSync(dir).isDirectory()) fail(`${dir} is not a directory (give the --report DIR of a certify run)`);
      let key;
      try {
        key = opts.key ? readKeyFile(opts.key, 'verify') : undefined;
      } catch (e) {
        fail((e as Error).message);
      }
      const r = verifyReportDir(dir, { spec: xenSpec, suite: () => loadSuite(xenSpec), ...(key ? { key } : {}) });
      if (json) io.out(stableJson({ ok: r.ok, problems: r.problems, notes: r.notes, certificate: r.certificate }));
      else {
        const c = r.certificate;
        const what = c ? `${c.profile} on ${c.target}, ${c.summary.all.total} scenarios, ${c.summary.verdict}, ${c.date}` : dir;
        if (r.ok) io.out(`verified: ${dir}: ${what}\n`);
        else {
          io.out(`REJECTED: ${dir}: ${what}\n`);
          for (const p of r.problems) io.out(`  - ${p}\n`);
        }
        for (const n of r.notes) io.out(`  note: ${n}\n`);
      }
      exit(r.ok ? 0 : 1);
    });
}

function listProfiles(io: Io, json: boolean): void {
  let suite;
  try {
    suite = loadSuite(xenSpec);
  } catch (e) {
    throw new CertifyUsageError(`cannot load the conformance suite: ${(e as Error).message}`);
  }
  const rows = PROFILES.map((p) => {
    const entries = profileScenarios(p, suite, xenSpec);
    const required = entries.filter((e) => e.level === 'required').length;
    return { name: p.name, title: p.title, abi: p.abi, doc: p.doc, scenarios: entries.length, required, recommended: entries.length - required };
  });
  if (json) {
    io.out(stableJson(rows));
    return;
  }
  for (const r of rows) {
    io.out(`${r.name}  (${r.abi}; ${r.scenarios} scenarios: ${r.required} Required, ${r.recommended} Recommended)\n  ${r.title}\n  ${r.doc}\n\n`);
  }
}
