/**
 * `hyperabi check-guest`: check a guest against the spec (docs/guest-check.md). `--cmd`
 * runs a guest process against the reference VMM in strict mode (the guest protocol);
 * `--trace FILE` checks a recorded trace offline; `--kinds` lists what is checked.
 */
import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkTrace, kindList, type Finding } from '../conformance/guest-check/checker.js';
import { checkGuestProcess } from '../conformance/guest-check/process.js';
import { parseTrace, traceText, TraceError, type TraceEvent } from '../conformance/guest-check/trace.js';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

interface Flags {
  trace?: string;
  cmd?: string;
  pages?: string;
  record?: string;
  timeout?: string;
  json?: boolean;
  kinds?: boolean;
  traceLines?: string;
}

/** Findings as text: each with its kind, where, what, and the last calls before it. */
export function findingsText(findings: readonly Finding[], traceLines = 8): string {
  const out: string[] = [];
  for (const f of findings) {
    const where = f.seq !== undefined ? `call #${f.seq}${f.op ? ` ${f.op}` : ''}` : 'at the end';
    out.push(`[${f.kind}] domain ${f.dom}, ${where}: ${f.message}`);
    const shown = f.trace.slice(-traceLines);
    if (f.trace.length > shown.length) out.push(`    … ${f.trace.length - shown.length} earlier calls`);
    for (const t of shown) out.push(`    ${t}`);
  }
  const byKind = new Map<string, number>();
  for (const f of findings) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
  out.push(
    findings.length === 0
      ? 'no findings'
      : `${findings.length} finding${findings.length === 1 ? '' : 's'}: ${[...byKind].map(([k, n]) => `${n} ${k}`).join(', ')}`,
  );
  return `${out.join('\n')}\n`;
}

function positive(s: string | undefined, what: string, fail: (m: string) => never): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n <= 0) fail(`${what} must be a positive integer, got '${s}'`);
  return n;
}

/** Adds the `check-guest` command. */
export function register(program: Command, io: Io, exit: (code: number) => void, fail: (message: string) => never): void {
  program
    .command('check-guest')
    .description('Check a guest against the spec with the reference VMM in strict mode: run a guest process (--cmd) or check a recorded trace (--trace); exit 1 when there are findings.')
    .option('--trace <file>', 'check a recorded trace (JSON lines, docs/guest-check.md) offline')
    .option('--cmd <command>', 'run this guest command (guest protocol on its stdin/stdout) against the strict reference VMM')
    .option('--pages <n>', 'pages of guest RAM when the guest does not say (default 16)')
    .option('--record <file>', 'with --cmd: save the trace to this file')
    .option('--timeout <ms>', 'with --cmd: the most milliseconds the guest may take for one message (default 10000)')
    .option('--trace-lines <n>', 'calls shown before each finding (default 8; --json shows all)')
    .option('--json', 'print the findings as JSON')
    .option('--kinds', 'list the kinds of violation checked, and what each means')
    .action(async (flags: Flags) => {
      if (flags.kinds) {
        for (const k of kindList()) io.out(`${k.kind.padEnd(20)} ${k.doc}\n`);
        return;
      }
      if ((flags.trace === undefined) === (flags.cmd === undefined)) fail('check-guest needs exactly one of --trace FILE or --cmd "<guest command>"');
      const traceLines = positive(flags.traceLines, '--trace-lines', fail) ?? 8;
      let findings: Finding[];
      let runError: string | undefined;
      if (flags.trace !== undefined) {
        if (flags.record) fail('--record goes with --cmd (a --trace is already recorded)');
        const file = resolve(flags.trace);
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (e) {
          fail(`cannot read ${flags.trace}: ${(e as Error).message}`);
        }
        try {
          findings = checkTrace(parseTrace(text, flags.trace));
        } catch (e) {
          if (e instanceof TraceError) fail(`${e.message} (see docs/guest-check.md for the trace format)`);
          throw e;
        }
      } else {
        const pages = positive(flags.pages, '--pages', fail);
        const timeout = positive(flags.timeout, '--timeout', fail);
        const events: TraceEvent[] = [];
        const tty = process.stderr.isTTY === true && !flags.json;
        const r = await checkGuestProcess({
          command: flags.cmd as string,
          ...(pages !== undefined ? { pages } : {}),
          ...(timeout !== undefined ? { messageTimeoutMs: timeout } : {}),
          record: (ev) => events.push(ev),
          progress: (n) => {
            if (tty && n % 100 === 0) process.stderr.write(`\rcheck-guest: ${n} calls`);
          },
        });
        if (tty) process.stderr.write('\r\x1b[K');
        findings = r.findings;
        runError = r.error;
        if (r.stderr.trim() !== '' && !flags.json) io.err(`guest stderr:\n${r.stderr.replace(/^/gm, '  ')}${r.stderr.endsWith('\n') ? '' : '\n'}`);
        if (flags.record) {
          try {
            writeFileSync(resolve(flags.record), traceText(events));
          } catch (e) {
            fail(`cannot write ${flags.record}: ${(e as Error).message}`);
          }
          if (!flags.json) io.err(`trace of ${r.calls} calls written to ${flags.record}\n`);
        }
        if (runError) io.err(`check-guest: the run broke: ${runError}\n`);
      }
      if (flags.json) io.out(`${JSON.stringify({ findings, ...(runError ? { error: runError } : {}) }, null, 2)}\n`);
      else io.out(findingsText(findings, traceLines));
      exit(findings.length > 0 || runError ? 1 : 0);
    });
}
