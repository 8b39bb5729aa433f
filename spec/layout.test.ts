import { describe, expect, it } from 'vitest';
import { f, familyBuilder, inlineStruct, inlineUnion } from './builders.js';
import { LayoutEngine, LayoutError } from './layout.js';
import type { Spec, TypeDef } from './model.js';
import { abis, arches } from './xen/abis.js';

const b = familyBuilder('test', 'test.h');

function specWith(types: TypeDef[]): Spec {
  return {
    name: 'test',
    title: 'test',
    version: '0',
    doc: 'layout rules',
    ref: {},
    arches,
    abis,
    families: [],
    types,
    constants: [b.group('LEN', 'values', 'lengths', [['THREE', 3, 'three']])],
    hypercalls: [],
    resources: [],
    errorSpaces: [],
  };
}

const spec = specWith([
  b.struct('mixed', 'u8 then u64 then u32', [
    f('a', 'uint8_t', 'a'),
    f('b', 'uint64_t', 'b'),
    f('c', 'uint32_t', 'c'),
  ]),
  b.struct('packed', 'packed', [f('a', 'uint8_t', 'a'), f('b', 'uint32_t', 'b')], { packed: true }),
  b.struct('aligned_field', 'explicit field alignment', [f('a', 'uint32_t', 'a'), f('b', 'uint64_t', 'b', { align: 8 })]),
  b.union('u', 'union', [f('a', 'uint16_t', 'a'), f('b', 'uint8_t[5]', 'b')]),
  b.struct('arr', 'array with a constant length', [f('x', 'uint16_t[THREE]', 'x'), f('y', 'uint8_t', 'y')]),
  b.struct('nested', 'inline and anonymous members', [
    f('tag', 'uint32_t', 'tag'),
    f('u', inlineUnion([f('p', 'uint64_t', 'p'), f('s', inlineStruct([f('lo', 'uint16_t', 'lo'), f('hi', 'uint16_t', 'hi')]), 's')]), 'u'),
    f('', inlineUnion([f('rax', 'uint64_t', 'rax'), f('eax', 'uint32_t', 'eax')]), 'anon'),
  ]),
  b.struct('handles', 'guest handles', [f('h', 'handle(uint8_t)', 'h'), f('n', 'uint32_t', 'n')]),
  b.typedef('word_t', 'unsigned long', 'machine word', { overrides: { arm: { kind: 'typedef', target: { kind: 'name', name: 'uint64_t' } } } }),
  b.struct('x86only', 'only on x86', [f('a', 'uint8_t', 'a')], { arches: ['x86'] }),
  b.struct('self', 'contains itself', [f('me', 'struct self', 'me')]),
  b.struct('empty', 'an empty struct', []),
]);

const on = (arch: string) => new LayoutEngine(spec, arch);

describe('layout engine', () => {
  it('aligns 64-bit integers to 8 on x86_64 and to 4 inside i386 structs', () => {
    expect(on('x86_64').named('struct mixed')).toMatchObject({ size: 24, align: 8, fields: { b: { offset: 8 }, c: { offset: 16 } } });
    expect(on('x86_32').named('struct mixed')).toMatchObject({ size: 16, align: 4, fields: { b: { offset: 4 }, c: { offset: 12 } } });
    expect(on('arm32').named('struct mixed')).toMatchObject({ size: 24, align: 8, fields: { b: { offset: 8 } } });
  });

  it('packs a packed struct and honours an explicit field alignment', () => {
    expect(on('x86_64').named('struct packed')).toMatchObject({ size: 5, align: 1, fields: { b: { offset: 1 } } });
    expect(on('x86_32').named('struct aligned_field')).toMatchObject({ size: 16, align: 8, fields: { b: { offset: 8 } } });
  });

  it('sizes a union by its largest member, rounded to its alignment', () => {
    expect(on('x86_64').named('union u')).toMatchObject({ size: 6, align: 2 });
  });

  it('resolves array lengths through constants', () => {
    expect(on('x86_64').named('struct arr')).toMatchObject({ size: 8, fields: { x: { offset: 0, size: 6 }, y: { offset: 6 } } });
  });

  it('flattens inline members to dotted paths and anonymous members to plain names', () => {
    const l = on('x86_64').named('struct nested');
    expect(l.fields['u']).toEqual({ offset: 8, size: 8, align: 8 });
    expect(l.fields['u.s.hi']).toEqual({ offset: 10, size: 2, align: 2 });
    expect(l.fields['rax']).toEqual({ offset: 16, size: 8, align: 8 });
    expect(l.fields['eax']).toEqual({ offset: 16, size: 4, align: 4 });
    expect(l.fields['']).toBeUndefined();
    expect(l.size).toBe(24);
  });

  it('makes guest handles pointer-sized on x86 and 8 bytes on both Arm ABIs', () => {
    expect(on('x86_32').named('struct handles')).toMatchObject({ size: 8, fields: { n: { offset: 4 } } });
    expect(on('arm32').named('struct handles')).toMatchObject({ size: 16, align: 8, fields: { n: { offset: 8 } } });
    expect(on('x86_64').named('struct handles').size).toBe(16);
  });

  it('applies per-family overrides and arch restrictions', () => {
    expect(on('x86_32').named('word_t').size).toBe(4);
    expect(on('arm32').named('word_t').size).toBe(8);
    expect(on('x86_64').has('struct x86only')).toBe(true);
    expect(on('arm64').has('struct x86only')).toBe(false);
    expect(() => on('arm64').named('struct x86only')).toThrow(LayoutError);
  });

  it('accepts an ABI name for its arch and gives empty structs size 0', () => {
    expect(on('x86_32-pv').arch.name).toBe('x86_32');
    expect(on('x86_64').named('struct empty')).toMatchObject({ size: 0, align: 1 });
  });

  it('reports unknown types and self-containing types as layout errors naming the item', () => {
    expect(() => on('x86_64').named('struct nope')).toThrow(/struct nope: unknown type/);
    expect(() => on('x86_64').named('struct self')).toThrow(/struct self: type contains itself/);
    expect(() => new LayoutEngine(spec, 'mips')).toThrow(/unknown arch or ABI 'mips'/);
  });
});
