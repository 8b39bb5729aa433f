/**
 * A small checker for the relative links of a set of Markdown pages: every `[text](target)`
 * whose target has no URL scheme must name a page of the set (relative to the linking page)
 * and, with a `#fragment`, an anchor (`<a id="…">`) that page defines. Anchors defined twice
 * in a page are problems too. Code spans and fenced blocks are not read as links.
 */
import { posix } from 'node:path';
import type { GeneratedFile } from '../files.js';

/** One broken link or anchor. */
export interface LinkProblem {
  file: string;
  link: string;
  why: string;
}

/** The anchor ids a page defines. */
export function anchorsOf(content: string): string[] {
  return [...content.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1] as string);
}

/** The link targets of a page, outside code. */
export function linksOf(content: string): string[] {
  const text = content
    .replace(/^```[\s\S]*?^```/gm, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/`[^`\n]*`/g, 'code');
  return [...text.matchAll(/\]\(([^)\s]*)\)/g)].map((m) => m[1] as string);
}

/** Every problem of the relative links between `files`. */
export function checkLinks(files: readonly GeneratedFile[]): LinkProblem[] {
  const anchors = new Map<string, Set<string>>();
  const problems: LinkProblem[] = [];
  for (const f of files) {
    const ids = anchorsOf(f.content);
    const set = new Set<string>();
    for (const id of ids) {
      if (set.has(id)) problems.push({ file: f.path, link: `#${id}`, why: 'anchor defined twice' });
      set.add(id);
    }
    anchors.set(posix.normalize(f.path), set);
  }
  for (const f of files) {
    for (const link of linksOf(f.content)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue;
      const hash = link.indexOf('#');
      const path = hash < 0 ? link : link.slice(0, hash);
      const fragment = hash < 0 ? undefined : decodeURIComponent(link.slice(hash + 1));
      const target = path === '' ? posix.normalize(f.path) : posix.normalize(posix.join(posix.dirname(f.path), path));
      const ids = anchors.get(target);
      if (!ids) problems.push({ file: f.path, link, why: `no page ${target}` });
      else if (fragment !== undefined && !ids.has(fragment)) problems.push({ file: f.path, link, why: `no anchor '${fragment}' in ${target}` });
    }
  }
  return problems;
}
