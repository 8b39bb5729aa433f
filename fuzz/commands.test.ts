/**
 * The fuzzer's steps as fast-check model-based commands (fuzz/commands.ts): no false positive
 * on the reference VMM, and planted bugs found, shrunk by fast-check and turned into
 * reproducer scenarios that pass on the reference VMM and fail on the bug. Seeds are fixed
 * and printed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runScenarios } from '../conformance/runner.js';
import { referenceTarget } from '../conformance/targets/reference.js';
import { xenSpec } from '../spec/index.js';
import { type CommandModel, type CommandReal, HypercallDivergence, hypercallCommands } from './commands.js';
import { plantedById } from './planted.js';

const SEED = 20261122;

describe('fast-check model-based commands over the fuzzer’s generator and oracles', () => {
  it('find nothing on the correct reference VMM, over many operations', () => {
    const h = hypercallCommands({ spec: xenSpec });
    const ops = new Set<string>();
    fc.assert(
      fc.property(fc.commands(h.commands, { maxCommands: 30 }), (cmds) => {
        h.run(cmds);
        for (const c of cmds) {
          const s = /^(\S+)/.exec(c.toString())?.[1];
          if (s && s.includes('$')) ops.add(s);
        }
      }),
      { seed: SEED, numRuns: 150 },
    );
    console.log(`fast-check commands: seed ${SEED}, 150 runs on the reference VMM, ${ops.size} operations called, no divergence`);
    expect(ops.size).toBeGreaterThan(60);
  });

  for (const id of ['memory-decrease-counts-failed-extent', 'evtchn-bind-virq-twice', 'mm-continuation-skips-entry', 'version-extraversion-not-padded']) {
    it(`find the planted bug ${id}, shrink it, and make a reproducer of it`, async () => {
      const m = plantedById(id);
      const h = hypercallCommands({ spec: xenSpec, factory: m.factory });
      const out = fc.check(
        fc.property(fc.commands(h.commands, { maxCommands: 40 }), (cmds) => h.run(cmds)),
        { seed: SEED, numRuns: 1000 },
      );
      expect(out.failed, `${id}: not found in 1000 runs`).toBe(true);
      expect(out.errorInstance).toBeInstanceOf(HypercallDivergence);
      const cmds = [...(out.counterexample?.[0] ?? [])] as fc.Command<CommandModel, CommandReal>[];
      const s = h.reproducerOf(cmds);
      expect(s, 'the shrunk commands fail again').toBeDefined();
      const calls = s!.steps.filter((x) => 'hypercall' in x).length;
      console.log(`fast-check commands, ${id}: found at run ${out.numRuns} (seed ${SEED}), shrunk to ${cmds.length} commands, ${out.numShrinks} shrinks; reproducer ${calls} calls`);
      expect(cmds.length).toBeLessThanOrEqual(8);
      expect(calls).toBeLessThanOrEqual(8);
      const [onReference] = await runScenarios([s!], referenceTarget(), { spec: xenSpec });
      expect(onReference?.status).toBe('pass');
      const [onBug] = await runScenarios([s!], referenceTarget({ factory: m.factory }), { spec: xenSpec });
      expect(onBug?.status).not.toBe('pass');
    });
  }
});
