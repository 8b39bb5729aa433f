/**
 * `hyperabi xen`: real Xen 4.17 under QEMU. `xen diff` runs scenarios on real Xen (our PV
 * test kernel as dom0, live-xen/) and on the reference VMM and lists every divergence.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadScenarioFiles, SCENARIO_DIR } from '../conformance/suite.js';
import { stableJson } from '../spec/index.js';
import { diffScenarios, formatDiff } from '../live-xen/diff.js';
import { liveXenTarget } from '../live-xen/target.js';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** The live tier's scenarios. */
export const LIVE_SCENARIOS = join(SCENARIO_DIR, 'live');

/** Adds the `xen` command; `fail` raises a usage error (exit 2), `exit` sets the exit code. */
export function register(program: Command, io: Io, exit: (code: number) => void, fail: (message: string) => never): void {
  const xen = program.command('xen').description('Real Xen 4.17 under QEMU, with our PV test kernel as dom0 (live-xen/).').exitOverride();
  xen
    .command('diff')
    .description(
      'Run scenarios on real Xen and on the reference VMM and list every divergence (scenario, step, what the reference gave, what Xen gave). ' +
        'Needs qemu-system-x86_64, gcc and /boot/xen-4.17-amd64.gz (Debian qemu-system-x86, xen-hypervisor-4.17-amd64). Exit 1 when they diverge.',
    )
    .option('--scenarios <path>', 'a scenario file or folder (default: conformance/scenarios/live)')
    .option('--json', 'print the report as JSON')
    .option('--verbose', "print Xen's serial lines as they arrive (to stderr)")
    .action(async (opts: { scenarios?: string; json?: boolean; verbose?: boolean }) => {
      const path = resolve(opts.scenarios ?? LIVE_SCENARIOS);
      if (!existsSync(path)) fail(`no scenario file or folder ${path}`);
      let scenarios;
      try {
        scenarios = loadScenarioFiles(path);
      } catch (e) {
        fail((e as Error).message);
      }
      let live;
      try {
        live = liveXenTarget(opts.verbose ? { onLine: (l) => io.err(`| ${l}\n`) } : {});
      } catch (e) {
        fail(`the live Xen target is not usable here: ${(e as Error).message}`);
      }
      const report = await diffScenarios(scenarios, live, { progress: (w) => io.err(`${w}\n`) });
      await live.dispose();
      if (opts.json) {
        const plain = {
          ...report,
          outcomes: undefined,
          boots: live.lastRun.boots,
        };
        io.out(stableJson(plain));
      } else {
        io.out(formatDiff(report));
        io.out(`Xen boots: ${live.lastRun.boots.map((b) => `${b.programs} programs, ${b.end} after ${(b.ms / 1000).toFixed(1)} s`).join('; ')}\n`);
      }
      exit(report.divergences.length > 0 ? 1 : 0);
    });
}
