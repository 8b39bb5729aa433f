/**
 * Derived conformance scenarios (issue 6): generated from the spec, for every operation of the
 * families the reference VMM covers, its normal path and one scenario per declared error.
 *
 * The expectation always comes from the spec: the declared errno (returned) or status (in the
 * struct's status field), and success for the normal path. The set-up comes from the spec where
 * it can: defaults from argument types (a buffer for every handle, DOMID_SELF for a domain),
 * values that meet no declared value trigger, consumed resources produced by the operations that
 * produce them. What the spec cannot say is in recipe tables: normal paths that need more
 * (normal.ts), resource states per kind (resources.ts) and named machine states (states.ts).
 * A trigger without a recipe yields no scenario; `deriveSummary` lists those.
 */
import type { ErrorDecl, Spec, Trigger } from '../../spec/model.js';
import { declaredUnimplemented, operations, VMM_FAMILIES } from '../../reference-vmm/coverage.js';
import type { CallStep, Scenario, Step, Value } from '../scenario.js';
import { Ctx, DOM0, DOMU, NoRecipe } from './context.js';
import { available, countPath, isPointer, type OpInfo } from './ops.js';
import { addr, callSteps, limit, takePage, type Plan } from './plan.js';
import { fieldAt } from '../lower.js';
import type { Recipe, RecipeArgs } from './recipe.js';
import { NORMAL } from './normal.js';
import { caseRecipe } from './cases.js';
import { ALWAYS } from './states.js';
import { asValue, avoiding, triggerKey, type ValueTrigger } from './values.js';

export { triggerKey, valueFor } from './values.js';

export { NoRecipe } from './context.js';

/** The ABIs derived by default: x86_64 PV (the reference profile), then arm64. */
export const DERIVED_ABIS = ['x86_64-pv', 'arm64'] as const;

export interface DeriveOptions {
  abis?: readonly string[];
  families?: readonly string[];
}

/** One declared error of one operation on one ABI, and what became of it. */
export interface ErrorCase {
  abi: string;
  op: string;
  code: string;
  via: 'return' | 'status';
  trigger: Trigger['kind'] | 'none';
  /** The scenario id, when derived. */
  id?: string;
  /** Why no scenario was derived. */
  reason?: string;
  /** Where that reason comes from: a recipe table's entry saying why, a derivation rule, or no recipe at all. */
  because?: 'table' | 'rule' | 'no-recipe';
}

export interface DeriveSummary {
  abis: readonly string[];
  /** Operations derived (implemented by the reference VMM and present on the ABI), per ABI. */
  operations: Record<string, number>;
  /** Operations with a normal-path scenario, per ABI. */
  normal: Record<string, number>;
  /** Operations without one, with the reason. */
  noNormal: { abi: string; op: string; reason: string }[];
  /** Every declared error case. */
  errors: ErrorCase[];
  /** Operations left out: declared unimplemented in the reference VMM. */
  unimplemented: string[];
}

export interface Derived {
  scenarios: Scenario[];
  summary: DeriveSummary;
}

const cache = new WeakMap<Spec, Derived>();

/** The derived scenarios of a spec (x86_64-pv, then arm64). */
export function deriveScenarios(spec: Spec, options: DeriveOptions = {}): Scenario[] {
  return derive(spec, options).scenarios;
}

/** What the derivation made and what it could not, with reasons. */
export function deriveSummary(spec: Spec, options: DeriveOptions = {}): DeriveSummary {
  return derive(spec, options).summary;
}

export function derive(spec: Spec, options: DeriveOptions = {}): Derived {
  const plain = options.abis === undefined && options.families === undefined;
  const hit = plain ? cache.get(spec) : undefined;
  if (hit) return hit;
  const abis = options.abis ?? DERIVED_ABIS;
  const families = options.families ?? VMM_FAMILIES;
  const scenarios: Scenario[] = [];
  const summary: DeriveSummary = { abis, operations: {}, normal: {}, noNormal: [], errors: [], unimplemented: [] };
  const entries = operations(spec, families);
  for (const e of entries) if (declaredUnimplemented(e) !== undefined) summary.unimplemented.push(e.id);
  for (const abi of abis) {
    const ctx = new Ctx(spec, abi);
    const suffix = abi === 'x86_64-pv' ? '' : `.${abi}`;
    const ids = new Set<string>();
    const add = (s: Scenario) => {
      let id = s.id;
      for (let n = 2; ids.has(id); n++) id = `${s.id}-${n}`;
      ids.add(id);
      scenarios.push({ ...s, id });
      return id;
    };
    summary.operations[abi] = 0;
    summary.normal[abi] = 0;
    const hypercallCases = new Set<string>();
    for (const e of entries) {
      if (declaredUnimplemented(e) !== undefined) continue;
      if (!available(spec, e.hypercall, e.op, abi)) continue;
      summary.operations[abi]! += 1;
      const info = ctx.info(e.id);
      // The normal path.
      try {
        const s = normalScenario(ctx, info, suffix);
        if (s) {
          add(s);
          summary.normal[abi]! += 1;
        }
      } catch (err) {
        if (!(err instanceof NoRecipe)) throw err;
        summary.noNormal.push({ abi, op: e.id, reason: err.message });
      }
      // One scenario per declared error.
      const seen = new Map<string, ErrorCase>();
      for (const { decl, level } of info.errors) {
        const scope = level === 'hypercall' && hypercallScoped(info, decl) ? e.hypercall.name : e.id;
        // The hypercall's copy of an error the operation declares itself (same code, same trigger) is the same case.
        const same = `${scope}|${decl.code}|${triggerKey(decl.trigger)}`;
        if (seen.has(same)) continue;
        const record: ErrorCase = { abi, op: scope, code: decl.code, via: decl.via ?? 'return', trigger: decl.trigger?.kind ?? 'none' };
        if (scope !== e.id) {
          const key = `${scope}|${decl.code}|${triggerKey(decl.trigger)}`;
          if (hypercallCases.has(key)) continue;
          hypercallCases.add(key);
        }
        try {
          const s = errorScenario(ctx, info, decl, level, scope, suffix);
          record.id = add(s);
        } catch (err) {
          if (!(err instanceof NoRecipe)) throw err;
          record.reason = err.message;
          record.because = err.because;
        }
        seen.set(same, record);
        summary.errors.push(record);
      }
    }
  }
  const out = { scenarios, summary };
  if (plain) cache.set(spec, out);
  return out;
}

/** Errors of the hypercall that do not depend on the operation: an unknown command. */
function hypercallScoped(info: OpInfo, e: ErrorDecl): boolean {
  const t = e.trigger;
  if (!t) return false;
  if (t.kind === 'state') return t.state === 'unknown-command' || t.state === 'unknown-command-arm';
  if (t.kind === 'value') return t.path === info.selector?.name && ['eq', 'ne', 'gt', 'lt', 'le'].includes(t.op);
  return false;
}

const slug = (s: string) =>
  s
    .replace(/\[\]/g, '')
    .replace(/^arg\./, '')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();

/** The case part of an error scenario's id: the code and what triggers it. */
export function caseName(e: ErrorDecl): string {
  const code = slug(e.code);
  const t = e.trigger;
  if (!t) return code;
  switch (t.kind) {
    case 'value':
      return `${code}-${slug(t.path)}-${t.op}-${slug(String(t.value))}`;
    case 'resource':
      return `${code}-${slug(t.path)}-${t.state}`;
    case 'fault':
      return `${code}-fault-${slug(t.path) || 'arg'}`;
    case 'privilege':
      return `${code}-needs-${slug(t.need)}`;
    case 'state':
      return `${code}-${slug(t.state)}`;
  }
}

// ───────────────────────────── plans ─────────────────────────────

/** The generic normal-path plan of an operation, with the caller privileged (dom0) or not (a domU). */
export function basePlan(ctx: Ctx, info: OpInfo, privileged = true): Plan {
  const abi = ctx.abi;
  const p: Plan = {
    domains: privileged ? [{ id: DOM0, abi, privileged: true }] : [{ id: DOM0, abi, privileged: true }, { id: DOMU, abi }],
    caller: privileged ? DOM0 : DOMU,
    before: [],
    arg: new Map(),
    params: new Map(),
    raw: new Map(),
    nextPage: new Map(),
    nextTable: new Map(),
    trees: new Map(),
    names: 0,
  };
  const x = recipeArgs(ctx, info, p);
  // Defaults from the types: a buffer behind every handle the caller passes in, DOMID_SELF for a domain.
  for (const f of info.fields) {
    if (f.inUnion || f.dir === 'out') continue;
    if (isPointer(ctx.spec, f.type)) p.arg.set(f.path, addr(takePage(p, p.caller)));
    else if (f.type.kind === 'name' && f.type.name === 'domid_t') p.arg.set(f.path, 'DOMID_SELF');
  }
  for (const a of info.params) {
    if (isPointer(ctx.spec, a.type)) p.params.set(a.name, addr(takePage(p, p.caller)));
    else if (a.type.kind === 'name' && a.type.name === 'domid_t') p.params.set(a.name, 'DOMID_SELF');
    else p.params.set(a.name, 0);
  }
  // Consumed resources at plain paths: a valid one of the caller.
  for (const u of ctx.uses(info, 'consumes')) {
    if (u.doc && /^(when|with|without)\b/.test(u.doc)) continue;
    if (u.path.includes('[]') || ctx.pointerPath(info, u.path)) continue;
    if (x.get(u.path) !== undefined && u.resource === 'domid') continue;
    const v = validResource(ctx, p, u.resource);
    if (v !== undefined) x.set(u.path, v);
  }
  // Values that meet none of the declared value triggers.
  const byPath = new Map<string, ValueTrigger[]>();
  for (const { decl } of info.errors) {
    const t = decl.trigger;
    if (t?.kind !== 'value' || t.path === info.selector?.name || t.path === info.count?.name || t.path === info.argument?.name) continue;
    if (info.batch && t.path === `${info.batch.array}[].${info.batch.field}`) continue;
    byPath.set(t.path, [...(byPath.get(t.path) ?? []), t]);
  }
  for (const [path, ts] of byPath) {
    const cur = x.get(path);
    const n = numeric(ctx, cur ?? 0);
    if (n === undefined) continue;
    const v = avoiding(ts, n);
    if (v === undefined) throw new NoRecipe(`no value of ${path} meets none of its triggers`);
    // A domain id the triggers rule out (DOMID_SELF where ids are taken literally): another domain of the machine.
    if (v !== n) x.set(path, ctx.typeAt(info, path) === 'domid_t' ? ctx.other(p) : asValue(v));
  }
  return p;
}

/** A valid resource of the caller for the normal path. */
function validResource(ctx: Ctx, p: Plan, resource: string): Value | undefined {
  switch (resource) {
    case 'domid':
      return 'DOMID_SELF';
    case 'vcpu_id':
      return 0;
    case 'evtchn_port':
      return ctx.port(p, p.caller);
    case 'mfn':
    case 'gfn':
      return ctx.frame(p, p.caller).frame;
    case 'maddr':
      return `pte(${takePage(p, p.caller)}, 0)`;
    case 'linear_address':
      return 0;
    case 'pirq':
      return ctx.pirq(p, p.caller);
    default:
      return undefined;
  }
}

/** A value as a number when it is one (or a constant), else undefined. */
function numeric(ctx: Ctx, v: Value): bigint | undefined {
  if (typeof v === 'number') return BigInt(v);
  if (/^-?(0x[0-9a-f]+|\d+)$/i.test(v)) return v.startsWith('-') ? -BigInt(v.slice(1)) : BigInt(v);
  if (/^[A-Z_][A-Z0-9_]*$/.test(v)) {
    try {
      return ctx.constant(v);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The setter and getter of a plan for an operation. */
export function recipeArgs(ctx: Ctx, info: OpInfo, p: Plan): RecipeArgs {
  const element = (base: string, sub: string, container: 'arg' | 'param', value: Value) => {
    // A value behind a handle: written into the buffer the handle points at; its count becomes 1.
    const buf = container === 'arg' ? p.arg.get(base) : p.params.get(base);
    if (typeof buf !== 'string' || !buf.startsWith('@')) throw new NoRecipe(`${base} points at no buffer of the plan`);
    const t = container === 'arg' ? info.fields.find((f) => f.path === base)?.type : info.args.find((a) => a.name === base)?.type;
    const to = t && (t.kind === 'handle' || t.kind === 'pointer') ? t.to : undefined;
    if (!to) throw new NoRecipe(`${base} is not a handle`);
    const lay = info.engine.ref(to, base);
    let off = 0;
    let size = lay.size;
    if (sub) {
      const fl = lay.fields[sub];
      if (!fl) throw new NoRecipe(`the elements behind ${base} have no field ${sub}`);
      off = fl.offset;
      size = fl.size;
    }
    const key = ({ 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' } as const)[size as 1 | 2 | 4 | 8];
    if (!key) throw new NoRecipe(`an element of ${base} is ${size} bytes`);
    const at = off === 0 ? buf : `${buf} + ${off}`;
    p.before.push({ write: { domain: p.caller, at, [key]: [value] } });
    const countName = container === 'arg' ? countPath(info, base) : info.args.find((a) => a.name === base)?.count;
    if (countName) {
      if (container === 'arg' && info.fields.some((f) => f.path === countName)) p.arg.set(countName, 1);
      else if (info.params.some((a) => a.name === countName)) p.params.set(countName, 1);
    }
  };
  /** Setting a union member drops the other members set at the same bytes. */
  const clearOverlapping = (path: string) => {
    const f = info.fields.find((x) => x.path === path);
    if (!f?.inUnion || !info.struct) return;
    const at = fieldAt(ctx.spec, info.engine, info.struct, path);
    if (!at) return;
    for (const k of [...p.arg.keys()]) {
      if (k === path || !info.fields.find((x) => x.path === k)?.inUnion) continue;
      const o = fieldAt(ctx.spec, info.engine, info.struct, k);
      if (o && o.offset < at.offset + at.size && at.offset < o.offset + o.size) p.arg.delete(k);
    }
  };
  const set = (path: string, value: Value): void => {
    if (info.batch && path.startsWith(`${info.batch.array}[].`)) {
      const field = path.slice(info.batch.array.length + 3);
      p.arg.set(field, value);
      // The typed stub sets the selecting field itself: other bits there need a raw call.
      if (field === info.batch.field) p.raw.set(`${info.batch.array}[].${field}`, value);
      return;
    }
    if (path.startsWith('arg.') && info.struct) {
      const rest = path.slice(4);
      const m = /^(.+?)\[\](?:\.(.+))?$/.exec(rest);
      if (m) return element(m[1] as string, m[2] ?? '', 'arg', value);
      clearOverlapping(rest);
      p.arg.set(rest, value);
      return;
    }
    if (path === info.argument?.name || path === info.selector?.name || path === info.count?.name) {
      p.raw.set(path, value);
      return;
    }
    const m = /^(.+?)\[\](?:\.(.+))?$/.exec(path);
    if (m && info.params.some((a) => a.name === m[1])) return element(m[1] as string, m[2] ?? '', 'param', value);
    if (info.params.some((a) => a.name === path)) {
      p.params.set(path, value);
      return;
    }
    throw new NoRecipe(`${info.id} has no argument or field at ${path}`);
  };
  const get = (path: string): Value | undefined => {
    if (info.batch && path.startsWith(`${info.batch.array}[].`)) return p.arg.get(path.slice(info.batch.array.length + 3));
    if (path.startsWith('arg.')) return p.arg.get(path.slice(4));
    return p.raw.get(path) ?? p.params.get(path);
  };
  return { ctx, info, p, set, get };
}

// ───────────────────────────── scenarios ─────────────────────────────

function refOf(info: OpInfo): string {
  const r = info.op?.ref ?? info.h.ref;
  return r.handler ?? r.header ?? r.doc ?? info.h.name;
}

function scenarioOf(ctx: Ctx, info: OpInfo, p: Plan, id: string, doc: string, expect: CallStep['expect'], covers?: { op: string; code: string }): Scenario {
  const steps: Step[] = [...p.before, ...callSteps(ctx.spec, info, p, expect)];
  const s: Scenario = {
    id,
    doc,
    ref: refOf(info),
    kind: 'derived',
    family: info.h.family,
    machine: { domains: p.domains.map((d) => ({ ...d })) },
    steps,
  };
  if (p.limits) s.limits = { ...p.limits };
  if (covers) s.covers = [covers];
  return s;
}

function normalScenario(ctx: Ctx, info: OpInfo, suffix: string): Scenario | undefined {
  const r = NORMAL[info.id];
  const none = typeof r?.none === 'function' ? r.none(ctx) : r?.none;
  if (none) throw new NoRecipe(none);
  const p = basePlan(ctx, info);
  const x = recipeArgs(ctx, info, p);
  r?.apply?.(x);
  r?.only?.(x);
  for (const [target, why] of Object.entries(r?.limits ?? {})) limit(p, target, why);
  const sf = ctx.statusField(info);
  const ok = ctx.statusOk();
  const documented = r?.expect?.(x);
  const result = documented ?? 'ok';
  const expect: CallStep['expect'] = sf && ok ? { result, arg: { [sf]: ok } } : result;
  const doc = (info.op?.doc ?? info.h.doc).split(/(?<=\.)\s/)[0] as string;
  return scenarioOf(ctx, info, p, `${info.id}/ok${suffix}`, `Normal path: ${doc}`, expect);
}

/** The expectation of a declared error: the negated errno returned, or the status in the status field. */
function expectationOf(ctx: Ctx, info: OpInfo, e: ErrorDecl): CallStep['expect'] {
  if ((e.via ?? 'return') === 'return') return `-${e.code}`;
  const sf = ctx.statusField(info);
  if (!sf) throw new NoRecipe(`${info.struct ?? info.id} has no status field for ${e.code}`);
  return { arg: { [sf]: e.code } };
}

const abiCtx = new WeakMap<Ctx, Map<string, Ctx>>();

function ctxFor(ctx: Ctx, abi: string | undefined): Ctx {
  if (!abi || abi === ctx.abi) return ctx;
  let m = abiCtx.get(ctx);
  if (!m) abiCtx.set(ctx, (m = new Map()));
  let c = m.get(abi);
  if (!c) m.set(abi, (c = new Ctx(ctx.spec, abi)));
  return c;
}

function errorScenario(ctx0: Ctx, info0: OpInfo, e: ErrorDecl, level: 'op' | 'hypercall', scope: string, suffix: string): Scenario {
  // An operation that always fails reaches none of its own other checks (the hypercall's come first).
  const always = info0.errors.find((x) => x.decl.trigger?.kind === 'state' && ALWAYS[x.decl.trigger.state]?.(ctx0) === true);
  if (always && always.decl !== e && level === 'op') throw new NoRecipe(`unreachable: the command always fails with ${always.decl.code} first`, 'rule');
  const t = e.trigger;
  if (t?.kind === 'fault' && !info0.struct && (t.path === info0.argument?.name || t.path === 'arg') && info0.op) {
    throw new NoRecipe('not reachable through this operation: it passes no struct', 'rule');
  }
  const recipe: Recipe = caseRecipe(ctx0, info0, e);
  const ctx = ctxFor(ctx0, recipe.abi);
  if (recipe.abi && !ctx.has(info0.id)) throw new NoRecipe(`${info0.id} does not exist on ${recipe.abi}`);
  const info = ctx.info(info0.id);
  const n = NORMAL[info.id];
  const p = basePlan(ctx, info, recipe.privileged ?? true);
  const x = recipeArgs(ctx, info, p);
  n?.apply?.(x);
  recipe.apply?.(x);
  for (const [target, why] of Object.entries(recipe.limits ?? {})) limit(p, target, why);
  let expect = expectationOf(ctx, info, e);
  const after: Step[] = [];
  if (recipe.reportedIn) {
    if (typeof expect !== 'string') throw new NoRecipe('a status error is reported in the struct itself');
    after.push(recipe.reportedIn(x, expect));
    expect = 'ok';
  }
  const id = `${scope}/${caseName(e)}${suffix}`;
  const doc = `${e.when}${recipe.how ? ` (${recipe.how})` : ''}`;
  const s = scenarioOf(ctx, info, p, id, doc, expect, { op: scope, code: e.code });
  s.steps.push(...after);
  return s;
}


/** The summary as text: counts per ABI and trigger kind, then every error without a scenario and why. */
export function formatSummary(s: DeriveSummary, options: { list?: boolean } = {}): string {
  const lines: string[] = [];
  for (const abi of s.abis) {
    const errs = s.errors.filter((e) => e.abi === abi);
    const kinds = [...new Set(errs.map((e) => e.trigger))].sort();
    const per = kinds.map((k) => {
      const of = errs.filter((e) => e.trigger === k);
      return `${k} ${of.filter((e) => e.id).length}/${of.length}`;
    });
    lines.push(
      `${abi}: ${s.operations[abi] ?? 0} operations, ${s.normal[abi] ?? 0} normal paths; declared errors with a scenario ${errs.filter((e) => e.id).length}/${errs.length} (${per.join(', ')})`,
    );
    const why = (b: ErrorCase['because']) => errs.filter((e) => !e.id && e.because === b).length;
    lines.push(`  without a scenario: ${why('table')} by a recipe table’s reason, ${why('rule')} excluded by a rule, ${why('no-recipe')} with no recipe`);
    if (options.list) {
      for (const n of s.noNormal.filter((x) => x.abi === abi)) lines.push(`  no normal path: ${n.op}: ${n.reason}`);
      for (const e of errs.filter((x) => !x.id)) lines.push(`  ${e.because ?? 'no-recipe'}: ${e.op} ${e.code} (${e.trigger}): ${e.reason ?? ''}`);
    }
  }
  if (s.unimplemented.length > 0) lines.push(`left out (declared unimplemented in the reference VMM): ${s.unimplemented.length} operations`);
  return lines.join('\n');
}
