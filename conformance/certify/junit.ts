/**
 * JUnit XML of a certification report: one <testsuite> per family, one <testcase> per
 * scenario (classname: the family, name: the scenario id). A fail is a <failure> with the
 * failing checks, an error an <error>, a skip <skipped>; a scenario listed as an expected
 * failure that did not pass is <skipped> with "expected failure: ..." (it does not count
 * against the run), and an unexpected pass says so in its <system-out>.
 */
import type { Report, ScenarioRecord } from './model.js';

/** Escapes text for XML content and attribute values (and drops characters XML 1.0 forbids). */
export function xmlEscape(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

function detail(r: ScenarioRecord): string {
  const bad = r.checks.filter((c) => !c.ok);
  const lines = bad.map((c) => `step ${c.step}: ${c.what}: expected ${c.expected}, got ${c.actual}`).filter((l) => l !== r.reason);
  return [r.reason ?? '', ...lines, `scenario: ${r.doc} (${r.ref})`].filter((l) => l !== '').join('\n');
}

function testcase(r: ScenarioRecord): string {
  const attrs = `classname="${xmlEscape(r.family)}" name="${xmlEscape(r.id)}" time="${(r.ms / 1000).toFixed(6)}"`;
  const body: string[] = [];
  const level = `level: ${r.level}`;
  if (r.expectedFailure && r.status !== 'pass') {
    const why = r.expectedFailure.reason ? ` (${r.expectedFailure.reason})` : '';
    body.push(`<skipped message="${xmlEscape(`expected failure${why}: ${r.status}: ${r.reason ?? ''}`)}"/>`);
  } else if (r.status === 'fail') {
    body.push(`<failure message="${xmlEscape(r.reason ?? 'failed')}" type="fail">${xmlEscape(detail(r))}</failure>`);
  } else if (r.status === 'error') {
    body.push(`<error message="${xmlEscape(r.reason ?? 'error')}" type="error">${xmlEscape(detail(r))}</error>`);
  } else if (r.status === 'skip') {
    body.push(`<skipped message="${xmlEscape(r.reason ?? 'skipped')}"/>`);
  }
  const out = [level, ...(r.unexpectedPass ? [`unexpected pass: listed as an expected failure (${r.expectedFailure?.pattern ?? ''})`] : []), ...(r.notes ?? [])];
  body.push(`<system-out>${xmlEscape(out.join('\n'))}</system-out>`);
  return `    <testcase ${attrs}>\n      ${body.join('\n      ')}\n    </testcase>`;
}

/** The JUnit XML document of a report. */
export function junitXml(report: Report): string {
  const byFamily = new Map<string, ScenarioRecord[]>();
  for (const r of report.scenarios) {
    const l = byFamily.get(r.family) ?? [];
    l.push(r);
    byFamily.set(r.family, l);
  }
  const suites = [...byFamily].sort(([a], [b]) => a.localeCompare(b)).map(([family, rs]) => {
    const failures = rs.filter((r) => r.status === 'fail' && !r.expectedFailure).length;
    const errors = rs.filter((r) => r.status === 'error' && !r.expectedFailure).length;
    const skipped = rs.filter((r) => r.status === 'skip' || (r.expectedFailure && r.status !== 'pass')).length;
    const time = rs.reduce((t, r) => t + r.ms, 0) / 1000;
    return (
      `  <testsuite name="${xmlEscape(`${report.profile.name}.${family}`)}" tests="${rs.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time.toFixed(6)}" timestamp="${report.started.replace(/Z$/, '')}">\n` +
      rs.map(testcase).join('\n') +
      '\n  </testsuite>'
    );
  });
  const s = report.summary.all;
  const failures = s.fail - report.scenarios.filter((r) => r.status === 'fail' && r.expectedFailure).length;
  const errors = s.error - report.scenarios.filter((r) => r.status === 'error' && r.expectedFailure).length;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="${xmlEscape(`hyperabi certify ${report.profile.name} on ${report.target.name}`)}" tests="${s.total}" failures="${failures}" errors="${errors}" time="${(report.durationMs / 1000).toFixed(3)}">\n` +
    `${suites.join('\n')}\n</testsuites>\n`
  );
}
