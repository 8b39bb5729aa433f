/**
 * Markdown reference docs: one page per hypercall family (its hypercalls with availability
 * and registers per ABI, operations with their command values, argument structs,
 * directions, errors, resources and references; constant tables; struct layouts per arch),
 * and an index page (families, hypercalls by number, ABIs and their conventions).
 *
 * Every fact comes from the generator model: registers from each ABI's convention, offsets
 * from the layout engine, values from the constant tables. Links between pages are relative
 * and land on explicit anchors (operation ids for operations).
 */
import type { Abi, Arch, ConstValue, Discovery, DiscoveryRule, ErrorDecl, Hypercall, Operation, Reference, ResourceUse, TypeRef } from '../../spec/index.js';
import { resultRegister } from '../../spec/vmi/registers.js';
import type { GeneratedFile } from '../files.js';
import type { GenConstant, GenHypercall, GenModel, GenOperation, GenType } from '../model.js';
import {
  anchorTag,
  code,
  DocsError,
  familyFile,
  fieldInfos,
  formatValue,
  groupAnchor,
  INDEX_FILE,
  Linker,
  prose,
  resourceAnchor,
  triggerText,
  typeAnchor,
  type FieldInfo,
} from './markdown.js';
import {
  renderFamilyPage,
  renderIndexPage,
  type DiscoveryView,
  type GroupView,
  type HypercallView,
  type OperationView,
  type PageHeader,
  type Table,
  type TypeView,
} from './templates.js';

export { DocsError } from './markdown.js';

const GENERATOR = 'generator/docs/index.ts';

/** Everything one page's builders share. */
interface Ctx {
  model: GenModel;
  linker: Linker;
  /** The page being written (links are relative to it). */
  file: string;
}

function header(model: GenModel, file: string, what: string): PageHeader {
  const all = model.abis.length === model.spec.abis.length;
  const abiOpt = all ? '' : ` --abi ${model.abis.map((a) => a.name).join(' ')}`;
  return {
    file,
    what,
    title: model.spec.title,
    version: model.spec.version,
    generator: GENERATOR,
    spec: model.spec.name,
    abiList: all ? 'all' : model.abis.map((a) => a.name).join(', '),
    command: `hyperabi generate docs --spec ${model.spec.name}${abiOpt} --out <dir>`,
  };
}

function refText(ref: Reference | undefined): string {
  if (!ref) return '';
  const parts: string[] = [];
  if (ref.header) parts.push(`header ${code(ref.header)}`);
  if (ref.handler) parts.push(`handler ${code(ref.handler)}`);
  if (ref.doc) parts.push(`doc ${code(ref.doc)}`);
  return parts.join(', ');
}

/** The ABIs of the model that a list of ABI names, arch names or arch families selects. */
function abisSelected(model: GenModel, list: readonly string[] | undefined): Abi[] {
  if (!list) return model.abis;
  return model.abis.filter((abi) => {
    const arch = model.spec.arches.find((a) => a.name === abi.arch);
    return list.includes(abi.name) || list.includes(abi.arch) || (arch !== undefined && list.includes(arch.family));
  });
}

/** ABIs in words: `all` when they are every ABI of `of` (default: the model's). */
function abiList(model: GenModel, abis: readonly Abi[], of: readonly Abi[] = model.abis, all = 'all'): string {
  if (abis.length === of.length) return all;
  if (abis.length === 0) return 'none of the documented ABIs';
  return abis.map((a) => code(a.name)).join(', ');
}

// ───────────────────────────── errors and resources ─────────────────────────────

/** The errno or status constant of an error code, by the spec's error spaces. */
function errorConstant(model: GenModel, e: ErrorDecl): GenConstant | undefined {
  const via = e.via ?? 'return';
  for (const space of model.spec.errorSpaces.filter((s) => s.via === via)) {
    const c = model.constants.find((k) => k.group.name === space.group && k.constant.name === `${space.prefix}${e.code}`);
    if (c) return c;
  }
  return undefined;
}

function errorCode(ctx: Ctx, e: ErrorDecl, where: string): string {
  const c = errorConstant(ctx.model, e);
  if (!c) throw new DocsError(`${where}: error code '${e.code}' (via ${e.via ?? 'return'}) is in none of the spec's error spaces`);
  const values = [...new Set(Object.values(c.values).map((v) => formatValue(v)))];
  const space = ctx.model.spec.errorSpaces.find((s) => s.group === c.group.name);
  const shown = values.length === 1 ? ` (${space?.negate ? `-${values[0]}` : values[0]})` : '';
  return `${ctx.linker.link(ctx.file, 'constant', c.constant.name, code(e.code))}${shown}`;
}

function errorTable(ctx: Ctx, errors: readonly ErrorDecl[], where: string, title: string): Table & { title: string } {
  return {
    title,
    head: ['code', 'via', 'condition', 'trigger'],
    rows: errors.map((e, i) => [
      errorCode(ctx, e, `${where}/errors/${i}`),
      e.via ?? 'return',
      prose(e.when),
      triggerText(ctx.linker, ctx.file, e.trigger),
    ]),
  };
}

function uses(ctx: Ctx, list: readonly ResourceUse[] | undefined): string {
  return (list ?? [])
    .map((u) => `${ctx.linker.link(ctx.file, 'resource', u.resource)} at ${code(u.path)}${u.doc ? ` (${prose(u.doc)})` : ''}`)
    .join('; ');
}

function deprecation(ctx: Ctx, d: Hypercall['deprecated'], hypercall: string): string {
  if (!d) return '';
  const parts: string[] = [];
  if (d.since) parts.push(`since ${code(d.since)}`);
  if (d.replacedBy) parts.push(`replaced by ${ctx.linker.linkAny(ctx.file, d.replacedBy, hypercall)}`);
  parts.push(prose(d.doc));
  return parts.join('; ');
}

// ───────────────────────────── hypercalls and operations ─────────────────────────────

/** The register an argument travels in under an ABI: stated by the spec, else the convention's i-th. */
function registerOf(h: Hypercall, abi: Abi, i: number): string {
  const a = argsOf(h, abi)[i];
  if (!a) throw new DocsError(`${h.name}: no argument ${i + 1} under ${abi.name}`);
  const r = a.register ?? abi.convention.args[i];
  if (r === undefined) {
    throw new DocsError(
      `${h.name}: argument ${i + 1} '${a.name}' has no register under ABI ${abi.name} (its convention has ${abi.convention.args.length} argument registers and the spec states none)`,
    );
  }
  return r;
}

function argsOf(h: Hypercall, abi: Abi) {
  return h.argsByAbi?.[abi.name] ?? h.argsByAbi?.[abi.arch] ?? h.args;
}

/** Size in bytes of a named type on an arch (a scalar or a declared type), or undefined. */
function sizeOn(model: GenModel, archName: string, t: TypeRef): number | undefined {
  if (t.kind !== 'name') return undefined;
  const arch = model.arches.find((a) => a.name === archName);
  if (arch && t.name !== 'void' && Object.hasOwn(arch.scalars, t.name)) return arch.scalars[t.name]?.size;
  return model.types.find((x) => x.def.name === t.name || x.def.aliases?.includes(t.name))?.arches[archName]?.layout.size;
}

/** Where a hypercall's result comes back: the convention's register, or a register pair for a two-word result where 64-bit values travel in lo, hi pairs. */
function resultIn(model: GenModel, h: Hypercall, abi: Abi): string {
  const size = sizeOn(model, abi.arch, h.returns.type);
  const arch = model.arches.find((a) => a.name === abi.arch);
  if (arch && size !== undefined && size > arch.wordSize && abi.convention.split64 === 'lo-hi') {
    return resultRegister(model.spec, abi, h.returns.type) ?? abi.convention.result;
  }
  return abi.convention.result;
}

function registersTable(ctx: Ctx, g: GenHypercall): Table {
  const h = g.hypercall;
  const width = Math.max(0, ...Object.values(g.args).map((a) => a.length));
  const head = ['ABI', 'handler', 'number in', ...Array.from({ length: width }, (_, i) => `arg ${i + 1}`), 'result in'];
  const rows = ctx.model.abis.map((abi) => {
    const handler = h.abis[abi.name];
    if (!handler) return [code(abi.name), 'not available', ...Array.from({ length: width + 2 }, () => '—')];
    const args = g.args[abi.name] ?? [];
    const cells = Array.from({ length: width }, (_, i) => {
      const a = args[i];
      return a ? `${code(a.name)} in ${code(registerOf(h, abi, i))}` : '';
    });
    const result = (h.results ?? []).length > 0 ? (h.results ?? []).map((r) => `${code(r.name)} in ${code(r.register ?? '?')}`).join(', ') : code(resultIn(ctx.model, h, abi));
    return [code(abi.name), handler, code(abi.convention.number), ...cells, h.noReturn ? 'does not return' : result];
  });
  return { head, rows };
}

function argTables(ctx: Ctx, g: GenHypercall): (Table & { title: string })[] {
  const h = g.hypercall;
  // One table per distinct argument list, titled with the ABIs that use it.
  const lists = new Map<string, { abis: string[]; args: Hypercall['args'] }>();
  const abis = ctx.model.abis.filter((a) => a.name in h.abis);
  for (const abi of abis) {
    const args = argsOf(h, abi);
    const key = JSON.stringify(args);
    const entry = lists.get(key) ?? { abis: [], args };
    entry.abis.push(abi.name);
    lists.set(key, entry);
  }
  if (lists.size === 0) lists.set(JSON.stringify(h.args), { abis: [], args: h.args });
  return [...lists.values()]
    .filter((l) => l.args.length > 0)
    .map((l) => ({
      title: lists.size === 1 ? 'Arguments' : `Arguments on ${l.abis.map(code).join(', ')}`,
      head: ['argument', 'type', 'dir', 'count', 'doc'],
      rows: l.args.map((a) => [
        code(a.name),
        ctx.linker.typeRef(ctx.file, a.type, `${h.name}/args/${a.name}`),
        a.dir ?? '',
        a.count ? code(a.count) : '',
        prose(a.doc),
      ]),
    }));
}

/** The ABIs of an operation: those of its hypercall, narrowed by the operation's own list. */
function opAbis(ctx: Ctx, h: Hypercall, op: Operation): string {
  const base = ctx.model.abis.filter((a) => a.name in h.abis);
  return abiList(ctx.model, abisSelected(ctx.model, op.abis).filter((a) => a.name in h.abis), base, 'all of the hypercall’s');
}

function selectorText(h: Hypercall): string {
  const s = h.subops;
  if (!s) return '';
  return s.mask !== undefined ? `${code(`${s.selector} & ${formatValue(s.mask, true)}`)}` : code(s.selector);
}

/** The members of an operation's argument struct grouped by direction: "in `dom`, `port`; out `status`". */
function directions(ctx: Ctx, arg: TypeRef): string {
  if (arg.kind !== 'name') return '';
  const t = findGenType(ctx.model, arg.name);
  if (!t) return '';
  const first = Object.values(t.arches)[0];
  if (!first) return '';
  const infos = first.body.fields ? fieldInfos(first.body.fields) : first.body.target && (first.body.target.kind === 'struct' || first.body.target.kind === 'union') ? fieldInfos(first.body.target.fields) : [];
  const by = new Map<string, string[]>();
  for (const f of infos) {
    if (!f.dir) continue;
    const list = by.get(f.dir) ?? [];
    list.push(code(f.path));
    by.set(f.dir, list);
  }
  return ['in', 'out', 'inout']
    .filter((d) => by.has(d))
    .map((d) => `${d} ${(by.get(d) as string[]).join(', ')}`)
    .join('; ');
}

function operationView(ctx: Ctx, g: GenHypercall, gop: GenOperation, op: Operation): OperationView {
  const h = g.hypercall;
  const where = `${ctx.model.spec.name}:hypercalls/${h.name}/${op.name}`;
  const s = h.subops as NonNullable<Hypercall['subops']>;
  const facts: [string, string][] = [
    ['id', code(gop.id)],
    ['command', `${selectorText(h)} = ${code(String(op.value))} (${ctx.linker.link(ctx.file, 'constant', op.name)})`],
  ];
  if (op.arg === null || op.arg === undefined) facts.push(['argument', s.argument ? `none (${code(s.argument)} is unused)` : 'none']);
  else {
    const through = s.argument ? ` through ${code(s.argument)}` : '';
    facts.push(['argument', `${ctx.linker.typeRef(ctx.file, op.arg, where)}${through}${op.argDir ? `, ${op.argDir}` : ''}`]);
    const dirs = directions(ctx, op.arg);
    if (dirs) facts.push(['field directions', dirs]);
  }
  facts.push(['privilege', op.privilege ? code(op.privilege) : `${code(h.privilege)} (the hypercall's)`]);
  facts.push(['ABIs', opAbis(ctx, h, op)]);
  if (op.arches) facts.push(['command defined on', op.arches.map(code).join(', ')]);
  if (op.tools) facts.push(['visibility', 'toolstack only (`__XEN_TOOLS__`)']);
  if (op.produces?.length) facts.push(['produces', uses(ctx, op.produces)]);
  if (op.consumes?.length) facts.push(['consumes', uses(ctx, op.consumes)]);
  if (op.deprecated) facts.push(['deprecated', deprecation(ctx, op.deprecated, h.name)]);
  if (refText(op.ref)) facts.push(['references', refText(op.ref)]);
  return {
    anchor: anchorTag(gop.id),
    name: op.name,
    value: String(op.value),
    specPath: where,
    doc: prose(op.doc),
    facts,
    errors: errorTable(ctx, op.errors, where, 'Errors:'),
  };
}

function hypercallView(ctx: Ctx, g: GenHypercall): HypercallView {
  const h = g.hypercall;
  const where = `${ctx.model.spec.name}:hypercalls/${h.name}`;
  const numberConst = ctx.linker.href(ctx.file, 'constant', `__HYPERVISOR_${h.name}`)
    ? ` (${ctx.linker.link(ctx.file, 'constant', `__HYPERVISOR_${h.name}`)})`
    : '';
  const facts: [string, string][] = [
    ['number', `${h.number}${numberConst}`],
    ['privilege', code(h.privilege)],
    ['returns', `${ctx.linker.typeRef(ctx.file, h.returns.type, `${where}/returns`)}: ${prose(h.returns.doc)}`],
  ];
  if (h.subops) facts.push(['operations', `${h.subops.ops.length}, selected by ${selectorText(h)} (${ctx.linker.link(ctx.file, 'group', h.subops.group)})`]);
  if (h.deprecated) facts.push(['deprecated', deprecation(ctx, h.deprecated, h.name)]);
  if (h.interface) {
    const range = [h.interface.min !== undefined ? `≥ ${code(formatValue(h.interface.min, true))}` : '', h.interface.max !== undefined ? `≤ ${code(formatValue(h.interface.max, true))}` : ''].filter(Boolean).join(' and ');
    facts.push(['interface version', `${range}${range ? ': ' : ''}${prose(h.interface.doc)}`]);
  }
  if (h.clobbers) facts.push(['clobbers', h.clobbers.map(code).join(', ')]);
  if (h.produces?.length) facts.push(['produces', uses(ctx, h.produces)]);
  if (h.consumes?.length) facts.push(['consumes', uses(ctx, h.consumes)]);
  if (refText(h.ref)) facts.push(['references', refText(h.ref)]);

  const ops = h.subops ? g.operations.filter((o): o is GenOperation & { op: Operation } => o.op !== undefined) : [];
  const subops: Table = {
    head: ['value', 'operation', 'argument', 'dir', 'privilege', 'ABIs'],
    rows: ops.map((o) => [
      code(String(o.op.value)),
      ctx.linker.link(ctx.file, 'op', o.id, code(o.op.name)),
      o.op.arg ? ctx.linker.typeRef(ctx.file, o.op.arg, `${where}/${o.op.name}`) : 'none',
      o.op.argDir ?? '',
      code(o.op.privilege ?? h.privilege),
      opAbis(ctx, h, o.op),
    ]),
  };
  return {
    anchor: anchorTag(h.name),
    id: h.name,
    name: h.name,
    number: h.number,
    specPath: where,
    doc: prose(h.doc),
    facts,
    registers: registersTable(ctx, g),
    argTables: argTables(ctx, g),
    errors: errorTable(ctx, h.errors, where, h.subops ? 'Errors of the hypercall itself (any operation):' : 'Errors:'),
    selector: selectorText(h),
    subops,
    operations: ops.map((o) => operationView(ctx, g, o, o.op)),
  };
}

// ───────────────────────────── constants ─────────────────────────────

function groupViews(ctx: Ctx, family: string): GroupView[] {
  const groups = new Map<string, GenConstant[]>();
  for (const c of ctx.model.constants) {
    if (c.group.family !== family || Object.keys(c.values).length === 0) continue;
    const list = groups.get(c.group.name) ?? [];
    list.push(c);
    groups.set(c.group.name, list);
  }
  const arches = ctx.model.arches.map((a) => a.name);
  return [...groups.values()].map((members) => {
    const group = (members[0] as GenConstant).group;
    const hex = group.kind === 'flags';
    // One value column when every member has the same value on every arch; else one per arch.
    const uniform = members.every((c) => arches.every((a) => c.values[a] !== undefined) && new Set(Object.values(c.values).map(String)).size === 1);
    const hasBit = members.some((c) => c.constant.bit !== undefined);
    const head = ['name', ...(uniform ? ['value'] : arches), ...(hasBit ? ['bit'] : []), 'doc'];
    const rows = members.map((c) => {
      const name = c.constant.name;
      const notes: string[] = [prose(c.constant.doc)];
      const op = ctx.model.operations.find((o) => o.op?.name === name && o.hypercall.subops?.group === group.name);
      if (op) notes.push(`→ ${ctx.linker.link(ctx.file, 'op', op.id)}`);
      if (group.kind === 'hypercalls') {
        const hname = name.replace(/^__HYPERVISOR_/, '');
        if (ctx.linker.href(ctx.file, 'hypercall', hname)) notes.push(`→ ${ctx.linker.link(ctx.file, 'hypercall', hname)}`);
      }
      if (c.constant.tools) notes.push('(toolstack only)');
      if (c.constant.deprecated) notes.push(`deprecated: ${prose(c.constant.deprecated)}`);
      const values = uniform
        ? [code(formatValue(c.values[arches[0] as string] as ConstValue, hex))]
        : arches.map((a) => (c.values[a] === undefined ? '—' : code(formatValue(c.values[a] as ConstValue, hex))));
      return [`${anchorTag(name)}${code(name)}`, ...values, ...(hasBit ? [c.constant.bit === undefined ? '' : String(c.constant.bit)] : []), notes.join(' ')];
    });
    const kind = `${group.kind}${group.type ? `, carried in ${code(group.type)}` : ''}`;
    return {
      anchor: anchorTag(groupAnchor(group.name)),
      name: group.name,
      specPath: `${ctx.model.spec.name}:constants/${group.name}`,
      doc: `${prose(group.doc)} (${kind}${refText(group.ref) ? `; ${refText(group.ref)}` : ''})`,
      head,
      rows,
    };
  });
}

// ───────────────────────────── types ─────────────────────────────

function findGenType(model: GenModel, name: string): GenType | undefined {
  return model.types.find((t) => t.def.name === name || t.def.aliases?.includes(name));
}

/** A member row: the field as first seen, and its declared type per arch where arches differ. */
interface MergedField extends FieldInfo {
  typesByArch: { type: TypeRef; arches: string[] }[];
}

/** Field paths of every arch merged in order: a path new on a later arch goes after its predecessor there. */
function mergedFields(t: GenType, arches: readonly Arch[]): MergedField[] {
  const out: MergedField[] = [];
  for (const arch of arches) {
    const at = t.arches[arch.name];
    if (!at) continue;
    const body = at.body;
    const infos = body.fields ? fieldInfos(body.fields) : body.target && (body.target.kind === 'struct' || body.target.kind === 'union') ? fieldInfos(body.target.fields) : [];
    let after = -1;
    for (const f of infos) {
      if (!(f.path in at.layout.fields)) continue;
      let i = out.findIndex((o) => o.path === f.path);
      if (i < 0) {
        out.splice(after + 1, 0, { ...f, typesByArch: [] });
        i = after + 1;
      }
      after = i;
      const row = out[i] as MergedField;
      const same = row.typesByArch.find((x) => JSON.stringify(x.type) === JSON.stringify(f.type));
      if (same) same.arches.push(arch.name);
      else row.typesByArch.push({ type: f.type, arches: [arch.name] });
    }
  }
  return out;
}

function typeView(ctx: Ctx, t: GenType): TypeView {
  const def = t.def;
  const where = `${ctx.model.spec.name}:types/${def.name}`;
  const arches = ctx.model.arches;
  const present = arches.filter((a) => t.arches[a.name]);
  const facts: [string, string][] = [];
  const first = t.arches[(present[0] as Arch).name];
  const kinds = [...new Set(present.map((a) => t.arches[a.name]?.body.kind))];
  facts.push(['kind', kinds.join(' / ')]);
  if (first && first.body.kind === 'typedef' && first.body.target) {
    const targets = [...new Set(present.map((a) => JSON.stringify(t.arches[a.name]?.body.target)))];
    facts.push([
      'typedef of',
      targets.length === 1
        ? ctx.linker.typeRef(ctx.file, first.body.target, where)
        : targets
            .map((json) => {
              const on = present.filter((a) => JSON.stringify(t.arches[a.name]?.body.target) === json);
              return `${on.map((a) => a.name).join(', ')}: ${ctx.linker.typeRef(ctx.file, JSON.parse(json) as TypeRef, where)}`;
            })
            .join('; '),
    ]);
  }
  if (def.aliases?.length) facts.push(['aliases', def.aliases.map(code).join(', ')]);
  if (present.length !== arches.length) facts.push(['defined on', present.map((a) => code(a.name)).join(', ')]);
  if (def.overrides) facts.push(['per-arch bodies', Object.keys(def.overrides).map(code).join(', ')]);
  if (refText(def.ref)) facts.push(['references', refText(def.ref)]);

  const cellOf = (a: Arch, path?: string) => {
    const at = t.arches[a.name];
    if (!at) return '—';
    if (path === undefined) return `${at.layout.size} / ${at.layout.align}`;
    const fl = at.layout.fields[path];
    return fl ? `${fl.offset} / ${fl.size}` : '—';
  };
  const rows = [
    ['*(size / align)*', '', '', ...arches.map((a) => cellOf(a)), ''],
    ...mergedFields(t, arches).map((f) => [
      code(f.path),
      f.typesByArch.length === 1
        ? ctx.linker.typeRef(ctx.file, f.type, `${where}/${f.path}`)
        : f.typesByArch.map((x) => `${x.arches.join(', ')}: ${ctx.linker.typeRef(ctx.file, x.type, `${where}/${f.path}`)}`).join('; '),
      f.dir ?? '',
      ...arches.map((a) => cellOf(a, f.path)),
      prose(f.doc),
    ]),
  ];
  return {
    anchor: anchorTag(typeAnchor(def.name)),
    name: def.name,
    specPath: where,
    doc: prose(def.doc),
    facts,
    head: ['field', 'type', 'dir', ...arches.map((a) => a.name), 'doc'],
    rows,
  };
}

// ───────────────────────────── pages ─────────────────────────────

function resourcesTable(ctx: Ctx, family?: string): Table {
  return {
    head: family ? ['resource', 'C type', 'doc', 'special values'] : ['resource', 'C type', 'family', 'doc'],
    rows: ctx.model.spec.resources
      .filter((r) => family === undefined || r.family === family)
      .map((r) =>
        family
          ? [
              `${anchorTag(resourceAnchor(r.name))}${code(r.name)}`,
              ctx.linker.typeRef(ctx.file, { kind: 'name', name: r.type }, `${ctx.model.spec.name}:resources/${r.name}`),
              prose(r.doc),
              (r.special ?? []).map((s) => `${ctx.linker.link(ctx.file, 'constant', s.name)}: ${prose(s.doc)}`).join('; '),
            ]
          : [ctx.linker.link(ctx.file, 'resource', r.name), code(r.type), `[${r.family}](${familyFile(r.family)})`, prose(r.doc)],
      ),
  };
}

/** Throws when a page defines an anchor twice (links would land on the first). */
function assertUniqueAnchors(file: string, content: string): void {
  const seen = new Set<string>();
  for (const m of content.matchAll(/<a id="([^"]+)"><\/a>/g)) {
    const id = m[1] as string;
    if (seen.has(id)) throw new DocsError(`${file}: anchor '${id}' is defined twice`);
    seen.add(id);
  }
}

function familyPage(model: GenModel, linker: Linker, family: GenModel['spec']['families'][number]): GeneratedFile {
  const file = familyFile(family.name);
  const ctx: Ctx = { model, linker, file };
  const hypercalls = model.hypercalls.filter((g) => g.hypercall.family === family.name).sort((a, b) => a.hypercall.number - b.hypercall.number);
  const typeOrder = new Map(model.spec.types.map((t, i) => [t.name, i]));
  const types = model.types
    .filter((t) => t.def.family === family.name)
    .sort((a, b) => (typeOrder.get(a.def.name) ?? 0) - (typeOrder.get(b.def.name) ?? 0));
  const content = renderFamilyPage({
    ...header(model, file, `the ${family.name} family`),
    family: family.name,
    familyDoc: prose(family.doc),
    familyRef: refText(family.ref),
    specTitle: model.spec.title,
    hypercalls: hypercalls.map((g) => hypercallView(ctx, g)),
    groups: groupViews(ctx, family.name),
    types: types.map((t) => typeView(ctx, t)),
    resources: resourcesTable(ctx, family.name),
  });
  assertUniqueAnchors(file, content);
  return { path: file, content };
}

function indexPage(model: GenModel, linker: Linker): GeneratedFile {
  const file = INDEX_FILE;
  const ctx: Ctx = { model, linker, file };
  const count = (n: number, what: string) => (n === 0 ? '' : `${n} ${what}${n === 1 ? '' : 's'}`);
  const families: Table = {
    head: ['family', 'doc', 'hypercalls', 'contents'],
    rows: model.spec.families.map((f) => {
      const hs = model.hypercalls.filter((g) => g.hypercall.family === f.name).sort((a, b) => a.hypercall.number - b.hypercall.number);
      const groups = new Set(model.constants.filter((c) => c.group.family === f.name && Object.keys(c.values).length > 0).map((c) => c.group.name));
      const types = model.types.filter((t) => t.def.family === f.name).length;
      return [
        `[${f.name}](${familyFile(f.name)})`,
        prose(f.doc),
        hs.map((g) => linker.link(file, 'hypercall', g.hypercall.name)).join(', '),
        [count(types, 'type'), count(groups.size, 'constant group')].filter(Boolean).join(', '),
      ];
    }),
  };
  const hypercalls: Table = {
    head: ['number', 'hypercall', 'family', ...model.abis.map((a) => a.name), 'operations', 'privilege', 'note'],
    rows: [...model.hypercalls]
      .sort((a, b) => a.hypercall.number - b.hypercall.number)
      .map((g) => {
        const h = g.hypercall;
        return [
          String(h.number),
          linker.link(file, 'hypercall', h.name),
          `[${h.family}](${familyFile(h.family)})`,
          ...model.abis.map((a) => h.abis[a.name] ?? '—'),
          h.subops ? String(h.subops.ops.length) : '',
          code(h.privilege),
          h.deprecated ? 'deprecated' : '',
        ];
      }),
  };
  const abis: Table = {
    head: ['ABI', 'arch', 'number in', 'arguments in', 'result in', 'clobbers', '64-bit values', 'entry', 'doc'],
    rows: model.abis.map((a) => {
      const c = a.convention;
      const e = c.entry;
      const entry = [
        e.kind,
        code(e.instruction),
        e.stubSize !== undefined ? `stub ${code(`nr * ${e.stubSize}`)}` : '',
        e.immediate !== undefined ? `immediate ${code(formatValue(e.immediate, true))}` : '',
        e.encoding ? `bytes ${code(e.encoding.map((b) => b.toString(16).padStart(2, '0')).join(' '))}` : '',
      ].filter(Boolean);
      return [
        `${anchorTag(a.name)}${code(a.name)}`,
        code(a.arch),
        code(c.number),
        c.args.map(code).join(', '),
        code(c.result),
        c.clobbers.map(code).join(', '),
        c.split64 === 'none' ? 'one register' : 'lo, hi register pair',
        entry.join(', '),
        `${prose(a.doc)} ${prose(e.doc)}`,
      ];
    }),
  };
  const discovery = (model.spec.discovery ?? []).map((d) => discoveryView(ctx, d));
  const arches: Table = {
    head: ['arch', 'family', 'endianness', 'word', 'pointer', 'guest handle', 'XEN_GUEST_HANDLE_64', 'doc'],
    rows: model.arches.map((a) => [
      code(a.name),
      code(a.family),
      a.endianness,
      String(a.wordSize),
      String(a.pointerSize),
      `${a.handle.size} / ${a.handle.align}`,
      `${a.handle64.size} / ${a.handle64.align}`,
      prose(a.doc),
    ]),
  };
  const errorSpaces: Table = {
    head: ['via', 'constants', 'name', 'guest sees'],
    rows: model.spec.errorSpaces.map((s) => [
      s.via,
      linker.link(file, 'group', s.group),
      s.prefix ? `${code(s.prefix)} + code` : 'the code',
      s.negate ? 'the negated value, as the hypercall result' : 'the value, in the element’s status field',
    ]),
  };
  const content = renderIndexPage({
    ...header(model, file, 'the index'),
    specTitle: model.spec.title,
    specDoc: prose(model.spec.doc),
    families,
    hypercalls,
    abis,
    discovery,
    arches,
    errorSpaces,
    resources: resourcesTable(ctx),
  });
  assertUniqueAnchors(file, content);
  return { path: file, content };
}

/** A discovery rule's check in words, with constants and types linked. */
function checkText(ctx: Ctx, d: Discovery, r: DiscoveryRule): string {
  const c = r.check;
  const value = (v: string | number) => (typeof v === 'number' ? code(formatValue(v, true)) : ctx.linker.link(ctx.file, 'constant', v));
  switch (c.kind) {
    case 'field': {
      const where = c.at ? `${code(c.field)} of the ${ctx.linker.link(ctx.file, 'type', c.type ?? d.header)} at header offset ${code(c.at)}` : `header field ${code(c.field)}`;
      const op = { eq: '=', ne: '≠', ge: '≥', le: '≤' }[c.op];
      return `${where} ${op} ${value(c.value)}`;
    }
    case 'string':
      return `the string at header offset ${code(c.at)} is one of ${c.oneOf.map((x) => code(JSON.stringify(x))).join(', ')} (offset 0 reads as ${code('"unspecified"')})`;
    case 'checksum':
      return `the ${code(c.lengthField)} × ${c.unit} bytes of the image sum to 0 modulo 256`;
  }
}

/** The index section of one discovery method: region, header, and its rules in order. */
function discoveryView(ctx: Ctx, d: Discovery): DiscoveryView {
  const hex = (n: number) => code(formatValue(n, true));
  const facts: [string, string][] = [
    ['region', `${hex(d.region.start)} up to (not including) ${hex(d.region.end)}, every ${hex(d.region.step)} bytes`],
    ['header', ctx.linker.link(ctx.file, 'type', d.header)],
  ];
  const ref = refText(d.ref);
  if (ref) facts.push(['references', ref]);
  return {
    anchor: anchorTag(`discovery-${d.name}`),
    name: d.name,
    specPath: `${ctx.model.spec.name}:discovery/${d.name}`,
    doc: prose(d.doc),
    facts,
    rules: {
      head: ['rule', 'passes when', 'on failure', 'reason reported', 'doc'],
      rows: d.rules.map((r) => [code(r.name), checkText(ctx, d, r), r.onFail, prose(r.reason), prose(r.doc)]),
    },
  };
}

/** The reference pages of a spec: `README.md` and one `<family>.md` per family. */
export function docsFiles(model: GenModel): GeneratedFile[] {
  const linker = new Linker(model);
  return [indexPage(model, linker), ...model.spec.families.map((f) => familyPage(model, linker, f))];
}
