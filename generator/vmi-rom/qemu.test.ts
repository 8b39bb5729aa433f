/**
 * The native VMI ROM on a real PC model: QEMU's `-option-rom` puts it where SeaBIOS copies
 * option ROMs (0xC0000–0xE0000, after checking its signature, length and checksum), and our
 * multiboot test kernel (testkernel/) finds it and calls it. Needs qemu-system-i386 (Debian
 * qemu-system-x86) and gcc -m32 (gcc-12-multilib): skipped without them on a developer
 * machine, required under CI.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { constantValue } from '../../spec/query.js';
import { vmiSpec } from '../../spec/vmi/index.js';
import { buildVmiRom } from './rom.js';
import {
  buildKernel,
  KERNEL_DIR,
  kernelHeader,
  parseReport,
  qemuArgs,
  qemuToolsAvailable,
  runQemu,
  type KernelReport,
  type QemuRun,
} from './testkernel/harness.js';

const k = (name: string) => Number(constantValue(vmiSpec, name));
const disc = vmiSpec.discovery?.find((d) => d.name === 'vmi-rom');
const rom = buildVmiRom();
/** A leap day, so that the calendar arithmetic of GetWallclockTime is put to the test. */
const RTC_BASE = '2024-02-29T12:34:56';
/** QEMU boots and the kernel finishes in well under a second; this only bounds a broken run. */
const TIMEOUT_MS = 10_000;

const tools = qemuToolsAvailable();
const skip = !tools.ok && !process.env['CI'];
const why = skip ? ` (skipped: ${tools.why})` : '';

describe('vmi-rom test kernel harness', () => {
  it('parses the kernel’s serial lines and keeps firmware chatter apart', () => {
    const r = parseReport(['SeaBIOS (version x)', 'FOUND 0xcb000', 'WARN checksum', 'RELOC 0 1 0xcb100', 'CALL GetCR0 ok 0x11 0x11', 'CALL RDTSC fail 0x2 0x1', 'INFO stale 0xaaaaaaaa', 'DONE']);
    expect(r.found).toBe(0xcb000);
    expect(r.warnings).toEqual(['checksum']);
    expect(r.relocs.get(0)).toEqual({ type: 1, target: 0xcb100 });
    expect(r.calls).toEqual([
      { name: 'GetCR0', ok: true, rom: '0x11', native: '0x11' },
      { name: 'RDTSC', ok: false, rom: '0x2', native: '0x1' },
    ]);
    expect(r.info.get('stale')).toBe('0xaaaaaaaa');
    expect(r.done).toBe(true);
    expect(r.other).toEqual(['SeaBIOS (version x)']);
  });

  it('the kernel header carries the scan region, the entry offsets, every constant and each discovery rule from the spec', () => {
    const h = kernelHeader();
    expect(h).toContain(`#define VMI_SCAN_START 0x${disc?.region.start.toString(16)}u`);
    expect(h).toContain(`#define VMI_SCAN_STEP 0x${disc?.region.step.toString(16)}u`);
    expect(h).toContain('#define VROM_HEADER_GET_RELOC_OFF 136');
    expect(h).toContain(`#define VMI_SIGNATURE 0x${k('VMI_SIGNATURE').toString(16)}u`);
    expect(h).toContain(`#define VMI_CALL_SetAlarm 0x${k('VMI_CALL_SetAlarm').toString(16)}u`);
    for (const r of disc?.rules ?? []) expect(h).toContain(`"${r.name}"`);
  });

  it('the kernel sources type no VMI number: no VMI define, no signature, scan bound or entry offset', () => {
    const src = ['kernel.c', 'boot.S'].map((f) => readFileSync(join(KERNEL_DIR, f), 'utf8')).join('\n');
    expect(src).not.toMatch(/#define\s+(VMI|VROM)_/);
    const numbers = [k('VMI_SIGNATURE'), k('OPTION_ROM_SIGNATURE'), disc?.region.start ?? -1, disc?.region.end ?? -1];
    for (const n of numbers) expect(src.toLowerCase()).not.toContain(`0x${n.toString(16)}`);
  });
});

describe('vmi-rom in QEMU', () => {
  let dir = '';
  let run: QemuRun | undefined;
  let report: KernelReport = parseReport([]);

  beforeAll(async () => {
    if (skip) return;
    if (!tools.ok) throw new Error(`the QEMU test needs its tools under CI: ${tools.why}`);
    dir = mkdtempSync(join(tmpdir(), 'hyperabi-qemu-'));
    writeFileSync(join(dir, 'rom.bin'), rom.image);
    const kernel = buildKernel(dir);
    run = await runQemu(qemuArgs(join(dir, 'rom.bin'), kernel, RTC_BASE), TIMEOUT_MS);
    report = parseReport(run.lines);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(skip)(`vmi-rom: QEMU runs the kernel to DONE and the harness ends QEMU itself${why}`, () => {
    expect({ timedOut: run?.timedOut, done: run?.done, stderr: run?.stderr }).toEqual({ timedOut: false, done: true, stderr: '' });
    expect(report.other.filter((l) => /FAULT/.test(l))).toEqual([]);
  });

  it.skipIf(skip)(`vmi-rom: the kernel finds the ROM by the spec’s discovery rules, on a 2 KiB step of 0xC0000–0xE0000, with no warning${why}`, () => {
    expect(report.notFound).toBeUndefined();
    const at = report.found ?? -1;
    expect(at).toBeGreaterThanOrEqual(disc?.region.start ?? 0);
    expect(at).toBeLessThan(disc?.region.end ?? 0);
    expect((at - (disc?.region.start ?? 0)) % (disc?.region.step ?? 1)).toBe(0);
    expect(report.warnings).toEqual([]);
  });

  it.skipIf(skip)(`vmi-rom: get_reloc resolves every defined call (0 to 73) to its code in the copied ROM, and answers NONE for the gaps${why}`, () => {
    const maxCall = Math.max(...vmiSpec.hypercalls.map((h) => h.number));
    expect([...report.relocs.keys()]).toEqual(Array.from({ length: maxCall + 1 }, (_, i) => i));
    const base = report.found ?? 0;
    for (let n = 0; n <= maxCall; n++) {
      const call = vmiSpec.hypercalls.find((h) => h.number === n);
      const want = rom.relocations.find((r) => r.number === n);
      const got = report.relocs.get(n);
      if (!call) {
        expect({ n, type: got?.type }).toEqual({ n, type: k('VMI_RELOCATION_NONE') });
        continue;
      }
      expect({ call: call.name, type: got?.type }).toEqual({ call: call.name, type: want?.type });
      expect({ call: call.name, resolves: got?.type !== k('VMI_RELOCATION_NONE') }).toEqual({ call: call.name, resolves: true });
      expect({ call: call.name, target: got?.target }).toEqual({ call: call.name, target: base + (want?.offset ?? -1) });
    }
  });

  const compared = ['CPUID', 'GetCR0', 'GetCR4', 'RDTSC', 'GetInterruptMask', 'SetInterruptMask', 'InvalPage', 'FlushTLB'];
  it.skipIf(skip)(`vmi-rom: ${compared.join(', ')} through the ROM give what the native instructions give${why}`, () => {
    const seen = new Set(report.calls.map((c) => c.name.split('.')[0]));
    for (const name of compared) expect({ name, seen: seen.has(name) }).toEqual({ name, seen: true });
    const mine = report.calls.filter((c) => compared.includes(c.name.split('.')[0] as string));
    expect(mine.filter((c) => !c.ok)).toEqual([]);
    // The TLB trials can fail: without a flush QEMU still shows the old page.
    expect(report.info.get('stale')).toBe('0xaaaaaaaa');
  });

  it.skipIf(skip)(`vmi-rom: GetCycleFrequency measures a rate, GetWallclockTime reads the RTC as the native read does, SetAlarm fires once not before expiry, keeps a periodic alarm going, CancelAlarm stops it (IRQ0 wiring is documented as not armed)${why}`, () => {
    const timeCalls = report.calls.filter((c) => /^(GetCycleFrequency|GetWallclockTime|SetAlarm|CancelAlarm)(\.|$)/.test(c.name));
    expect(timeCalls.map((c) => c.name)).toEqual(['GetCycleFrequency', 'GetWallclockTime', 'SetAlarm.oneshot', 'SetAlarm.periodic', 'CancelAlarm', 'SetAlarm.irq0-not-armed', 'SetAlarm.stolen']);
    expect(timeCalls.filter((c) => !c.ok)).toEqual([]);
    // The RTC starts at RTC_BASE (UTC) when QEMU starts; the run lasts seconds at most.
    const ns = BigInt(timeCalls.find((c) => c.name === 'GetWallclockTime')?.rom ?? '0');
    const base = BigInt(Date.parse(`${RTC_BASE}Z`)) * 1_000_000n;
    expect(ns >= base && ns <= base + BigInt(TIMEOUT_MS) * 1_000_000n).toBe(true);
  });

  it.skipIf(skip)(`vmi-rom: runQemu ends a QEMU that never says DONE at its timeout${why}`, async () => {
    const r = await runQemu(['-machine', 'pc', '-nographic', '-monitor', 'none', '-serial', 'stdio', '-S'], 500);
    expect({ timedOut: r.timedOut, done: r.done }).toEqual({ timedOut: true, done: false });
  });
});
