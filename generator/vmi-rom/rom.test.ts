import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCandidate, findDiscoveryOrThrow, scanForDiscovery } from '../../spec/discovery.js';
import { LayoutEngine } from '../../spec/layout.js';
import { elfSection } from '../../spec/probe/elf.js';
import { constantValue } from '../../spec/query.js';
import { vmiSpec } from '../../spec/vmi/index.js';
import { AsmError, assemble } from './asm.js';
import { NATIVE, NATIVE_HELPERS } from './native.js';
import { buildVmiRom, RomError } from './rom.js';
import { main } from '../../cli/main.js';

const disc = findDiscoveryOrThrow(vmiSpec, 'vmi-rom');
const engine = new LayoutEngine(vmiSpec, 'x86_32');
const hdr = engine.named('struct vrom_header');
const rom = buildVmiRom();
const k = (name: string) => Number(constantValue(vmiSpec, name));

/** A copy of the image with one header field (or a byte range) overwritten. */
function patched(field: string, value: number): Uint8Array {
  const img = rom.image.slice();
  const f = hdr.fields[field];
  if (!f) throw new Error(`no field ${field}`);
  for (let i = 0; i < f.size; i++) img[f.offset + i] = Math.floor(value / 256 ** i) & 0xff;
  return img;
}

describe('vmi-rom image', () => {
  it('vmi-rom: the probe following check_vmi_rom accepts it, with no warning', () => {
    expect(checkCandidate(vmiSpec, disc, rom.image)).toEqual({ accepted: true, warnings: [] });
  });

  it('vmi-rom: size is a whole number of 512-byte blocks, rom_length says so, and the bytes sum to 0', () => {
    const unit = disc.rules.map((r) => r.check).find((c) => c.kind === 'checksum');
    expect(unit?.kind === 'checksum' ? unit.unit : 0).toBe(512);
    expect(rom.image.length % 512).toBe(0);
    expect(rom.image[hdr.fields['rom_length']?.offset ?? -1]).toBe(rom.image.length / 512);
    expect(rom.image.reduce((s, x) => (s + x) & 0xff, 0)).toBe(0);
  });

  it('vmi-rom: the scan finds it at a 2 KiB step behind another option ROM, as probe_vmi_rom does', () => {
    const mem = new Uint8Array(disc.region.end - disc.region.start);
    mem.set([0x55, 0xaa, 64], 0); // a 32 KiB non-VMI option ROM at 0xC0000
    const at = 0x9800;
    mem.set(rom.image, at);
    expect(scanForDiscovery(vmiSpec, disc, mem, disc.region.start)?.address).toBe(disc.region.start + at);
    expect(scanForDiscovery(vmiSpec, disc, new Uint8Array(mem.length), disc.region.start)).toBeUndefined();
  });

  const rejects: [string, Uint8Array, string][] = [
    ['a bad option ROM signature', patched('rom_signature', 0x1234), 'rom-signature'],
    ['a bad VMI signature', patched('vrom_signature', 0x12345678), 'vmi-signature'],
    ['a wrong major version', patched('api_version_maj', k('VMI_API_REV_MAJOR') + 1), 'api-major'],
    ['a missing PCI header', patched('pci_header_offs', 0), 'pci-header'],
    ['no licence string', patched('license_offs', 0), 'license'],
  ];
  for (const [what, img, ruleName] of rejects) {
    it(`vmi-rom: the probe rejects an image with ${what}, saying why`, () => {
      const r = checkCandidate(vmiSpec, disc, img);
      expect(r.accepted).toBe(false);
      expect(r.rejectedBy?.rule).toBe(ruleName);
      expect(r.rejectedBy?.reason).toBe(disc.rules.find((x) => x.name === ruleName)?.reason);
    });
  }

  it('vmi-rom: the probe rejects a non-GPL licence ("BSD") and accepts "GPL v2"', () => {
    const bsd = rom.image.slice();
    bsd.set(new TextEncoder().encode('BSD'), rom.offsets.license);
    expect(checkCandidate(vmiSpec, disc, bsd).rejectedBy?.reason).toContain('non-GPL');
    const v2 = buildVmiRom(vmiSpec).image.slice();
    expect(checkCandidate(vmiSpec, disc, v2).accepted).toBe(true);
  });

  it('vmi-rom: a wrong PCI vendor only warns, a broken checksum only warns (Linux does not check it)', () => {
    const img = rom.image.slice();
    const pci = engine.named('struct pci_header');
    const vendor = rom.offsets.pci + (pci.fields['vendorID']?.offset ?? 0);
    img[vendor] = (img[vendor] ?? 0) ^ 0xff;
    const r = checkCandidate(vmiSpec, disc, img);
    expect(r.accepted).toBe(true);
    expect(r.warnings.map((w) => w.rule)).toEqual(['pci-vendor', 'checksum']);
  });

  it('vmi-rom: the relocation table answers every call number as the native table says, NONE elsewhere', () => {
    const rel = engine.named('struct vmi_relocation_info');
    const dv = new DataView(rom.image.buffer);
    const maxCall = Math.max(...vmiSpec.hypercalls.map((h) => h.number));
    const type = { call: 'VMI_RELOCATION_CALL_REL', jump: 'VMI_RELOCATION_JUMP_REL', nop: 'VMI_RELOCATION_NOP', none: 'VMI_RELOCATION_NONE' } as const;
    for (let n = 0; n <= maxCall; n++) {
      const at = rom.offsets.relocTable + n * rel.size;
      const eip = dv.getUint32(at + (rel.fields['eip']?.offset ?? -1), true);
      const t = rom.image[at + (rel.fields['type']?.offset ?? -1)];
      const call = vmiSpec.hypercalls.find((h) => h.number === n);
      const impl = call ? NATIVE[call.name] : undefined;
      expect({ n, t }).toEqual({ n, t: k(type[impl?.reloc ?? 'none']) });
      if (impl?.reloc === 'call' || impl?.reloc === 'jump') expect(eip).toBe(rom.labels.get(`vmi_${call?.name}`));
      if (impl?.reloc === 'call' || impl?.reloc === 'jump' || impl?.reloc === 'nop') {
        expect(eip).toBeGreaterThanOrEqual(rom.offsets.code);
        expect(eip).toBeLessThan(rom.image.length);
      }
    }
  });

  it('vmi-rom: the entry points hold code: a far return at rom_entry, vmi_init returns 0, get_reloc jumps into the ROM', () => {
    const at = (f: string) => hdr.fields[f]?.offset ?? -1;
    expect(rom.image[at('rom_entry')]).toBe(assemble(['lret'], 0).bytes[0]);
    expect([...rom.image.subarray(at('vmi_init'), at('vmi_init') + 3)]).toEqual([...assemble(['xor %eax, %eax', 'ret'], 0).bytes]);
    const jmp = rom.image.subarray(at('get_reloc'), at('get_reloc') + 5);
    const target = at('get_reloc') + 5 + new DataView(jmp.buffer, jmp.byteOffset + 1, 4).getInt32(0, true);
    expect(target).toBe(rom.labels.get('vmi_get_reloc_body'));
  });

  it('vmi-rom: no call of the spec resolves as NONE: the time calls too have native code', () => {
    expect(rom.relocations.filter((r) => r.kind === 'none').map((r) => r.name)).toEqual([]);
    for (const name of ['GetCycleFrequency', 'SetAlarm', 'CancelAlarm', 'GetWallclockTime']) {
      expect({ name, kind: rom.relocations.find((r) => r.name === name)?.kind }).toEqual({ name, kind: 'call' });
    }
  });

  it('vmi-rom: an implementation symbol that shadows a spec constant is an error', () => {
    const bad = { ...NATIVE, RDTSC: { ...NATIVE['RDTSC'], reloc: 'call' as const, doc: 'x', symbols: { VMI_FLUSH_GLOBAL: 1 } } };
    expect(() => buildVmiRom(vmiSpec, undefined, bad)).toThrow(/RDTSC: symbol VMI_FLUSH_GLOBAL shadows a spec constant/);
  });

  it('vmi-rom: every call of the spec has a native implementation, and a missing one is an error', () => {
    expect(Object.keys(NATIVE).sort()).toEqual(vmiSpec.hypercalls.map((h) => h.name).sort());
    const partial = { ...NATIVE };
    delete partial['RDTSC'];
    expect(() => buildVmiRom(vmiSpec, undefined, partial)).toThrow(RomError);
    expect(() => buildVmiRom(vmiSpec, undefined, partial)).toThrow(/missing RDTSC/);
  });
});

describe('vmi-rom assembler', () => {
  it('rejects unknown mnemonics, operands it has no form for, and unknown symbols', () => {
    expect(() => assemble(['frob %eax'], 0)).toThrow(AsmError);
    expect(() => assemble(['lgdt %eax'], 0)).toThrow(/no form of lgdt/);
    expect(() => assemble(['mov $NOPE, %eax'], 0)).toThrow(/unknown symbol NOPE/);
    expect(() => assemble(['jmp nowhere'], 0)).toThrow(/unknown label nowhere/);
  });

  const gas = spawnSync('as', ['--version'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!gas && !process.env['CI'])(`encodes every non-branch line of the implementations as GNU as --32 does${gas ? '' : ' (skipped: GNU as missing, install binutils)'}`, () => {
    const impls = [...Object.values(NATIVE), NATIVE_HELPERS];
    const local: Record<string, number> = Object.assign({}, ...impls.map((i) => i.symbols ?? {}));
    const resolve = (n: string) => {
      const v = constantValue(vmiSpec, n);
      return v === undefined ? local[n] : Number(v);
    };
    const lines = [
      ...new Set(
        impls
          .flatMap((i) => i.asm ?? [])
          .map((l) => l.replace(/^\w+:\s*/, '').trim())
          .filter((l) => l && !/^(j\w+|call)\s/.test(l)),
      ),
    ];
    // Symbols become numbers for gas; our assembler resolves them itself.
    const numeric = lines.map((l) =>
      l
        .replace(/\$(~?)([A-Z_][A-Z0-9_]*)/g, (_, neg: string, s: string) => `$${neg}${resolve(s) ?? s}`)
        .replace(/\b([A-Z_][A-Z0-9_]*)\(/g, (_, s: string) => `${resolve(s) ?? s}(`),
    );
    const dir = mkdtempSync(join(tmpdir(), 'hyperabi-asm-'));
    try {
      writeFileSync(join(dir, 'a.s'), `.text\n${numeric.join('\n')}\n`);
      const r = spawnSync('as', ['--32', '-o', join(dir, 'a.o'), join(dir, 'a.s')], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      const theirs = elfSection(readFileSync(join(dir, 'a.o')), '.text') ?? new Uint8Array(0);
      const ours = lines.map((l) => [...assemble([l], 0, resolve).bytes]);
      let at = 0;
      for (const [i, bytes] of ours.entries()) {
        expect({ line: lines[i], bytes: [...theirs.subarray(at, at + bytes.length)] }).toEqual({ line: lines[i], bytes });
        at += bytes.length;
      }
      expect(at).toBe(theirs.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hyperabi generate vmi-rom', () => {
  it('writes the image the generator builds, and says what it holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hyperabi-rom-'));
    try {
      let out = '';
      const code = await main(['generate', 'vmi-rom', '--out', join(dir, 'rom.bin')], { out: (s) => (out += s), err: () => {} });
      expect(code).toBe(0);
      expect(new Uint8Array(readFileSync(join(dir, 'rom.bin')))).toEqual(rom.image);
      expect(out).toContain(`${rom.image.length} bytes, ${vmiSpec.hypercalls.length} calls`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without --out it is a usage error', async () => {
    let err = '';
    expect(await main(['generate', 'vmi-rom'], { out: () => {}, err: (s) => (err += s) })).toBe(2);
    expect(err).toContain('needs --out FILE');
  });
});
