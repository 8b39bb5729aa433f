/**
 * A small ABNF (RFC 5234) reader that turns a non-recursive grammar into regular
 * expressions, so the protocol's grammar file is checked against the codec in the tests.
 * Quoted strings are case-sensitive (RFC 7405's %s"..."); the core rules SP, ALPHA, DIGIT,
 * HEXDIG and VCHAR are predefined.
 */

/** A grammar the reader cannot use: the message names the rule and what is wrong. */
export class AbnfError extends Error {
  override name = 'AbnfError';
}

const CORE: Record<string, string> = {
  SP: ' ',
  ALPHA: '[A-Za-z]',
  DIGIT: '[0-9]',
  HEXDIG: '[0-9A-Fa-f]',
  VCHAR: '[!-~]',
};

/** Rules by name (lowercased: ABNF rule names are case-insensitive), their text. */
export function parseRules(text: string): Map<string, string> {
  const rules = new Map<string, string>();
  let current: string | undefined;
  for (const raw of text.split('\n')) {
    const line = stripComment(raw);
    if (line.trim() === '') continue;
    const m = /^([A-Za-z][A-Za-z0-9-]*)\s*=\s*(.*)$/.exec(line);
    if (m) {
      current = (m[1] as string).toLowerCase();
      if (rules.has(current)) throw new AbnfError(`rule '${m[1]}' is defined twice`);
      rules.set(current, m[2] as string);
    } else if (/^\s/.test(line) && current) {
      rules.set(current, `${rules.get(current)} ${line.trim()}`);
    } else {
      throw new AbnfError(`cannot read line: ${raw}`);
    }
  }
  return rules;
}

function stripComment(line: string): string {
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') inQuote = !inQuote;
    else if (c === ';' && !inQuote) return line.slice(0, i);
  }
  return line;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const cp = (hex: string) => `\\u{${hex}}`;

/** Compiles the grammar's rules to regular-expression sources (rules may not be recursive). */
export function compileGrammar(text: string): Map<string, RegExp> {
  const rules = parseRules(text);
  const done = new Map<string, string>();
  const busy = new Set<string>();
  const ruleSource = (name: string): string => {
    const key = name.toLowerCase();
    const have = done.get(key);
    if (have !== undefined) return have;
    const body = rules.get(key);
    if (body === undefined) {
      const core = CORE[name.toUpperCase()];
      if (core !== undefined) return core;
      throw new AbnfError(`rule '${name}' is used but not defined`);
    }
    if (busy.has(key)) throw new AbnfError(`rule '${name}' is recursive`);
    busy.add(key);
    const src = `(?:${alternation(new Tokens(body, name))})`;
    busy.delete(key);
    done.set(key, src);
    return src;
  };

  class Tokens {
    i = 0;
    constructor(
      readonly s: string,
      readonly rule: string,
    ) {}
    skip(): void {
      while (this.i < this.s.length && /\s/.test(this.s[this.i] as string)) this.i++;
    }
    peek(): string | undefined {
      this.skip();
      return this.s[this.i];
    }
    fail(what: string): never {
      throw new AbnfError(`rule '${this.rule}': ${what} at '${this.s.slice(this.i, this.i + 20)}'`);
    }
  }

  function alternation(t: Tokens): string {
    const alts = [concatenation(t)];
    while (t.peek() === '/') {
      t.i++;
      alts.push(concatenation(t));
    }
    return alts.join('|');
  }

  function concatenation(t: Tokens): string {
    let out = '';
    for (;;) {
      const c = t.peek();
      if (c === undefined || c === '/' || c === ')' || c === ']') break;
      out += repetition(t);
    }
    if (out === '') t.fail('empty sequence');
    return out;
  }

  function repetition(t: Tokens): string {
    t.skip();
    const m = /^(\d*)(\*)?(\d*)/.exec(t.s.slice(t.i)) as RegExpExecArray;
    t.i += m[0].length;
    const el = element(t);
    if (m[0] === '') return el;
    const min = m[1] === '' ? (m[2] ? 0 : undefined) : Number(m[1]);
    if (!m[2]) return `(?:${el}){${min}}`;
    const max = m[3] === '' ? '' : m[3];
    return `(?:${el}){${min ?? 0},${max}}`;
  }

  function element(t: Tokens): string {
    const c = t.peek();
    if (c === '(') {
      t.i++;
      const inner = alternation(t);
      if (t.peek() !== ')') t.fail("expected ')'");
      t.i++;
      return `(?:${inner})`;
    }
    if (c === '[') {
      t.i++;
      const inner = alternation(t);
      if (t.peek() !== ']') t.fail("expected ']'");
      t.i++;
      return `(?:${inner})?`;
    }
    if (c === '"') {
      const end = t.s.indexOf('"', t.i + 1);
      if (end < 0) t.fail('unterminated string');
      const lit = t.s.slice(t.i + 1, end);
      t.i = end + 1;
      return escape(lit);
    }
    if (c === '%') {
      const m = /^%x([0-9A-Fa-f]+)(?:-([0-9A-Fa-f]+)|((?:\.[0-9A-Fa-f]+)+))?/.exec(t.s.slice(t.i));
      if (!m) t.fail('only %x values are supported');
      t.i += m[0].length;
      if (m[2]) return `[${cp(m[1] as string)}-${cp(m[2])}]`;
      if (m[3]) return [m[1] as string, ...m[3].slice(1).split('.')].map(cp).join('');
      return cp(m[1] as string);
    }
    const m = /^[A-Za-z][A-Za-z0-9-]*/.exec(t.s.slice(t.i));
    if (!m) t.fail('expected an element');
    t.i += m[0].length;
    return ruleSource(m[0]);
  }

  const out = new Map<string, RegExp>();
  for (const name of rules.keys()) out.set(name, new RegExp(`^${ruleSource(name)}$`, 'u'));
  return out;
}
