/**
 * Scalar tables of the C data models hyperabi's specs use. Each entry is the size and the
 * in-struct alignment of a scalar type name, as the ABI's C compiler lays it out.
 */
import type { ScalarLayout } from './model.js';

type Table = Record<string, ScalarLayout>;

const s = (size: number, align: number): ScalarLayout => ({ size, align });

function base(long: number, ptr: number, int64Align: number): Table {
  const i64 = s(8, int64Align);
  return {
    char: s(1, 1),
    'signed char': s(1, 1),
    'unsigned char': s(1, 1),
    short: s(2, 2),
    'unsigned short': s(2, 2),
    int: s(4, 4),
    'unsigned int': s(4, 4),
    long: s(long, long),
    'unsigned long': s(long, long),
    'long long': i64,
    'unsigned long long': i64,
    int8_t: s(1, 1),
    uint8_t: s(1, 1),
    int16_t: s(2, 2),
    uint16_t: s(2, 2),
    int32_t: s(4, 4),
    uint32_t: s(4, 4),
    int64_t: i64,
    uint64_t: i64,
    _Bool: s(1, 1),
    void: s(1, 1),
    'void *': s(ptr, ptr),
  };
}

/** LP64, 64-bit integers 8-aligned (x86-64 psABI, AAPCS64). */
export const LP64: Table = base(8, 8, 8);
/** ILP32 with 64-bit integers 4-aligned inside structs (System V i386). */
export const ILP32_I386: Table = base(4, 4, 4);
/** ILP32 with 64-bit integers 8-aligned (AAPCS). */
export const ILP32_AAPCS: Table = base(4, 4, 8);
