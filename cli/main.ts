#!/usr/bin/env node
/**
 * The hyperabi command line. Thin: every command parses its options and calls a library
 * function of the folder that owns the work.
 */
import { Command, CommanderError } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkSpec, exportFiles, findSpec, flatConstants, flatLayouts, hasErrors, specs, stableJson, type Diagnostic, type Spec } from '../spec/index.js';
import { formatProbeRun, runProbes } from '../spec/probe/report.js';
import { buildVmiRom } from '../generator/vmi-rom/index.js';
import { generate, GenerateError, staleFiles, targets, writeFiles } from '../generator/index.js';
import { addVmmCommand } from './vmm.js';
import { register as registerCertify } from './certify.js';
import { register as registerConformance } from './conformance.js';
import { register as registerXen } from './xen.js';
import { register as registerCheckGuest } from './check-guest.js';
import { register as registerFuzz } from './fuzz.js';

/** Where a command writes; tests pass buffers. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const processIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

/** A user-facing failure: printed as `hyperabi: <message>`, exit code 2. */
export class UsageError extends Error {}

function specOrThrow(name: string): Spec {
  const s = findSpec(name);
  if (!s) throw new UsageError(`unknown spec '${name}'; available: ${Object.keys(specs).join(', ')}`);
  return s;
}

function formatDiagnostics(ds: readonly Diagnostic[]): string {
  return ds.map((d) => `${d.severity} ${d.code} ${d.path}: ${d.message}\n`).join('');
}

/** `generate vmi-rom --out FILE`: builds the native VMI ROM from the vmi spec and writes the image. */
function writeVmiRom(out: string | undefined, io: Io): void {
  if (!out) throw new UsageError('generate vmi-rom needs --out FILE (the ROM image to write)');
  const rom = buildVmiRom();
  const file = resolve(out);
  try {
    writeFileSync(file, rom.image);
  } catch (e) {
    throw new UsageError(`cannot write ${file}: ${(e as Error).message}`);
  }
  const by = (k: string) => rom.relocations.filter((r) => r.kind === k).length;
  io.out(`wrote ${file}: ${rom.image.length} bytes, ${rom.relocations.length} calls (${by('call')} call, ${by('jump')} jump, ${by('nop')} nop, ${by('none')} none)\n`);
}

/** Builds the command tree; `exit` records the exit code a command wants. */
export function buildProgram(io: Io, exit: (code: number) => void): Command {
  const program = new Command('hyperabi')
    .description('Formal, machine-readable hypercall ABIs (Xen, VMI, paravirt-ops): specs, generators, a reference VMM, conformance and fuzzing.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  const spec = program.command('spec').description('Inspect, check and export the specs.').exitOverride();

  spec
    .command('export')
    .description('Write one JSON document per spec (with computed layouts) and the meta-model JSON Schema.')
    .requiredOption('--out <dir>', 'output directory (created if missing)')
    .option('--spec <names...>', 'specs to export (default: all)')
    .action((opts: { out: string; spec?: string[] }) => {
      const chosen = (opts.spec ?? Object.keys(specs)).map(specOrThrow);
      const dir = resolve(opts.out);
      mkdirSync(dir, { recursive: true });
      for (const [name, text] of exportFiles(chosen)) {
        writeFileSync(join(dir, name), text);
        io.out(`wrote ${join(dir, name)}\n`);
      }
    });

  spec
    .command('layouts')
    .description('Print the size, alignment and field offsets of every type under an ABI.')
    .requiredOption('--abi <abi>', 'ABI or arch name, e.g. x86_64-pv, x86_32, arm64')
    .option('--spec <name>', 'spec', 'xen')
    .option('--json', 'machine-readable output')
    .action((opts: { abi: string; spec: string; json?: boolean }) => {
      const layouts = flatLayouts(specOrThrow(opts.spec), opts.abi);
      if (opts.json) {
        io.out(stableJson(layouts));
        return;
      }
      for (const [name, l] of Object.entries(layouts)) {
        io.out(`${name}: size ${l.size}, align ${l.align}\n`);
        for (const [f, fl] of Object.entries(l.fields)) io.out(`  ${f} @${fl.offset} (${fl.size})\n`);
      }
    });

  spec
    .command('constants')
    .description('Print the value of every constant under an ABI.')
    .requiredOption('--abi <abi>', 'ABI or arch name')
    .option('--spec <name>', 'spec', 'xen')
    .option('--json', 'machine-readable output')
    .action((opts: { abi: string; spec: string; json?: boolean }) => {
      const constants = flatConstants(specOrThrow(opts.spec), opts.abi);
      if (opts.json) {
        io.out(stableJson(constants));
        return;
      }
      for (const [name, v] of Object.entries(constants)) io.out(`${name} = ${v}\n`);
    });

  spec
    .command('check [file]')
    .description('Lint a spec: a JSON spec document, or every built-in spec when no file is given.')
    .option('--json', 'print diagnostics as JSON')
    .option('--strict', 'treat warnings as errors')
    .action((file: string | undefined, opts: { json?: boolean; strict?: boolean }) => {
      const docs: { name: string; doc: unknown }[] = [];
      if (file) {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (e) {
          throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
        }
        try {
          docs.push({ name: file, doc: JSON.parse(text) as unknown });
        } catch (e) {
          io.out(formatDiagnostics([{ code: 'json', severity: 'error', message: (e as Error).message, path: file }]));
          exit(1);
          return;
        }
      } else {
        for (const [name, s] of Object.entries(specs)) docs.push({ name, doc: s });
      }
      const all = docs.flatMap((d) => checkSpec(d.doc, d.name, specs));
      if (opts.json) io.out(stableJson(all));
      else io.out(formatDiagnostics(all));
      const failed = hasErrors(all) || (opts.strict === true && all.length > 0);
      if (!opts.json) {
        const errors = all.filter((d) => d.severity === 'error').length;
        io.out(`${docs.map((d) => d.name).join(', ')}: ${errors} errors, ${all.length - errors} warnings\n`);
      }
      exit(failed ? 1 : 0);
    });

  spec
    .command('probe')
    .description('Compile the spec against the installed Xen headers (libxen-dev) for each arch and compare every layout and constant.')
    .option('--abi <arch...>', 'arches to probe (default: every arch with an installed compiler)')
    .option('--spec <name>', 'spec', 'xen')
    .action((opts: { abi?: string[]; spec: string }) => {
      const run = runProbes(specOrThrow(opts.spec), opts.abi);
      io.out(`${formatProbeRun(run)}\n`);
      const bad = run.comparisons.some((c) => c.mismatches.length > 0 || c.missing.length > 0);
      exit(bad ? 1 : 0);
    });

  program
    .command('generate <target>')
    .description(
      `Generate bindings, dispatch tables or docs from a spec. Targets: ${targets().map((t) => t.name).join(', ')}, ` +
        'vmi-rom (the native VMI option ROM from the vmi spec: --out FILE, a binary image for qemu -option-rom).',
    )
    .option('--spec <name>', 'spec to generate from', 'xen')
    .option('--abi <abi...>', 'ABIs to generate for (default: all)')
    .option('--out <dir>', 'output directory')
    .option('--check <dir>', 'exit 1 and name the files when <dir> is not what generation gives')
    .action((target: string, opts: { spec: string; abi?: string[]; out?: string; check?: string }) => {
      if (target === 'vmi-rom') {
        writeVmiRom(opts.out, io);
        return;
      }
      if (!opts.out && !opts.check) throw new UsageError('generate needs --out DIR (write) or --check DIR (verify)');
      const files = generate(target, opts.spec, !opts.abi || opts.abi.includes('all') ? 'all' : opts.abi);
      if (opts.out) {
        for (const p of writeFiles(resolve(opts.out), files)) io.out(`wrote ${p}\n`);
      }
      if (opts.check) {
        const stale = staleFiles(resolve(opts.check), files);
        for (const s of stale) io.out(`stale ${join(opts.check, s.path)} (${s.why})\n`);
        if (stale.length > 0) {
          const abiFlag = opts.abi ? ` --abi ${opts.abi.join(' ')}` : '';
          io.out(`${stale.length} of ${files.length} files are stale: run hyperabi generate ${target} --spec ${opts.spec}${abiFlag} --out ${opts.check}\n`);
          exit(1);
          return;
        }
        io.out(`${files.length} files up to date in ${opts.check}\n`);
      }
    });

  addVmmCommand(program, io, exit, (message) => {
    throw new UsageError(message);
  });
  registerCertify(program, io, exit, (message) => {
    throw new UsageError(message);
  });
  registerConformance(program, io, exit, (message) => {
    throw new UsageError(message);
  });
  registerXen(program, io, exit, (message) => {
    throw new UsageError(message);
  });
  registerCheckGuest(program, io, exit, (message) => {
    throw new UsageError(message);
  });
  registerFuzz(program, io, exit, (message) => {
    throw new UsageError(message);
  });

  return program;
}

/** Runs the CLI with arguments (without node and script); returns the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof UsageError || e instanceof GenerateError || (e instanceof Error && e.name === 'UnknownAbiError')) {
      io.err(`hyperabi: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`hyperabi: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
