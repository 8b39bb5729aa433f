/**
 * `spec check`: lints a spec and returns diagnostics, each with a code, a message and the
 * path of the item it concerns. Problems in a spec are values, never exceptions.
 *
 * Codes:
 *  - schema              the document does not match the meta-model
 *  - duplicate-number    two hypercalls share a number
 *  - duplicate-name      two hypercalls, types, groups, resources or operations share a name
 *  - duplicate-subop     two operations of one hypercall share a command value
 *  - constant-conflict   one constant name with two different values
 *  - unknown-type        a type reference names no scalar or declared type
 *  - unknown-constant    an array length names no constant
 *  - unknown-resource    a resource use names no declared resource
 *  - unknown-errno       an error names no code of the spec's error spaces
 *  - unknown-abi         an availability list names no ABI, arch or family
 *  - unknown-group       a sub-op table names no constant group
 *  - bad-path            a resource use or trigger path names no argument or field
 *  - bad-selector        a sub-op selector names no argument
 *  - layout              the layout engine cannot lay out a type on an arch
 *  - size-mismatch       a declared size contradicts the computed layout
 *  - missing-doc         an item has no documentation (warning)
 *  - unknown-backend     an interface implementation names no declared backend
 *  - unknown-reference   an implementation calls an operation its backend's spec (or constant group) lacks
 *  - bad-discovery       a discovery rule names a field, type or constant that does not exist
 */
import { Compile } from 'typebox/compile';
import { LayoutEngine, LayoutError } from './layout.js';
import { Spec, type Arch, type Field, type Hypercall, type Operation, type Trigger, type TypeRef } from './model.js';
import { constantValueOf, findConstant, findGroup, findOperation, findType, operationId, selects, typeBodyFor } from './query.js';

/** One finding of `spec check`. */
export interface Diagnostic {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  path: string;
}

let validator: { Check(v: unknown): boolean; Errors(v: unknown): Iterable<{ message: string; instancePath: string }> } | undefined;

/**
 * Checks a document against the meta-model, then the spec's internal consistency.
 * `registry` holds the specs that cross-spec references (interface implementations) resolve
 * against, by name; the document itself resolves under its own name in any case.
 */
export function checkSpec(doc: unknown, source = 'spec', registry: Readonly<Record<string, Spec>> = {}): Diagnostic[] {
  // The compiled validator is ~200 times faster than Value.Check on a whole spec.
  const v = (validator ??= Compile(Spec));
  if (!v.Check(doc)) {
    const out: Diagnostic[] = [];
    for (const e of v.Errors(doc)) {
      out.push({ code: 'schema', severity: 'error', message: e.message, path: `${source}:${e.instancePath || '/'}` });
      if (out.length >= 50) break;
    }
    return out;
  }
  // Valid against the schema, so the document is a Spec.
  return new Checker(doc as Spec, source, registry).run();
}

/** Whether a diagnostic list has errors (warnings do not fail a check). */
export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}

class Checker {
  private readonly out: Diagnostic[] = [];
  private readonly abiNames: Set<string>;
  private readonly errnoCodes = new Map<'return' | 'status', Set<string>>();
  private readonly resources: Set<string>;

  constructor(
    private readonly spec: Spec,
    private readonly source: string,
    private readonly registry: Readonly<Record<string, Spec>> = {},
  ) {
    this.abiNames = new Set([
      ...spec.abis.map((a) => a.name),
      ...spec.arches.map((a) => a.name),
      ...spec.arches.map((a) => a.family),
    ]);
    for (const space of spec.errorSpaces) {
      const g = findGroup(spec, space.group);
      const set = this.errnoCodes.get(space.via) ?? new Set<string>();
      for (const c of g?.members ?? []) {
        if (c.name.startsWith(space.prefix)) set.add(c.name.slice(space.prefix.length));
      }
      this.errnoCodes.set(space.via, set);
      if (!g) this.report('unknown-group', `error space names unknown constant group '${space.group}'`, 'errorSpaces');
    }
    this.resources = new Set(spec.resources.map((r) => r.name));
  }

  private report(code: string, message: string, path: string, severity: 'error' | 'warning' = 'error'): void {
    this.out.push({ code, severity, message, path: `${this.source}:${path}` });
  }

  run(): Diagnostic[] {
    this.duplicates();
    this.types();
    this.constants();
    this.hypercalls();
    this.discovery();
    this.interfaces();
    return this.out;
  }

  private dupes<T>(items: readonly T[], key: (t: T) => string | number, what: string, code: string, path: (t: T) => string): void {
    const seen = new Map<string | number, T>();
    for (const it of items) {
      const k = key(it);
      const prev = seen.get(k);
      if (prev !== undefined) this.report(code, `${what} ${k} is used by both ${path(prev)} and ${path(it)}`, path(it));
      else seen.set(k, it);
    }
  }

  private duplicates(): void {
    const s = this.spec;
    this.dupes(s.hypercalls, (h) => h.number, 'hypercall number', 'duplicate-number', (h) => `hypercalls/${h.name}`);
    this.dupes(s.hypercalls, (h) => h.name, 'hypercall name', 'duplicate-name', (h) => `hypercalls/${h.name}#${h.number}`);
    const typeNames = s.types.flatMap((t) => [t.name, ...(t.aliases ?? [])].map((n) => ({ n, t: t.name })));
    this.dupes(typeNames, (x) => x.n, 'type name', 'duplicate-name', (x) => `types/${x.t}`);
    this.dupes(s.constants, (g) => g.name, 'constant group', 'duplicate-name', (g) => `constants/${g.name}`);
    this.dupes(s.resources, (r) => r.name, 'resource', 'duplicate-name', (r) => `resources/${r.name}`);
    for (const h of s.hypercalls) {
      const ops = h.subops?.ops ?? [];
      this.dupes(ops, (o) => o.name, 'operation', 'duplicate-name', (o) => `hypercalls/${h.name}/${o.name}`);
      this.dupes(ops, (o) => o.value, 'command value', 'duplicate-subop', (o) => `hypercalls/${h.name}/${o.name}`);
    }
  }

  // ───────── types ─────────

  private types(): void {
    for (const def of this.spec.types) {
      const path = `types/${def.name}`;
      if (!def.doc.trim()) this.report('missing-doc', 'type has no doc', path, 'warning');
      for (const key of Object.keys(def.overrides ?? {})) {
        if (!this.spec.arches.some((a) => a.name === key || a.family === key)) {
          this.report('unknown-abi', `override for unknown arch or family '${key}'`, `${path}/overrides/${key}`);
        }
      }
      for (const a of def.arches ?? []) {
        if (!this.abiNames.has(a)) this.report('unknown-abi', `type restricted to unknown arch '${a}'`, `${path}/arches`);
      }
      const bodies = [def.body, ...Object.values(def.overrides ?? {})];
      const before = this.out.length;
      for (const body of bodies) {
        if (body.target) this.typeRef(body.target, path);
        for (const f of body.fields ?? []) this.field(f, path);
      }
      // A dangling reference was reported already; laying the type out would only repeat it.
      if (this.out.slice(before).some((d) => d.severity === 'error')) continue;
      for (const arch of this.spec.arches) {
        if (!selects(def.arches, arch)) continue;
        this.layoutOf(def.name, arch, path, def.declaredSize?.[arch.name] ?? def.declaredSize?.[arch.family]);
      }
    }
  }

  private readonly engines = new Map<string, LayoutEngine>();

  private layoutOf(name: string, arch: Arch, path: string, declared: number | undefined): void {
    let engine = this.engines.get(arch.name);
    if (!engine) this.engines.set(arch.name, (engine = new LayoutEngine(this.spec, arch)));
    try {
      const l = engine.named(name);
      if (declared !== undefined && declared !== l.size) {
        this.report('size-mismatch', `declared size ${declared} on ${arch.name}, computed ${l.size}`, path);
      }
    } catch (e) {
      if (e instanceof LayoutError) this.report('layout', `${arch.name}: ${e.message}`, path);
      else throw e;
    }
  }

  private field(f: Field, path: string): void {
    const p = `${path}/${f.name || '(anonymous)'}`;
    if (!f.doc.trim()) this.report('missing-doc', 'field has no doc', p, 'warning');
    if (f.values !== undefined && !findGroup(this.spec, f.values)) {
      this.report('unknown-group', `field takes values of unknown constant group '${f.values}'`, p);
    }
    this.typeRef(f.type, p);
  }

  private typeRef(t: TypeRef, path: string): void {
    switch (t.kind) {
      case 'name':
        if (!findType(this.spec, t.name) && !this.spec.arches.some((a) => t.name in a.scalars)) {
          this.report('unknown-type', `unknown type '${t.name}'`, path);
        }
        return;
      case 'handle':
      case 'pointer':
        this.typeRef(t.to, path);
        return;
      case 'array':
        if (typeof t.length === 'string' && !this.spec.constants.some((g) => g.members.some((c) => c.name === t.length))) {
          this.report('unknown-constant', `array length names unknown constant '${t.length}'`, path);
        }
        this.typeRef(t.of, path);
        return;
      case 'struct':
      case 'union':
        for (const f of t.fields) this.field(f, path);
        return;
    }
  }

  // ───────── constants ─────────

  private constants(): void {
    const seen = new Map<string, { value: string; group: string }>();
    for (const g of this.spec.constants) {
      const path = `constants/${g.name}`;
      if (!g.doc.trim()) this.report('missing-doc', 'group has no doc', path, 'warning');
      for (const c of g.members) {
        if (!c.doc.trim()) this.report('missing-doc', 'constant has no doc', `${path}/${c.name}`, 'warning');
        for (const a of [...(c.arches ?? []), ...Object.keys(c.perArch ?? {})]) {
          if (!this.abiNames.has(a)) this.report('unknown-abi', `unknown arch '${a}'`, `${path}/${c.name}`);
        }
        const v = JSON.stringify([constantValueOf(c), c.perArch ?? null, c.arches ?? null]);
        const prev = seen.get(c.name);
        if (prev && prev.value !== v) {
          this.report('constant-conflict', `constant ${c.name} has different values in ${prev.group} and ${g.name}`, `${path}/${c.name}`);
        } else if (!prev) {
          seen.set(c.name, { value: v, group: g.name });
        }
      }
    }
  }

  // ───────── hypercalls ─────────

  private hypercalls(): void {
    for (const h of this.spec.hypercalls) {
      const path = `hypercalls/${h.name}`;
      if (!h.doc.trim()) this.report('missing-doc', 'hypercall has no doc', path, 'warning');
      for (const a of Object.keys(h.abis)) {
        if (!this.spec.abis.some((x) => x.name === a)) this.report('unknown-abi', `hypercall available on unknown ABI '${a}'`, path);
      }
      for (const [a, args] of Object.entries(h.argsByAbi ?? {})) {
        if (!this.abiNames.has(a)) this.report('unknown-abi', `argument list for unknown ABI '${a}'`, `${path}/argsByAbi`);
        for (const x of args) this.typeRef(x.type, `${path}/argsByAbi/${a}/${x.name}`);
      }
      for (const x of h.args) {
        if (!x.doc.trim()) this.report('missing-doc', 'argument has no doc', `${path}/args/${x.name}`, 'warning');
        if (x.values !== undefined && !findGroup(this.spec, x.values)) {
          this.report('unknown-group', `argument takes values of unknown constant group '${x.values}'`, `${path}/args/${x.name}`);
        }
        this.typeRef(x.type, `${path}/args/${x.name}`);
      }
      this.typeRef(h.returns.type, `${path}/returns`);
      this.errors(h, undefined, path);
      this.uses(h, undefined, path);
      if (h.subops) {
        const sel = h.subops.selector.split(/[[.]/)[0] ?? '';
        if (!h.args.some((x) => x.name === sel)) {
          this.report('bad-selector', `selector '${h.subops.selector}' names no argument of ${h.name}`, `${path}/subops`);
        }
        if (!findGroup(this.spec, h.subops.group)) {
          this.report('unknown-group', `sub-op group '${h.subops.group}' is not defined`, `${path}/subops`);
        }
        for (const op of h.subops.ops) {
          const opath = `${path}/${op.name}`;
          if (!op.doc.trim()) this.report('missing-doc', 'operation has no doc', opath, 'warning');
          if (op.arg) this.typeRef(op.arg, `${opath}/arg`);
          for (const a of op.abis ?? []) {
            if (!this.abiNames.has(a)) this.report('unknown-abi', `operation restricted to unknown ABI '${a}'`, opath);
          }
          this.errors(h, op, opath);
          this.uses(h, op, opath);
        }
      }
    }
  }

  private errors(h: Hypercall, op: Operation | undefined, path: string): void {
    const list = op ? op.errors : h.errors;
    list.forEach((e, i) => {
      const via = e.via ?? 'return';
      if (!this.errnoCodes.get(via)?.has(e.code)) {
        this.report('unknown-errno', `error '${e.code}' is not ${via === 'status' ? 'a status' : 'an errno'} code of the spec`, `${path}/errors/${i}`);
      }
      if (e.trigger) this.trigger(h, op, e.trigger, `${path}/errors/${i}`);
      for (const a of e.abis ?? []) {
        if (!this.abiNames.has(a)) this.report('unknown-abi', `error limited to unknown ABI '${a}'`, `${path}/errors/${i}`);
      }
    });
  }

  private trigger(h: Hypercall, op: Operation | undefined, t: Trigger, path: string): void {
    if (t.kind === 'value' || t.kind === 'resource' || t.kind === 'fault') this.pathExists(h, op, t.path, path);
    if (t.kind === 'resource' && !this.resources.has(t.resource)) {
      this.report('unknown-resource', `trigger names unknown resource '${t.resource}'`, path);
    }
  }

  private uses(h: Hypercall, op: Operation | undefined, path: string): void {
    const node = op ?? h;
    for (const u of [...(node.produces ?? []), ...(node.consumes ?? [])]) {
      if (!this.resources.has(u.resource)) this.report('unknown-resource', `unknown resource '${u.resource}'`, `${path}/${u.path}`);
      this.pathExists(h, op, u.path, `${path}/${u.path}`);
    }
  }

  /** A path is a register argument, `arg.<field>` into the operation's struct, or `<ptr-arg>.<field>`. */
  private pathExists(h: Hypercall, op: Operation | undefined, p: string, where: string): void {
    const [head, ...rest] = p.replace(/\[\]/g, '').split('.');
    const allArgs = [...h.args, ...Object.values(h.argsByAbi ?? {}).flat()];
    const argDef = allArgs.find((x) => x.name === head);
    let target: TypeRef | undefined;
    if (op && head === 'arg') target = op.arg ?? undefined;
    else if (argDef) target = argDef.type.kind === 'pointer' || argDef.type.kind === 'handle' ? argDef.type.to : argDef.type;
    else if (head === 'arg' && h.subops?.argument) {
      target = undefined;
    } else {
      this.report('bad-path', `path '${p}' names no argument of ${operationId(h, op)}`, where);
      return;
    }
    if (rest.length === 0) return;
    if (!target) {
      this.report('bad-path', `path '${p}' descends into an argument with no struct`, where);
      return;
    }
    if (!this.fieldPath(target, rest)) this.report('bad-path', `path '${p}' names no field of ${describe(target)}`, where);
  }

  private fieldPath(t: TypeRef, parts: string[]): boolean {
    let cur: TypeRef | undefined = t;
    for (const part of parts) {
      const fields = cur ? this.fieldsOf(cur) : undefined;
      if (!fields) return false;
      const flat = flatten(fields);
      const f = flat.find((x) => x.name === part);
      if (!f) return false;
      cur = f.type.kind === 'handle' || f.type.kind === 'array' ? (f.type.kind === 'handle' ? f.type.to : f.type.of) : f.type;
    }
    return true;
  }

  private fieldsOf(t: TypeRef): Field[] | undefined {
    if (t.kind === 'struct' || t.kind === 'union') return t.fields;
    if (t.kind !== 'name') return undefined;
    const def = findType(this.spec, t.name);
    if (!def) return undefined;
    const all: Field[] = [];
    for (const arch of this.spec.arches) {
      const b = typeBodyFor(def, arch);
      if (b.kind === 'typedef' && b.target) return this.fieldsOf(b.target);
      all.push(...(b.fields ?? []));
    }
    return all;
  }

  // ───────── discovery ─────────

  private discovery(): void {
    const arch = this.spec.arches[0];
    for (const d of this.spec.discovery ?? []) {
      const path = `discovery/${d.name}`;
      const fieldsOf = (type: string): Set<string> | undefined => {
        if (!arch || !findType(this.spec, type)) return undefined;
        try {
          return new Set(Object.keys(new LayoutEngine(this.spec, arch).named(type).fields));
        } catch {
          return undefined;
        }
      };
      const header = fieldsOf(d.header);
      if (!header) this.report('bad-discovery', `header type '${d.header}' is not a declared struct`, path);
      if (d.region.end <= d.region.start) this.report('bad-discovery', 'scan region ends before it starts', `${path}/region`);
      for (const r of d.rules) {
        const rpath = `${path}/${r.name}`;
        const c = r.check;
        const need = (fields: Set<string> | undefined, field: string, what: string) => {
          if (fields && !fields.has(field)) this.report('bad-discovery', `${what} '${field}' is not a field`, rpath);
        };
        if (c.kind === 'field') {
          if (c.at) need(header, c.at, 'offset field');
          const fields = c.type ? fieldsOf(c.type) : header;
          if (c.type && !fields) this.report('bad-discovery', `type '${c.type}' is not a declared struct`, rpath);
          need(fields, c.field, 'field');
          if (typeof c.value === 'string' && !/^-?0x/.test(c.value) && !findConstant(this.spec, c.value)) {
            this.report('bad-discovery', `value names unknown constant '${c.value}'`, rpath);
          }
        } else if (c.kind === 'string') {
          need(header, c.at, 'offset field');
        } else {
          need(header, c.lengthField, 'length field');
        }
      }
    }
  }

  // ───────── interfaces ─────────

  private interfaces(): void {
    const backends = new Map((this.spec.backends ?? []).map((b) => [b.name, b]));
    for (const b of this.spec.backends ?? []) {
      if (b.spec && !this.specNamed(b.spec)) {
        this.report('unknown-reference', `backend ${b.name} names spec '${b.spec}', which is not available`, `backends/${b.name}`);
      }
      if (b.group && !findGroup(this.spec, b.group)) this.report('unknown-group', `backend ${b.name} names unknown group '${b.group}'`, `backends/${b.name}`);
    }
    for (const g of this.spec.interfaces ?? []) {
      this.dupes(g.members, (m) => m.name, 'member', 'duplicate-name', (m) => `interfaces/${g.name}/${m.name}`);
      for (const m of g.members) {
        const mpath = `interfaces/${g.name}/${m.name}`;
        if (!m.doc.trim()) this.report('missing-doc', 'member has no doc', mpath, 'warning');
        m.implementations.forEach((impl, i) => {
          const ipath = `${mpath}/${impl.backend}#${i}`;
          if (!backends.has(impl.backend)) this.report('unknown-backend', `implementation names undeclared backend '${impl.backend}'`, ipath);
          for (const c of impl.calls ?? []) this.reference(c.ref, backends, ipath);
        });
      }
    }
  }

  private specNamed(name: string): Spec | undefined {
    if (name === this.spec.name) return this.spec;
    return Object.hasOwn(this.registry, name) ? this.registry[name] : undefined;
  }

  /** Resolves `<backend>:<operation id>` against the backend's spec or constant group. */
  private reference(ref: string, backends: Map<string, { spec?: string; group?: string }>, path: string): void {
    const colon = ref.indexOf(':');
    const prefix = colon < 0 ? '' : ref.slice(0, colon);
    const id = ref.slice(colon + 1);
    const b = backends.get(prefix);
    if (!b) {
      this.report('unknown-reference', `reference '${ref}' names no declared backend`, path);
      return;
    }
    if (b.spec) {
      const target = this.specNamed(b.spec);
      if (target && !findOperation(target, id)) {
        this.report('unknown-reference', `reference '${ref}': spec ${b.spec} has no operation '${id}'`, path);
      }
      return;
    }
    if (b.group) {
      if (!findGroup(this.spec, b.group)?.members.some((c) => c.name === id)) {
        this.report('unknown-reference', `reference '${ref}': group ${b.group} has no constant '${id}'`, path);
      }
      return;
    }
    this.report('unknown-reference', `reference '${ref}': backend ${prefix} has no spec or group to resolve it in`, path);
  }
}

function flatten(fields: Field[]): Field[] {
  return fields.flatMap((f) => (f.name === '' && (f.type.kind === 'struct' || f.type.kind === 'union') ? flatten(f.type.fields) : [f]));
}

function describe(t: TypeRef): string {
  return t.kind === 'name' ? t.name : t.kind;
}
