/**
 * A minimal ELF reader: the bytes of one named section of a relocatable object, for
 * reading probe values out of objects compiled for any architecture without running them.
 */

/** The bytes of section `name` in an ELF object, or undefined when it has none. */
export function elfSection(file: Uint8Array, name: string): Uint8Array | undefined {
  if (file[0] !== 0x7f || file[1] !== 0x45 || file[2] !== 0x4c || file[3] !== 0x46) {
    throw new Error('not an ELF file');
  }
  const is64 = file[4] === 2;
  const le = file[5] === 1;
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const u16 = (o: number) => dv.getUint16(o, le);
  const u32 = (o: number) => dv.getUint32(o, le);
  const uN = (o: number) => (is64 ? Number(dv.getBigUint64(o, le)) : u32(o));
  const shoff = uN(is64 ? 0x28 : 0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  const shstrndx = u16(is64 ? 0x3e : 0x32);
  const sh = (i: number) => {
    const b = shoff + i * shentsize;
    return {
      name: u32(b),
      offset: uN(b + (is64 ? 0x18 : 0x10)),
      size: uN(b + (is64 ? 0x20 : 0x14)),
    };
  };
  const strtab = sh(shstrndx);
  const nameAt = (off: number) => {
    let end = strtab.offset + off;
    while (file[end] !== 0) end++;
    return new TextDecoder().decode(file.subarray(strtab.offset + off, end));
  };
  for (let i = 0; i < shnum; i++) {
    const s = sh(i);
    if (nameAt(s.name) === name) return file.subarray(s.offset, s.offset + s.size);
  }
  return undefined;
}

/** Reads an array of little- or big-endian 64-bit signed integers. */
export function readInt64s(bytes: Uint8Array, littleEndian: boolean): bigint[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: bigint[] = [];
  for (let o = 0; o + 8 <= bytes.byteLength; o += 8) out.push(dv.getBigInt64(o, littleEndian));
  return out;
}
