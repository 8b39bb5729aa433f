/**
 * Markdown text of spec items for the reference docs: escaping of the spec's prose, code
 * spans, anchors, readable values and type spellings, and the `Linker` that turns a spec
 * name (a type, hypercall, operation id, constant or resource) into a relative link to the
 * page and anchor that documents it. Pure functions of the generator model.
 */
import { toBigInt, type ConstValue, type Field, type Trigger, type TypeRef } from '../../spec/index.js';
import type { GenModel } from '../model.js';

/** A spec item the docs cannot express (an unknown type name, an argument without a register). */
export class DocsError extends Error {
  override name = 'DocsError';
}

/** The spec's own prose, escaped so Markdown shows it as written (no emphasis, links or HTML). */
export function prose(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').replace(/[\\*[\]<>]/g, (c) => `\\${c}`);
}

/** A code span. */
export function code(s: string): string {
  return `\`${s}\``;
}

/** A table cell: pipes escaped (also inside code spans, as GFM tables need), one line. */
export function cell(s: string): string {
  return s.replace(/\n/g, ' ').replace(/\|/g, '\\|');
}

/** The HTML anchor that links point at (explicit ids, so anchors do not depend on a renderer's heading slugs). */
export function anchorTag(id: string): string {
  return `<a id="${id}"></a>`;
}

/** The anchor id of a named type: `struct evtchn_status` → `struct-evtchn_status`. */
export function typeAnchor(name: string): string {
  return name.replace(/[^A-Za-z0-9_$.-]+/g, '-');
}

/** The anchor id of a constant group (prefixed: a group may share its name with a member). */
export function groupAnchor(name: string): string {
  return `group-${typeAnchor(name)}`;
}

/** The anchor id of a resource kind. */
export function resourceAnchor(name: string): string {
  return `resource-${typeAnchor(name)}`;
}

/** The page of a family. */
export function familyFile(family: string): string {
  return `${family}.md`;
}

/** The index page. */
export const INDEX_FILE = 'README.md';

/** A constant value as a reader expects it: flags and large values in hex, the rest in decimal. */
export function formatValue(v: ConstValue, hex = false): string {
  if (typeof v === 'string') return v;
  const n = toBigInt(v);
  const abs = n < 0n ? -n : n;
  if (!hex && abs < 0x10000n) return n.toString();
  return `${n < 0n ? '-' : ''}0x${abs.toString(16)}`;
}

const OPS: Record<string, string> = { eq: '=', ne: '≠', lt: '<', le: '≤', gt: '>', ge: '≥' };

/**
 * Where each documented spec item lives: the page and anchor of every type (by name and
 * alias), hypercall, operation, constant, constant group and resource of the model.
 */
export class Linker {
  private readonly targets = new Map<string, { file: string; anchor: string }>();
  private readonly scalars = new Set<string>(['void']);

  constructor(readonly model: GenModel) {
    const put = (kind: string, name: string, file: string, anchor: string) => {
      if (!this.targets.has(`${kind}:${name}`)) this.targets.set(`${kind}:${name}`, { file, anchor });
    };
    for (const a of model.spec.arches) for (const s of Object.keys(a.scalars)) this.scalars.add(s);
    for (const t of model.types) {
      const file = familyFile(t.def.family);
      put('type', t.def.name, file, typeAnchor(t.def.name));
      for (const alias of t.def.aliases ?? []) put('type', alias, file, typeAnchor(t.def.name));
    }
    for (const h of model.hypercalls) {
      const file = familyFile(h.hypercall.family);
      put('hypercall', h.hypercall.name, file, h.hypercall.name);
      for (const op of h.operations) put('op', op.id, file, op.id);
    }
    const seenGroups = new Set<string>();
    for (const c of model.constants) {
      if (Object.keys(c.values).length === 0) continue;
      const file = familyFile(c.group.family);
      put('constant', c.constant.name, file, c.constant.name);
      if (!seenGroups.has(c.group.name)) put('group', c.group.name, file, groupAnchor(c.group.name));
      seenGroups.add(c.group.name);
    }
    for (const r of model.spec.resources) put('resource', r.name, familyFile(r.family), resourceAnchor(r.name));
  }

  /** The relative link from page `from` to an item, or undefined when the docs do not show it. */
  href(from: string, kind: 'type' | 'hypercall' | 'op' | 'constant' | 'group' | 'resource', name: string): string | undefined {
    const t = this.targets.get(`${kind}:${name}`);
    if (!t) return undefined;
    return t.file === from ? `#${t.anchor}` : `${t.file}#${t.anchor}`;
  }

  /** `[`name`](href)`, or a plain code span when the item has no page. */
  link(from: string, kind: Parameters<Linker['href']>[1], name: string, text = code(name)): string {
    const h = this.href(from, kind, name);
    return h ? `[${text}](${h})` : text;
  }

  /** A name that may be a hypercall, an operation of `hypercall`, or a constant: linked to whichever documents it. */
  linkAny(from: string, name: string, hypercall?: string): string {
    if (this.href(from, 'hypercall', name)) return this.link(from, 'hypercall', name);
    if (hypercall && this.href(from, 'op', `${hypercall}$${name}`)) return this.link(from, 'op', `${hypercall}$${name}`, code(name));
    const op = this.model.operations.find((o) => o.op?.name === name);
    if (op) return this.link(from, 'op', op.id, code(name));
    return this.link(from, 'constant', name);
  }

  /**
   * A type reference in C-like spelling with declared types linked: `uint32_t`,
   * `XEN_GUEST_HANDLE(`[`xen_pfn_t`]`)`, `char[16]`. `where` names the spec item, for errors.
   */
  typeRef(from: string, t: TypeRef, where: string): string {
    // Adjacent plain pieces merge into one code span (two spans side by side would read as a `` fence).
    let out = '';
    let plain = '';
    for (const p of this.typeParts(from, t, where)) {
      if (p.href === undefined) plain += p.text;
      else {
        if (plain) out += code(plain);
        plain = '';
        out += `[${code(p.text)}](${p.href})`;
      }
    }
    return plain ? out + code(plain) : out;
  }

  private typeParts(from: string, t: TypeRef, where: string): { text: string; href?: string }[] {
    switch (t.kind) {
      case 'name': {
        const href = this.href(from, 'type', t.name);
        if (href) return [{ text: t.name, href }];
        if (this.scalars.has(t.name) || this.model.spec.types.some((d) => d.name === t.name || d.aliases?.includes(t.name))) {
          return [{ text: t.name }];
        }
        throw new DocsError(`${where}: type '${t.name}' is neither a scalar of the spec's arches nor a declared type`);
      }
      case 'handle':
        return [{ text: t.width === 64 ? 'XEN_GUEST_HANDLE_64(' : 'XEN_GUEST_HANDLE(' }, ...this.typeParts(from, t.to, where), { text: ')' }];
      case 'pointer':
        return [...this.typeParts(from, t.to, where), { text: ' *' }];
      case 'array':
        return [...this.typeParts(from, t.of, where), { text: `[${t.length}]` }];
      case 'struct':
      case 'union':
        return [{ text: `${t.kind} { … }` }];
    }
  }
}

/** A trigger in words: `` `arg.virq` ≥ 24 ``, `` `arg.port` is out-of-range (evtchn_port) ``. */
export function triggerText(linker: Linker, from: string, t: Trigger | undefined): string {
  if (!t) return '';
  switch (t.kind) {
    case 'value': {
      const v = formatValue(t.value, t.op === 'mask');
      const cond = t.op === 'mask' ? `${code(`${t.path} & ${v}`)} ≠ 0` : `${code(t.path)} ${OPS[t.op]} ${code(v)}`;
      return t.doc ? `${cond} (${prose(t.doc)})` : cond;
    }
    case 'resource':
      return `${code(t.path)} is ${code(t.state)} (${linker.link(from, 'resource', t.resource)})`;
    case 'fault':
      return `${code(t.path)} cannot be read or written`;
    case 'privilege':
      return `the caller lacks ${code(t.need)}`;
    case 'state':
      return `state ${code(t.state)}`;
  }
}

/** One row of a field table: a member path as the layout engine names it, with its declared type, direction and doc. */
export interface FieldInfo {
  path: string;
  type: TypeRef;
  dir?: string;
  doc: string;
}

/**
 * The members of a body under the layout engine's paths: `dom`, `u`, `u.interdomain.port`;
 * members of an anonymous (C11) member appear under their own names.
 */
export function fieldInfos(fields: readonly Field[], prefix = ''): FieldInfo[] {
  const out: FieldInfo[] = [];
  for (const f of fields) {
    if (f.name !== '') out.push({ path: `${prefix}${f.name}`, type: f.type, ...(f.dir ? { dir: f.dir } : {}), doc: f.doc });
    if (f.type.kind === 'struct' || f.type.kind === 'union') {
      out.push(...fieldInfos(f.type.fields, f.name === '' ? prefix : `${prefix}${f.name}.`));
    }
  }
  return out;
}
