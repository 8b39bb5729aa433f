/**
 * The live tier (`npm run bench -- live-xen`): the live scenarios on real Xen 4.17 under QEMU,
 * issue 7's goal being a whole live run under 60 s. A run (boot, programs, serial lines) takes
 * seconds, too long for tinybench's iterations: two whole runs of `hyperabi xen diff`'s work
 * are timed and printed beside the table (Xen's boot, the whole target run, the reference
 * twin); the table gets the harness's own share, encoding the programs and parsing one run's
 * serial lines. Skipped with a line when QEMU or the Xen image is missing.
 */
import { join } from 'node:path';
import type { Bench } from 'tinybench';
import { lower, programDomains } from '../conformance/lower.js';
import { loadScenarioFiles, SCENARIO_DIR } from '../conformance/suite.js';
import { xenSpec } from '../spec/index.js';
import { findAbi } from '../spec/query.js';
import { diffScenarios } from '../live-xen/diff.js';
import { encodePrograms } from '../live-xen/format.js';
import { parseSerial } from '../live-xen/serial.js';
import { liveXenAvailable, liveXenTarget } from '../live-xen/target.js';

export async function register(bench: Bench): Promise<void> {
  const avail = liveXenAvailable();
  if (!avail.ok) {
    console.log(`live-xen: skipped (${avail.why})`);
    return;
  }
  const scenarios = loadScenarioFiles(join(SCENARIO_DIR, 'live'));
  let lines: string[] = [];
  const target = liveXenTarget({ onLine: (l) => lines.push(l) });
  for (let run = 1; run <= 2; run++) {
    lines = [];
    const t0 = performance.now();
    const r = await diffScenarios(scenarios, target);
    const ms = performance.now() - t0;
    const boot = target.lastRun.boots.map((b) => `${(b.ms / 1000).toFixed(2)} s (${b.end}, ${b.programs} programs)`).join(', ');
    console.log(
      `live-xen: run ${run}: ${r.compared} scenarios, ${r.hypercalls} hypercalls compared, ${r.divergences.length} divergences; ` +
        `whole diff ${(ms / 1000).toFixed(2)} s (Xen ${(r.ms.xen / 1000).toFixed(2)} s: boots ${boot}; reference twin ${(r.ms.reference / 1000).toFixed(2)} s) (goal: < 60 s)`,
    );
  }
  const abi = findAbi(xenSpec, 'x86_64-pv')!;
  const regs = { number: abi.convention.number, args: abi.convention.args };
  const programs = scenarios
    .filter((s) => !s.limits?.['live-xen'])
    .map((s) => lower(xenSpec, s, target.layouts(programDomains(s))).program);
  const serial = lines;
  bench.add(`live-xen: encode ${programs.length} programs`, () => {
    encodePrograms(programs, regs);
  });
  bench.add(`live-xen: parse one run's ${serial.length} serial lines`, () => {
    parseSerial(serial);
  });
}
