/**
 * Scenario-id globs and the expected-failures file of `hyperabi certify`.
 *
 * Globs: `*` any run of characters except '/', `**` any run of characters, `?` one
 * character; everything else is literal (ids contain `$`, `.`, `-`).
 *
 * Expected-failures file: one id or glob per line, optionally followed by whitespace and a
 * reason; `#` starts a comment (whole line, or after whitespace); blank lines are ignored.
 *
 *     # the FIFO ABI is not implemented
 *     event_channel_op$EVTCHNOP_init_control/*   FIFO event channels
 *     grant_table_op$GNTTABOP_transfer/derived-ok
 */
import type { ExpectedFailure } from './model.js';

/** A bad expected-failures file or glob: where and what. */
export class ExpectationsError extends Error {
  override name = 'ExpectationsError';
}

const ID_CHARS = /^[A-Za-z0-9_$/.*?-]+$/;

/** Compiles a scenario-id glob to a RegExp matching whole ids. */
export function globRegExp(glob: string): RegExp {
  if (!ID_CHARS.test(glob)) throw new ExpectationsError(`'${glob}' is not a scenario id or glob (letters, digits, _ $ / . - and the wildcards * ** ?)`);
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '.';
    else re += c.replace(/[$.]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** A predicate for a list of globs (any matches). */
export function globMatcher(globs: readonly string[]): (id: string) => boolean {
  const res = globs.map(globRegExp);
  return (id) => res.some((r) => r.test(id));
}

/** Parses an expected-failures file; `where` names it in errors. */
export function parseExpectations(text: string, where: string): ExpectedFailure[] {
  const out: ExpectedFailure[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') return;
    const m = /^(\S+)(?:\s+(.*))?$/.exec(line)!;
    const pattern = m[1]!;
    try {
      globRegExp(pattern);
    } catch (e) {
      throw new ExpectationsError(`${where}:${i + 1}: ${(e as Error).message}`);
    }
    out.push(m[2] ? { pattern, reason: m[2] } : { pattern });
  });
  return out;
}

/** The first expected-failure entry matching an id. */
export function expectationFor(entries: readonly ExpectedFailure[]): (id: string) => ExpectedFailure | undefined {
  const compiled = entries.map((e) => ({ e, re: globRegExp(e.pattern) }));
  return (id) => compiled.find((c) => c.re.test(id))?.e;
}
