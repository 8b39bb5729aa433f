/**
 * The runtime module the generated TypeScript shares (`runtime.ts`): the codec interface,
 * guest memory and references into it, the guest-side transport, and the small checks the
 * codecs call. Spec-independent, so the generated tree stays self-contained.
 */
import { Scope, StructureKind, VariableDeclarationKind, type FunctionDeclarationStructure } from 'ts-morph';
import type { GeneratedFile } from '../files.js';
import type { Statement, TsPrinter } from './emit.js';

const MODULE = 'generator/ts/runtime.ts';

const fn = (name: string, docs: string, params: [string, string][], returnType: string, statements: string[], typeParameters?: string[]): FunctionDeclarationStructure => ({
  kind: StructureKind.Function,
  isExported: true,
  name,
  docs: [docs],
  ...(typeParameters ? { typeParameters } : {}),
  parameters: params.map(([n, type]) => ({ name: n, type })),
  returnType,
  statements,
});

/** The runtime module. */
export function runtimeFile(printer: TsPrinter): GeneratedFile {
  const statements: Statement[] = [
    {
      kind: StructureKind.Interface,
      isExported: true,
      name: 'Codec',
      typeParameters: ['T'],
      docs: ['Encodes and decodes one type of one arch in a DataView at a byte offset.'],
      properties: [
        { name: 'type', isReadonly: true, type: 'string', docs: ['The spec item (C name).'] },
        { name: 'arch', isReadonly: true, type: 'string' },
        { name: 'size', isReadonly: true, type: 'number' },
        { name: 'align', isReadonly: true, type: 'number' },
      ],
      methods: [
        { name: 'encode', parameters: [{ name: 'view', type: 'DataView' }, { name: 'offset', type: 'number' }, { name: 'value', type: 'T' }], returnType: 'void' },
        { name: 'decode', parameters: [{ name: 'view', type: 'DataView' }, { name: 'offset', type: 'number' }], returnType: 'T' },
      ],
    },
    {
      kind: StructureKind.TypeAlias,
      isExported: true,
      name: 'HypercallResult',
      type: 'number | bigint',
      docs: ['A hypercall result as the handler gives it: a (negative errno or other) number, or a bigint for a full-width value.'],
    },
    {
      kind: StructureKind.TypeAlias,
      isExported: true,
      name: 'Registers',
      type: 'Record<string, bigint>',
      docs: ['Register values by the names the spec gives them (rax, rdi, x16, r12, ...), unsigned.'],
    },
    {
      kind: StructureKind.Interface,
      isExported: true,
      name: 'GuestMemory',
      docs: ['Guest memory as the dispatch side sees it: one DataView, and where a guest address range lies in it.'],
      properties: [{ name: 'view', isReadonly: true, type: 'DataView' }],
      methods: [
        {
          name: 'locate',
          docs: ['The offset in `view` of `size` bytes at guest address `addr`, or -1 when any of them is not accessible.'],
          parameters: [{ name: 'addr', type: 'bigint' }, { name: 'size', type: 'number' }],
          returnType: 'number',
        },
      ],
    },
    {
      kind: StructureKind.Class,
      isExported: true,
      name: 'GuestFault',
      extends: 'Error',
      docs: ['A guest address that cannot be read or written; the dispatcher turns it into -EFAULT.'],
      properties: [{ name: 'name', hasOverrideKeyword: true, initializer: "'GuestFault'" }],
      ctors: [
        {
          parameters: [{ name: 'addr', type: 'bigint', isReadonly: true, scope: Scope.Public }, { name: 'size', type: 'number', isReadonly: true, scope: Scope.Public }],
          statements: [
            '// Faults are control flow (the dispatcher answers -EFAULT), frequent under fuzzing: no stack trace is captured.',
            'const limit = Error.stackTraceLimit;',
            'Error.stackTraceLimit = 0;',
            'super(`guest fault: ${size} bytes at 0x${addr.toString(16)}`);',
            'Error.stackTraceLimit = limit;',
          ],
        },
      ],
    },
    {
      kind: StructureKind.Class,
      isExported: true,
      name: 'GuestRef',
      typeParameters: ['T'],
      docs: ['A typed guest pointer: reads and writes the value at `addr` through the codec of the caller’s ABI, when asked.'],
      ctors: [
        {
          parameters: [
            { name: 'mem', type: 'GuestMemory', isReadonly: true, scope: Scope.Public },
            { name: 'addr', type: 'bigint', isReadonly: true, scope: Scope.Public },
            { name: 'codec', type: 'Codec<T>', isReadonly: true, scope: Scope.Public },
          ],
        },
      ],
      methods: [
        {
          name: 'read',
          docs: ['Decodes the value (throws GuestFault when unmapped).'],
          returnType: 'T',
          statements: ['const o = this.mem.locate(this.addr, this.codec.size);', 'if (o < 0) throw new GuestFault(this.addr, this.codec.size);', 'return this.codec.decode(this.mem.view, o);'],
        },
        {
          name: 'write',
          docs: ['Encodes the value back (throws GuestFault when unmapped).'],
          parameters: [{ name: 'value', type: 'T' }],
          returnType: 'void',
          statements: ['const o = this.mem.locate(this.addr, this.codec.size);', 'if (o < 0) throw new GuestFault(this.addr, this.codec.size);', 'this.codec.encode(this.mem.view, o, value);'],
        },
      ],
    },
    {
      kind: StructureKind.Class,
      isExported: true,
      name: 'GuestArrayRef',
      typeParameters: ['T'],
      docs: ['A typed guest array of `length` elements at `addr`.'],
      ctors: [
        {
          parameters: [
            { name: 'mem', type: 'GuestMemory', isReadonly: true, scope: Scope.Public },
            { name: 'addr', type: 'bigint', isReadonly: true, scope: Scope.Public },
            { name: 'length', type: 'number', isReadonly: true, scope: Scope.Public },
            { name: 'codec', type: 'Codec<T>', isReadonly: true, scope: Scope.Public },
          ],
        },
      ],
      methods: [
        {
          name: 'at',
          docs: ['A reference to element `i`.'],
          parameters: [{ name: 'i', type: 'number' }],
          returnType: 'GuestRef<T>',
          statements: ['return new GuestRef(this.mem, this.addr + BigInt(i * this.codec.size), this.codec);'],
        },
        {
          name: 'read',
          parameters: [{ name: 'i', type: 'number' }],
          returnType: 'T',
          statements: ['return this.at(i).read();'],
        },
        {
          name: 'write',
          parameters: [{ name: 'i', type: 'number' }, { name: 'value', type: 'T' }],
          returnType: 'void',
          statements: ['this.at(i).write(value);'],
        },
      ],
    },
    {
      kind: StructureKind.Class,
      isExported: true,
      name: 'FlatGuestMemory',
      implements: ['GuestMemory'],
      docs: ['Guest memory as one buffer mapped at guest address `base` (for tests, transports and simple VMMs).'],
      properties: [{ name: 'view', isReadonly: true, type: 'DataView' }],
      ctors: [
        {
          parameters: [{ name: 'bytes', type: 'Uint8Array', isReadonly: true, scope: Scope.Public }, { name: 'base', type: 'bigint', initializer: '0n', isReadonly: true, scope: Scope.Public }],
          statements: ['this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);'],
        },
      ],
      methods: [
        {
          name: 'locate',
          parameters: [{ name: 'addr', type: 'bigint' }, { name: 'size', type: 'number' }],
          returnType: 'number',
          statements: ['const o = addr - this.base;', 'if (o < 0n || o + BigInt(size) > BigInt(this.bytes.byteLength)) return -1;', 'return Number(o);'],
        },
      ],
    },
    {
      kind: StructureKind.Interface,
      isExported: true,
      name: 'HypercallTransport',
      docs: ['How a guest stub reaches a hypervisor: registers in, result register out, and guest memory.'],
      properties: [{ name: 'abi', isReadonly: true, type: 'string', docs: ['The ABI the guest runs under (x86_64-pv, arm64, ...).'] }],
      methods: [
        { name: 'hypercall', docs: ['Makes the call with these registers; returns the result register, unsigned.'], parameters: [{ name: 'regs', type: 'Readonly<Registers>' }], returnType: 'bigint' },
        { name: 'read', docs: ['Reads guest memory.'], parameters: [{ name: 'addr', type: 'bigint' }, { name: 'length', type: 'number' }], returnType: 'Uint8Array' },
        { name: 'write', docs: ['Writes guest memory.'], parameters: [{ name: 'addr', type: 'bigint' }, { name: 'bytes', type: 'Uint8Array' }], returnType: 'void' },
        {
          name: 'alloc',
          hasQuestionToken: true,
          docs: ['Allocates guest memory for an argument when the caller gives no address.'],
          parameters: [{ name: 'size', type: 'number' }, { name: 'align', type: 'number' }],
          returnType: 'bigint',
        },
      ],
    },
    fn('asNumber', 'A value held as number | bigint (its shape differs between arches) as a number.', [['v', 'unknown'], ['what', 'string']], 'number', [
      "if (typeof v === 'number') return v;",
      "if (typeof v === 'bigint') return Number(v);",
      'throw new TypeError(`${what}: expected a number, got ${typeof v}`);',
    ]),
    fn('asBigInt', 'A value held as number | bigint as a bigint.', [['v', 'unknown'], ['what', 'string']], 'bigint', [
      "if (typeof v === 'bigint') return v;",
      "if (typeof v === 'number') return BigInt(v);",
      'throw new TypeError(`${what}: expected a bigint, got ${typeof v}`);',
    ]),
    fn('asArray', 'A value whose shape differs between arches, checked to be an array.', [['v', 'unknown'], ['what', 'string']], 'T[]', [
      'if (Array.isArray(v)) return v as T[];',
      'throw new TypeError(`${what}: expected an array, got ${typeof v}`);',
    ], ['T = never']),
    fn('asObject', 'A value whose shape differs between arches, checked to be an object.', [['v', 'unknown'], ['what', 'string']], 'T', [
      "if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as T;",
      'throw new TypeError(`${what}: expected an object, got ${typeof v}`);',
    ], ['T = object']),
    fn('checkLength', 'Checks an array value has the C array’s length.', [['a', 'readonly unknown[]'], ['n', 'number'], ['what', 'string']], 'void', [
      'if (a.length !== n) throw new RangeError(`${what}: expected ${n} elements, got ${a.length}`);',
    ]),
    fn('unavailableCodec', 'The codec of a type that the arch does not define: using it throws, naming both.', [['type', 'string'], ['arch', 'string']], 'Codec<T>', [
      'const fail = (): never => {',
      '  throw new TypeError(`${type} is not defined on ${arch}`);',
      '};',
      'return { type, arch, size: 0, align: 1, encode: fail, decode: fail };',
    ], ['T']),
    fn('toRegister', 'A value as an unsigned register of `bits` bits.', [['v', 'number | bigint'], ['bits', 'number']], 'bigint', [
      "return BigInt.asUintN(bits, typeof v === 'bigint' ? v : BigInt(v));",
    ]),
    {
      kind: StructureKind.VariableStatement,
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      docs: ['An empty register file, for building one.'],
      declarations: [{ name: 'NO_REGISTERS', type: 'Readonly<Registers>', initializer: '{}' }],
    },
  ];
  return printer.file('runtime.ts', MODULE, 'Runtime support of the generated TypeScript: codecs, guest memory, guest references, transport.', statements);
}
