/**
 * Declared subsets: a testee may say, in its hello, which operations it implements and which
 * scenarios it claims. A scenario is inside the subset when its id matches one of the
 * claimed scenario ids or globs (when the testee gives any) and every operation it calls is
 * implemented (when the testee lists operations): the typed calls by their operation id, the
 * raw hypercalls by the operation their number and command select. A raw call whose command
 * is none of the hypercall's operations exercises the hypercall's own dispatch and counts as
 * the hypercall.
 */
import { constExpr, type ExprContext } from '../expr.js';
import type { Scenario } from '../scenario.js';
import type { Spec } from '../../spec/model.js';
import { allConstants, findAbi, findArch, operationId, toBigInt } from '../../spec/query.js';

/** The operation ids a scenario calls, in first-use order; `?` for a raw call whose number is not constant. */
export function scenarioOperations(spec: Spec, s: Scenario): string[] {
  const out = new Set<string>();
  const first = s.machine.domains[0]?.id ?? 0;
  const constantsOf = new Map<string, Record<string, bigint>>();
  const constants = (abiName: string): Record<string, bigint> => {
    let c = constantsOf.get(abiName);
    if (!c) {
      c = {};
      const arch = findArch(spec, abiName);
      if (arch) for (const [k, v] of Object.entries(allConstants(spec, arch))) c[k] = toBigInt(v);
      constantsOf.set(abiName, c);
    }
    return c;
  };
  for (const step of s.steps) {
    if ('call' in step) {
      out.add(step.call);
      continue;
    }
    if (!('hypercall' in step)) continue;
    const dom = s.machine.domains.find((d) => d.id === (step.domain ?? first));
    const abiName = dom?.abi ?? '';
    const cx: ExprContext = {
      dom: dom?.id ?? first,
      constant: (n) => constants(abiName)[n],
      errno: () => undefined,
      dataBase: () => 0n,
      unmapped: () => 0n,
      sharedInfo: () => 0n,
      variable: () => undefined,
    };
    const value = (v: unknown): bigint | undefined => {
      try {
        return constExpr(v, cx, 'value');
      } catch {
        return undefined;
      }
    };
    const nr = value(step.hypercall.nr);
    const h = nr === undefined ? undefined : spec.hypercalls.find((x) => BigInt(x.number) === nr);
    if (!h) {
      out.add(nr === undefined ? '?' : `?${nr}`);
      continue;
    }
    const table = h.subops;
    if (!table || table.selector.includes('.')) {
      out.add(h.name);
      continue;
    }
    const abi = findAbi(spec, abiName);
    const args = (abi && (h.argsByAbi?.[abi.name] ?? h.argsByAbi?.[abi.arch])) ?? h.args;
    const at = args.findIndex((a) => a.name === table.selector);
    const cmd = at < 0 ? undefined : value(step.hypercall.args?.[at] ?? 0);
    const sel = cmd === undefined ? undefined : table.mask !== undefined ? cmd & BigInt(table.mask) : cmd;
    const op = sel === undefined ? undefined : table.ops.find((o) => BigInt(o.value) === sel);
    out.add(op ? operationId(h, op) : h.name);
  }
  return [...out];
}

/** Whether a glob (`*` matches any run of characters) matches an id. */
export function globMatch(glob: string, id: string): boolean {
  if (!glob.includes('*')) return glob === id;
  const re = new RegExp(`^${glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(id);
}

/** A testee's declared subset. */
export interface Subset {
  ops?: readonly string[];
  scenarios?: readonly string[];
}

/** Why a scenario is outside a declared subset (undefined: inside). */
export function outsideSubset(spec: Spec, subset: Subset, s: Scenario): string | undefined {
  if (subset.scenarios && !subset.scenarios.some((g) => globMatch(g, s.id))) return 'the testee does not claim this scenario';
  if (!subset.ops) return undefined;
  const have = new Set(subset.ops);
  const missing = scenarioOperations(spec, s).filter((id) => {
    if (have.has(id)) return false;
    // A raw call of a hypercall's own dispatch (an unknown command) is inside when any of its operations is.
    if (!id.includes('$') && !id.startsWith('?')) return !subset.ops!.some((o) => o.startsWith(`${id}$`));
    const h = id.split('$')[0] as string;
    return !have.has(h);
  });
  if (missing.length === 0) return undefined;
  const shown = missing.map((m) => (m === '?' ? 'a raw hypercall whose number is not constant' : m.startsWith('?') ? `hypercall number ${m.slice(1)}` : m));
  return `outside the testee's declared subset: ${shown.slice(0, 3).join(', ')}${shown.length > 3 ? ` and ${shown.length - 3} more` : ''}`;
}
