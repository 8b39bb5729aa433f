/**
 * The HTML page of a certification report: one self-contained file (inline CSS, no scripts,
 * no external assets) with the verdict, the run's identity, the summary, a table per
 * family, every failure and error expanded with its checks (expected and actual) and its
 * steps, expected failures, unexpected passes, skips, spec coverage and every scenario.
 */
import { stringify as yaml } from 'yaml';
import type { Report, ScenarioRecord, Tally } from './model.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const CSS = `
:root { --pass: #1a7f37; --fail: #cf222e; --error: #9a6700; --skip: #6e7781; --xf: #8250df; --bg: #f6f8fa; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px; padding: 24px; color: #1f2328; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0; display: inline; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; margin: 4px 0; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; margin: 6px 0; } th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg); } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { display: inline-block; padding: 4px 12px; border-radius: 6px; color: #fff; font-weight: 600; letter-spacing: .03em; }
.verdict.ok { background: var(--pass); } .verdict.bad { background: var(--fail); } .verdict.partial { background: var(--error); }
.st { display: inline-block; min-width: 48px; text-align: center; border-radius: 4px; color: #fff; font-size: 12px; padding: 0 6px; }
.st.pass { background: var(--pass); } .st.fail { background: var(--fail); } .st.error { background: var(--error); } .st.skip { background: var(--skip); } .st.xf { background: var(--xf); }
.meta td:first-child { color: #59636e; white-space: nowrap; }
details.sc { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; padding: 6px 10px; }
details.sc > summary { cursor: pointer; } details.sc[open] > summary { margin-bottom: 6px; }
tr.bad td { background: #ffebe9; } li.bad > pre { border-color: var(--fail); background: #ffebe9; }
ol.steps { padding-left: 28px; margin: 4px 0; } .muted { color: #59636e; }
.bar { display: inline-block; height: 10px; background: var(--line); width: 160px; border-radius: 3px; overflow: hidden; vertical-align: middle; }
.bar > span { display: block; height: 100%; background: var(--pass); }
`;

const tallyCells = (t: Tally) =>
  [t.total, t.pass, t.fail, t.error, t.skip, t.notClaimed, t.expectedFailures, t.unexpectedPasses].map((n) => `<td class="n">${n}</td>`).join('');
const TALLY_HEAD = '<th>scenarios</th><th>pass</th><th>fail</th><th>error</th><th>skip</th><th>of which not claimed</th><th>expected failures</th><th>unexpected passes</th>';

function badge(r: ScenarioRecord): string {
  if (r.notClaimed) return '<span class="st skip" title="outside the declared subset">not claimed</span>';
  if (r.expectedFailure && r.status !== 'pass') return `<span class="st xf" title="expected failure">${r.status} (expected)</span>`;
  return `<span class="st ${r.status}">${r.status}</span>`;
}

function scenarioDetails(r: ScenarioRecord, open: boolean): string {
  const badSteps = new Set(r.checks.filter((c) => !c.ok).map((c) => c.step));
  const checks =
    r.checks.length === 0
      ? '<p class="muted">No checks ran.</p>'
      : `<table class="checks"><tr><th>step</th><th>check</th><th>expected</th><th>actual</th><th></th></tr>${r.checks
          .map(
            (c) =>
              `<tr class="${c.ok ? 'ok' : 'bad'}"><td class="n">${c.step}</td><td>${esc(c.what)}</td><td class="mono expected">${esc(c.expected)}</td><td class="mono actual">${esc(c.actual)}</td><td>${c.ok ? '✓' : '✗'}</td></tr>`,
          )
          .join('')}</table>`;
  const steps = r.steps
    ? `<div><b>Steps</b><ol class="steps">${r.steps
        .map((st, i) => `<li class="${badSteps.has(i + 1) ? 'bad' : ''}"><pre>${esc(yaml(st, { lineWidth: 0 }).trimEnd())}</pre></li>`)
        .join('')}</ol></div>`
    : '';
  const xf = r.expectedFailure ? `<p>Expected failure: <code>${esc(r.expectedFailure.pattern)}</code>${r.expectedFailure.reason ? ` — ${esc(r.expectedFailure.reason)}` : ''}</p>` : '';
  const notes = r.notes ? `<p>Notes:</p><pre>${esc(r.notes.join('\n'))}</pre>` : '';
  return `<details class="sc" id="${esc(`s-${r.id}`)}" data-status="${r.status}"${open ? ' open' : ''}>
<summary>${badge(r)} <h3 class="mono">${esc(r.id)}</h3> <span class="muted">${r.level}, ${esc(r.kind)}, ${esc(r.family)}</span></summary>
<p>${esc(r.doc)}<br><span class="muted">Reference: ${esc(r.ref)}</span></p>
${r.reason ? `<p class="reason"><b>${r.status === 'skip' ? 'Skipped' : r.status === 'error' ? 'Error' : 'Failed'}:</b> <span class="mono">${esc(r.reason)}</span></p>` : ''}
${xf}${checks}${steps}${notes}
</details>`;
}

const pct = (a: number, b: number) => (b === 0 ? 100 : Math.round((1000 * a) / b) / 10);
const bar = (a: number, b: number) => `<span class="bar"><span style="width:${pct(a, b)}%"></span></span> ${a} / ${b} (${pct(a, b)}%)`;

/** The HTML page of a report. */
export function reportHtml(report: Report): string {
  const s = report.summary;
  const partial = (report.options.only?.length ?? 0) > 0;
  const sub = s.subsetCertified !== undefined ? report.subset : undefined;
  const verdict = partial
    ? '<span class="verdict partial">PARTIAL RUN (--only): not a certification</span>'
    : s.certified
      ? '<span class="verdict ok">CERTIFIED: every Required scenario passes or is an expected failure</span>'
      : sub && s.subsetCertified
        ? `<span class="verdict ok subset">CERTIFIED FOR A SUBSET of ${esc(report.profile.name)}: ${sub.operations.claimed.length} of ${sub.operations.total} operations, ${sub.claimedScenarios} of ${report.scenarios.length} scenarios; the rest is not claimed</span>`
        : sub
          ? '<span class="verdict bad">NOT CERTIFIED: Required scenarios inside the declared subset fail</span>'
          : '<span class="verdict bad">NOT CERTIFIED: Required scenarios fail</span>';
  const failures = report.scenarios.filter((r) => (r.status === 'fail' || r.status === 'error') && !r.expectedFailure);
  const expected = report.scenarios.filter((r) => r.expectedFailure && r.status !== 'pass');
  const unexpected = report.scenarios.filter((r) => r.unexpectedPass);
  const skipped = report.scenarios.filter((r) => r.status === 'skip' && !r.expectedFailure && !r.notClaimed);
  const notClaimed = report.scenarios.filter((r) => r.notClaimed);
  const subset = report.subset;
  const required = failures.filter((r) => r.level === 'required');
  const ordered = [...required, ...failures.filter((r) => r.level !== 'required')];
  const c = report.coverage;
  const xfFile = report.options.expectFailures;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`hyperabi certify: ${report.profile.name} on ${report.target.name}`)}</title>
<style>${CSS}</style></head>
<body>
<h1>hyperabi certification report</h1>
<p>${esc(report.profile.title)} (<code>${esc(report.profile.name)}</code>) on <code>${esc(report.target.spec)}</code></p>
<p id="verdict">${verdict}</p>
<p id="verdict-text">${esc(s.verdict.charAt(0).toUpperCase() + s.verdict.slice(1))}.</p>
<table class="meta">
<tr><td>hyperabi</td><td class="mono">${esc(report.hyperabi.version)}</td></tr>
<tr><td>spec</td><td class="mono">${esc(report.spec.name)} sha256 ${esc(report.spec.hash)}</td></tr>
<tr><td>suite</td><td class="mono">${report.suite.scenarios} scenarios, sha256 ${esc(report.suite.hash)}</td></tr>
<tr><td>target</td><td class="mono">${esc(report.target.spec)}</td></tr>
<tr><td>run</td><td>${esc(report.started)}, ${(report.durationMs / 1000).toFixed(2)} s, Node ${esc(report.host.node)} on ${esc(report.host.platform)}/${esc(report.host.arch)}</td></tr>
${partial ? `<tr><td>only</td><td class="mono">${esc(report.options.only!.join(' '))}</td></tr>` : ''}
${subset ? `<tr><td>declared subset</td><td>${subset.ops ? `${subset.ops.length} operations declared` : 'no operation list'}${subset.scenarios ? `, scenarios ${esc(subset.scenarios.join(' '))}` : ''}: ${subset.operations.claimed.length} of ${subset.operations.total} operations of the profile, ${subset.claimedScenarios} of ${report.scenarios.length} scenarios claimed</td></tr>` : ''}
${xfFile ? `<tr><td>expected failures</td><td class="mono">${esc(xfFile.file)} (${xfFile.entries.length} entries)</td></tr>` : ''}
</table>

<h2 id="summary">Summary</h2>
<table class="summary"><tr><th></th>${TALLY_HEAD}</tr>
<tr><th>Required</th>${tallyCells(s.required)}</tr>
<tr><th>Recommended</th>${tallyCells(s.recommended)}</tr>
<tr><th>All</th>${tallyCells(s.all)}</tr></table>

<h2 id="families">By family</h2>
<table class="families"><tr><th>family</th>${TALLY_HEAD}<th>Required passing or expected${subset ? ' (of those claimed)' : ''}</th></tr>
${report.families
  .map((f) => `<tr><td>${esc(f.family)}</td>${tallyCells(f.all)}<td class="n">${f.required.pass + f.required.expectedFailures} / ${f.required.total - f.required.notClaimed}</td></tr>`)
  .join('\n')}
</table>

<h2 id="failures">Failures and errors (${failures.length}; ${required.length} Required)</h2>
${ordered.length === 0 ? '<p>None.</p>' : ordered.map((r) => scenarioDetails(r, true)).join('\n')}

<h2 id="unexpected-passes">Unexpected passes (${unexpected.length})</h2>
${unexpected.length === 0 ? '<p>None.</p>' : `<ul>${unexpected.map((r) => `<li><code>${esc(r.id)}</code> (listed as <code>${esc(r.expectedFailure!.pattern)}</code>)</li>`).join('')}</ul>`}

<h2 id="expected-failures">Expected failures (${expected.length})</h2>
${expected.length === 0 ? '<p>None.</p>' : expected.map((r) => scenarioDetails(r, false)).join('\n')}

${
  subset
    ? `<h2 id="subset">Declared subset: ${notClaimed.length} scenarios not claimed</h2>
<p>The target declared the subset it implements; the scenarios of the profile outside it were not run and do not count against the verdict, which covers the ${subset.claimedScenarios} scenarios inside it.</p>
<table><tr><td>operations of the profile inside the subset (${subset.operations.claimed.length} of ${subset.operations.total})</td><td class="mono">${esc(subset.operations.claimed.join(' ')) || '<span class="muted">none</span>'}</td></tr>
${subset.ops ? `<tr><td>operations declared (ops=)</td><td class="mono">${esc(subset.ops.join(' '))}</td></tr>` : ''}
${subset.scenarios ? `<tr><td>scenarios declared (scenarios=)</td><td class="mono">${esc(subset.scenarios.join(' '))}</td></tr>` : ''}</table>
<details id="not-claimed"><summary>Scenarios not claimed (${notClaimed.length})</summary><table><tr><th>scenario</th><th>level</th><th>reason</th></tr>${notClaimed.map((r) => `<tr><td class="mono">${esc(r.id)}</td><td>${r.level}</td><td>${esc(r.reason ?? '')}</td></tr>`).join('')}</table></details>
`
    : ''
}
<h2 id="skipped">Skipped (${skipped.length}${subset ? ', besides those not claimed' : ''})</h2>
${skipped.length === 0 ? '<p>None.</p>' : `<table><tr><th>scenario</th><th>level</th><th>reason</th></tr>${skipped.map((r) => `<tr><td class="mono">${esc(r.id)}</td><td>${r.level}</td><td>${esc(r.reason ?? '')}</td></tr>`).join('')}</table>`}

<h2 id="coverage">Spec coverage</h2>
<table><tr><th></th><th>exercised</th><th>by a passing scenario</th></tr>
<tr><td>operations of the profile</td><td>${bar(c.operations.exercised, c.operations.total)}</td><td>${bar(c.operations.passed, c.operations.total)}</td></tr>
<tr><td>declared errors of those operations</td><td>${bar(c.errors.exercised, c.errors.total)}</td><td>${bar(c.errors.passed, c.errors.total)}</td></tr></table>
<details><summary>Operations no scenario exercised (${c.operations.missing.length})</summary><pre>${esc(c.operations.missing.join('\n'))}</pre></details>
<details><summary>Declared errors no scenario exercised (${c.errors.missing.length})</summary><pre>${esc(c.errors.missing.join('\n'))}</pre></details>

<h2 id="all">All scenarios (${report.scenarios.length})</h2>
<details><summary>Show the table</summary>
<table class="all"><tr><th>scenario</th><th>family</th><th>level</th><th>kind</th><th>outcome</th><th>ms</th></tr>
${report.scenarios.map((r) => `<tr><td class="mono">${esc(r.id)}</td><td>${esc(r.family)}</td><td>${r.level}</td><td>${esc(r.kind)}</td><td>${badge(r)}</td><td class="n">${r.ms.toFixed(2)}</td></tr>`).join('\n')}
</table></details>
</body></html>
`;
}
