import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSpec } from '../check.js';
import { exportSpec, flatConstants, flatLayouts } from '../export.js';
import { specs } from '../index.js';
import { compileItems, type Item } from '../probe/headers.js';
import { findArch } from '../query.js';
import { vmiApi13Spec } from './api13.js';
import { NATIVE_REGISTER_CALLS } from './calls.js';
import { VMI_H, VMI_H_PAE, VMI_TIME_H } from './fixtures/linux-2.6.32.js';
import { vmiSpec } from './index.js';
import { registerAssignment, resultRegister } from './registers.js';

const UPSTREAM_HEADERS = ['arch/x86/include/asm/vmi.h', 'arch/x86/include/asm/vmi_time.h'];

/** The spec's constants that come from the two Linux headers (probe: false marks the others). */
function headerConstants(abi: string): Record<string, number | string> {
  const all = flatConstants(vmiSpec, abi);
  const out: Record<string, number | string> = {};
  for (const g of exportSpec(vmiSpec).constants) {
    if (!UPSTREAM_HEADERS.includes(g.ref.header ?? '')) continue;
    for (const c of g.members) if (c.probe !== false) out[c.name] = all[c.name] as number | string;
  }
  return out;
}

describe('vmi spec values', () => {
  it('every constant of Linux 2.6.32 vmi.h and vmi_time.h equals the export (non-PAE)', () => {
    expect(headerConstants('vmi-i386')).toEqual({ ...VMI_H, ...VMI_TIME_H });
  });

  it('the PAE ABI differs exactly in VMI_PAGE_L1 and VMI_PAGE_L2', () => {
    expect(headerConstants('vmi-i386-pae')).toEqual({ ...VMI_H, ...VMI_TIME_H, ...VMI_H_PAE });
  });

  it('each call number is written once: VMI_CALL_* come from the calls, 0–48 and 61–73 less 49–60 and 72', () => {
    const numbers = vmiSpec.hypercalls.map((h) => h.number);
    const expected = [...Array(49).keys(), ...[61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 73]];
    expect(numbers).toEqual(expected);
    const c = flatConstants(vmiSpec, 'vmi-i386');
    for (const h of vmiSpec.hypercalls) expect(c[`VMI_CALL_${h.name}`]).toBe(h.number);
  });

  it('the legacy API 13.0 spec shares no constant name and no ABI with API 3.0', () => {
    const a = new Set(Object.keys(flatConstants(vmiSpec, 'x86_32')));
    const legacy = Object.keys(flatConstants(vmiApi13Spec, 'x86_32'));
    expect(legacy.filter((n) => a.has(n))).toEqual([]);
    expect(vmiApi13Spec.abis.map((x) => x.name).filter((n) => vmiSpec.abis.some((y) => y.name === n))).toEqual([]);
    expect(vmiApi13Spec.hypercalls.find((h) => h.name === 'CPUID')?.number).not.toBe(vmiSpec.hypercalls.find((h) => h.name === 'CPUID')?.number);
  });
});

describe('vmi register assignment', () => {
  for (const abi of vmiSpec.abis) {
    for (const h of vmiSpec.hypercalls) {
      if (NATIVE_REGISTER_CALLS.includes(h.name)) continue;
      it(`vmi$${h.name}: declared registers follow regparm(3) on ${abi.name}`, () => {
        expect(h.args.map((a) => a.register)).toEqual(registerAssignment(vmiSpec, abi, h.args));
      });
    }
  }

  it('vmi$SetAlarm: a 64-bit argument after one register abandons the last register (GCC rule)', () => {
    const abi = vmiSpec.abis[0];
    if (!abi) throw new Error('no ABI');
    const h = vmiSpec.hypercalls.find((x) => x.name === 'SetAlarm');
    expect(registerAssignment(vmiSpec, abi, h?.args ?? [])).toEqual(['eax', 'ecx:edx', 'stack[1]:stack[0]']);
    expect(resultRegister(vmiSpec, abi, { kind: 'name', name: 'u64' })).toBe('edx:eax');
  });

  it('vmi$CPUID: results carry registers and clobbers name them', () => {
    const h = vmiSpec.hypercalls.find((x) => x.name === 'CPUID');
    expect(h?.results?.map((r) => r.register)).toEqual(['eax', 'ebx', 'ecx', 'edx']);
    expect(h?.clobbers).toContain('ebx');
  });
});

describe('vmi spec check', () => {
  for (const name of ['vmi', 'vmi-api13', 'pvops']) {
    it(`${name} is clean: no errors and no warnings`, () => {
      expect(checkSpec(specs[name], name, specs)).toEqual([]);
    });
  }

  it('a discovery rule naming a missing field or constant gives bad-discovery', () => {
    const doc = structuredClone(vmiSpec);
    const rules = doc.discovery?.[0]?.rules ?? [];
    rules.push({ ...rules[0], name: 'x', check: { kind: 'field', field: 'no_such', op: 'eq', value: 'NO_SUCH' } } as (typeof rules)[0]);
    const ds = checkSpec(doc, 'vmi', specs);
    expect(ds.map((d) => d.code)).toEqual(['bad-discovery', 'bad-discovery']);
    expect(ds[0]?.path).toBe('vmi:discovery/vmi-rom/x');
  });
});

// ───────── layouts against gcc -m32 ─────────

/** Our own C declarations of the ROM structures, written from the layout facts (no system header has them). */
const C_STRUCTS = `
#include <stdint.h>
typedef uint8_t u8; typedef uint16_t u16; typedef uint32_t u32; typedef uint64_t u64;
struct vrom_header {
  u16 rom_signature; u8 rom_length; u8 rom_entry[4]; u8 rom_pad0; u32 vrom_signature;
  u8 api_version_min; u8 api_version_maj; u8 jump_slots; u8 reserved1; u32 virtual_top;
  u16 reserved2; u16 license_offs; u16 pci_header_offs; u16 pnp_header_offs; u32 rom_pad3;
  u8 reserved[96]; char vmi_init[8]; char get_reloc[8];
} __attribute__((packed));
struct pnp_header {
  char sig[4]; char rev; char size; short next; short res; long devID;
  unsigned short manufacturer_offset; unsigned short product_offset;
} __attribute__((packed));
struct pci_header {
  char sig[4]; short vendorID; short deviceID; short vpdData; short size; char rev; char class;
  char subclass; char interface; short chunks; char rom_version_min; char rom_version_maj;
  char codetype; char lastRom; short reserved;
} __attribute__((packed));
struct vmi_relocation_info { unsigned char *eip; unsigned char type; unsigned char reserved[3]; };
struct vmi_ap_state {
  u32 cr0, cr2, cr3, cr4; u64 efer; u32 eip, eflags, eax, ebx, ecx, edx, esp, ebp, esi, edi;
  u16 cs, ss, ds, es, fs, gs, ldtr; u16 gdtr_limit; u32 gdtr_base; u32 idtr_base; u16 idtr_limit;
};
`;

const gccM32 = (() => {
  const r = spawnSync('gcc', ['-m32', '-x', 'c', '-c', '-o', '/dev/null', '-'], { input: 'int x;', encoding: 'utf8' });
  return r.status === 0 ? undefined : 'gcc -m32 is not available (install gcc-12-multilib)';
})();

describe('vmi layouts equal gcc -m32', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hyperabi-vmi-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const skip = gccM32 !== undefined && !process.env['CI'];
  if (gccM32 && process.env['CI']) it('has gcc -m32 in CI', () => expect.fail(gccM32));

  it.skipIf(skip)(`every ROM structure: size, alignment, field offsets and sizes${skip ? ` (skipped: ${gccM32})` : ''}`, () => {
    const header = join(dir, 'vmi_rom.h');
    writeFileSync(header, C_STRUCTS);
    const arch = findArch(vmiSpec, 'x86_32');
    if (!arch) throw new Error('no x86_32 arch');
    const layouts = flatLayouts(vmiSpec, 'vmi-i386');
    const names = ['struct vrom_header', 'struct pnp_header', 'struct pci_header', 'struct vmi_relocation_info', 'struct vmi_ap_state'];
    const items: Item[] = names.map((n) => {
      const fields = Object.keys(layouts[n]?.fields ?? {});
      return {
        kind: 'type',
        name: n,
        keys: ['size', 'align', ...fields.flatMap((f) => [`${f}@offset`, `${f}@size`])],
        exprs: [`sizeof(${n})`, `_Alignof(${n})`, ...fields.flatMap((f) => [`__builtin_offsetof(${n}, ${f})`, `sizeof(((${n} *)0)->${f})`])],
      };
    });
    const { values, rejected } = compileItems(arch, [header], items, { cc: 'gcc', flags: ['-m32'] });
    expect(rejected).toEqual([]);
    let i = 0;
    for (const it of items) {
      const got: Record<string, number> = {};
      for (const k of it.keys) got[k] = Number(values[i++]);
      const l = layouts[it.name];
      const want: Record<string, number> = { size: l?.size ?? -1, align: l?.align ?? -1 };
      for (const [f, fl] of Object.entries(l?.fields ?? {})) {
        want[`${f}@offset`] = fl.offset;
        want[`${f}@size`] = fl.size;
      }
      expect({ [it.name]: got }).toEqual({ [it.name]: want });
    }
    expect(i).toBe(values.length - 1); // the probe array ends with a 0 terminator
  });
});
