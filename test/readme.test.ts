import * as fs from 'fs';
import * as path from 'path';

/** The README's table of contents and in-page links: every section is listed, and every `#anchor` exists. */
const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, ... */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  const prose = markdown.replace(/```[\s\S]*?```/g, '');
  for (const m of prose.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = m[1].toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    result.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of prose.matchAll(/<a id="([^"]+)"><\/a>/g)) result.add(m[1]);
  return result;
}

describe('README navigation', () => {
  const known = anchors(README);
  const contents = README.slice(README.indexOf('**Contents:**'), README.indexOf('\n## '));

  test('every in-page link points at a heading or an anchor that exists', () => {
    const links = [...README.replace(/```[\s\S]*?```/g, '').matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(30);
    expect(links.filter((l) => !known.has(l))).toEqual([]);
  });

  test('the contents list every section (## heading), in order', () => {
    const sections = [...README.replace(/```[\s\S]*?```/g, '').matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    const listed = [...contents.matchAll(/\[([^\]]+)\]\(#/g)].map((m) => m[1]);
    expect(listed).toEqual(sections);
  });

  test('the check can fail: a link to a heading that does not exist is found', () => {
    expect(anchors('## A heading\n').has('a-heading')).toBe(true);
    expect(anchors('## A heading\n').has('no-such-heading')).toBe(false);
    expect(anchors('## Twice\n## Twice\n').has('twice-1')).toBe(true);
  });
});
