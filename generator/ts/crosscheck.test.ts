/**
 * Cross-language codecs: for random values of every type of the Xen spec (fast-check, fixed
 * seed), the bytes the generated C (hyperabi_xen.h) writes and the bytes the generated TS
 * codecs write are identical, and each side decodes the other's bytes to the same values.
 * One C program per arch handles every type in one run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { needToolchain, TOOLCHAINS } from '../../spec/probe/headers.js';
import { xenSpec, type Arch } from '../../spec/index.js';
import { generate } from '../index.js';
import { buildModel } from '../model.js';
import { codecsByArch, type XenCodecs } from '../../generated/xen/index.js';
import type { Codec } from '../../generated/xen/runtime.js';
import { build, flatten, leafText, cProgram, type Flat, type Leaf } from './crosscheck.js';
import { TsModel } from './shapes.js';

const SEED = 42;
const RUNS = 8;
const dir = mkdtempSync(join(tmpdir(), 'hyperabi-tscross-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ts = new TsModel(buildModel(xenSpec));


function leafArb(l: Leaf): fc.Arbitrary<number | bigint> {
  const bits = BigInt(l.size * 8);
  const min = l.signed ? -(1n << (bits - 1n)) : 0n;
  const max = l.signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  return l.big ? fc.bigInt({ min, max }) : fc.integer({ min: Number(min), max: Number(max) });
}

/** Random values of a type: one union member chosen per union, every chosen leaf random. */
function arbitrary(flat: Flat): fc.Arbitrary<unknown> {
  const unions = [...flat.unions];
  return fc
    .record({ picks: fc.tuple(...unions.map(([, n]) => fc.nat({ max: Math.max(0, n - 1) }))), values: fc.tuple(...flat.leaves.map(leafArb)) })
    .map(({ picks, values }) => build(flat, values, new Map(unions.map(([id], i) => [id, picks[i] as number]))));
}

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function tsEncode(codec: Codec<unknown>, value: unknown): string {
  const bytes = new Uint8Array(codec.size);
  codec.encode(new DataView(bytes.buffer), 0, value);
  return toHex(bytes);
}

function tsDecode(codec: Codec<unknown>, hex: string): unknown {
  const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
  return codec.decode(new DataView(bytes.buffer), 0);
}

/** The first difference between two byte strings of a type, or undefined. */
export function byteDiff(type: string, a: string, b: string): string | undefined {
  if (a === b) return undefined;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `${type}: bytes differ at offset ${Math.floor(i / 2)} (TS ${a.slice(i & ~1, (i & ~1) + 16)}…, C ${b.slice(i & ~1, (i & ~1) + 16)}…)`;
}

interface Case {
  type: string;
  flat: Flat;
  codec: Codec<unknown>;
  values: unknown[];
}

function cases(arch: Arch): Case[] {
  const table = codecsByArch[arch.name as keyof typeof codecsByArch] as unknown as Record<keyof XenCodecs, Codec<unknown>>;
  return ts.model.types
    .filter((t) => t.arches[arch.name])
    .map((t) => {
      const flat = flatten(ts, t.def.name, arch);
      const codec = table[ts.nameOf(t.def.name) as keyof XenCodecs];
      return { type: t.def.name, flat, codec, values: fc.sample(arbitrary(flat), { seed: SEED, numRuns: RUNS }) };
    });
}

function runC(arch: string, program: string, input: string): string[] {
  const tc = TOOLCHAINS[arch] as { cc: string; flags: string[] };
  const src = join(dir, `cross-${arch}.c`);
  const exe = join(dir, `cross-${arch}`);
  writeFileSync(src, program);
  const cc = spawnSync(tc.cc, [...tc.flags, '-std=gnu11', '-w', '-O0', '-I', dir, src, '-o', exe], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`${tc.cc} failed: ${cc.stderr.slice(0, 2000)}`);
  const r = spawnSync(exe, [], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${exe} exited ${r.status}: ${r.stderr}`);
  return r.stdout.split('\n');
}

describe('ts codecs against the generated C, value for value', () => {
  const header = generate('c-guest', 'xen').find((f) => f.path === 'hyperabi_xen.h');
  if (!header) throw new Error('c-guest did not produce hyperabi_xen.h');
  writeFileSync(join(dir, header.path), header.content);

  for (const archName of ['x86_64', 'x86_32']) {
    it(`${archName}: every type, C and TS write identical bytes and read each other's bytes to the same values (seed ${SEED})`, (ctx) => {
      if (!needToolchain(archName)) return ctx.skip();
      const arch = ts.model.arches.find((a) => a.name === archName) as Arch;
      console.log(`${archName}: fast-check seed ${SEED}, ${RUNS} values per type`);
      const cs = cases(arch);
      const program = cProgram(header.path, cs.map((c) => ({ cName: c.type, flat: c.flat })));
      // 1. C encodes every value.
      const encIn = cs.flatMap((c, i) => c.values.flatMap((v) => [`E ${i}`, ...leafText(c.flat, v)])).join('\n');
      const cHex = runC(archName, program, `${encIn}\n`);
      // 2. TS encodes the same values; 3. C decodes TS bytes; TS decodes C bytes.
      const problems: string[] = [];
      const tsHex: string[] = [];
      let k = 0;
      for (const c of cs) {
        c.values.forEach((v, j) => {
          const t = tsEncode(c.codec, v);
          tsHex.push(t);
          const d = byteDiff(`${c.type} value #${j}`, t, cHex[k] as string);
          if (d) problems.push(d);
          k++;
        });
      }
      const decIn = cs.flatMap((c, i) => c.values.map(() => `D ${i} x${tsHex.shift() as string}`)).join('\n');
      const cLeaves = runC(archName, program, `${decIn}\n`);
      let line = 0;
      k = 0;
      let leaves = 0;
      for (const c of cs) {
        c.values.forEach((v, j) => {
          const fromC = cLeaves.slice(line, line + c.flat.leaves.length);
          line += c.flat.leaves.length;
          const fromTs = leafText(c.flat, tsDecode(c.codec, cHex[k] as string));
          k++;
          const given = leafText(c.flat, v);
          c.flat.leaves.forEach((l, n) => {
            leaves++;
            if (fromC[n] !== fromTs[n]) problems.push(`${c.type} value #${j} ${l.c || '(value)'}: C read ${fromC[n]}, TS read ${fromTs[n]}`);
            else if (given[n] !== '_' && given[n] !== fromTs[n]) problems.push(`${c.type} value #${j} ${l.c}: wrote ${given[n]}, read ${fromTs[n]}`);
          });
        });
      }
      console.log(`${archName}: ${cs.length} types, ${k} values, ${leaves} leaves compared`);
      expect(problems.slice(0, 20)).toEqual([]);
      expect(cs.length).toBeGreaterThanOrEqual(140);
    });
  }

  it('a corrupted byte or a codec of the wrong arch is caught, naming the type', () => {
    expect(byteDiff('struct evtchn_status', '0100000002000000', '0100000002000000')).toBeUndefined();
    expect(byteDiff('struct evtchn_status', '0100000002000000', '0100000003000000')).toMatch(/^struct evtchn_status: bytes differ at offset 4/);
    // x86_32 bytes of struct mmuext_op read with the x86_64 codec give other values.
    const arch32 = ts.model.arches.find((a) => a.name === 'x86_32') as Arch;
    const flat = flatten(ts, 'struct mmuext_op', arch32);
    const value = fc.sample(arbitrary(flat), { seed: SEED, numRuns: 1 })[0];
    const bytes32 = tsEncode(codecsByArch.x86_32.MmuextOp as Codec<unknown>, value);
    const wrong = leafText(flat, tsDecode(codecsByArch.x86_64.MmuextOp as Codec<unknown>, bytes32.padEnd(codecsByArch.x86_64.MmuextOp.size * 2, '0')));
    expect(wrong).not.toEqual(leafText(flat, tsDecode(codecsByArch.x86_32.MmuextOp as Codec<unknown>, bytes32)));
  });
});
