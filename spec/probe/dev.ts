/**
 * Developer tool for writing spec families: probes the spec against the headers and lists
 * the integer macros of given headers that the spec does not define yet.
 *
 *   npx tsx spec/probe/dev.ts [--arch x86_64] [xen/event_channel.h ...]
 */
import { xenSpec } from '../xen/index.js';
import { findArch, findConstant } from '../query.js';
import { formatProbeRun, runProbes } from './report.js';
import { integerMacros } from './headers.js';

const argv = process.argv.slice(2);
const archIx = argv.indexOf('--arch');
const archName = archIx >= 0 ? argv[archIx + 1] : undefined;
const headers = argv.filter((a, i) => a.endsWith('.h') && (archIx < 0 || i !== archIx + 1));
console.log(formatProbeRun(runProbes(xenSpec, archName ? [archName] : undefined)));
const arch = findArch(xenSpec, archName ?? 'x86_64');
if (!arch) throw new Error(`unknown arch ${archName}`);
for (const h of headers) {
  const missing = integerMacros(arch, h).filter((m) => !findConstant(xenSpec, m.name));
  console.log(`\n${h} on ${arch.name}: ${missing.length} integer macros not in the spec`);
  for (const m of missing) console.log(`  ${m.name} = ${m.value < 0n ? m.value : '0x' + m.value.toString(16)}`);
}
