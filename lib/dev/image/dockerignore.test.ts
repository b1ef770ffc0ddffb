import { describe, expect, it } from 'vitest';
import { cleanPath, parseDockerignore } from './dockerignore.js';

// Cases from Docker's documentation (build/concepts/context, ".dockerignore files") and from
// moby/patternmatcher's tests.
describe('parseDockerignore', () => {
  it('excludes a directory and everything below it', () => {
    const rules = parseDockerignore('node_modules\n.git\n');
    expect(rules.ignores('node_modules')).toBe(true);
    expect(rules.ignores('node_modules/pg/index.js')).toBe(true);
    expect(rules.ignores('lib/node_modules_notes.md')).toBe(false);
    expect(rules.ignores('lib/config.ts')).toBe(false);
  });

  it('anchors patterns at the context root; **/ reaches any depth, * and ? one segment', () => {
    const rules = parseDockerignore('*/temp*\n**/generated\n/dist\nfile?.txt\n');
    expect(rules.ignores('somedir/temporary.txt')).toBe(true);
    expect(rules.ignores('somedir/sub/temporary.txt')).toBe(false);
    expect(rules.ignores('temp.txt')).toBe(false);
    expect(rules.ignores('api/generated/prisma/client.ts')).toBe(true);
    expect(rules.ignores('generated/x')).toBe(true);
    expect(rules.ignores('dist/a.js')).toBe(true);
    expect(rules.ignores('lib/dist/a.js')).toBe(false);
    expect(rules.ignores('file1.txt')).toBe(true);
    expect(rules.ignores('file10.txt')).toBe(false);
  });

  it('lets the last matching pattern win, and ! re-include', () => {
    const rules = parseDockerignore('*.md\n!README*.md\nREADME-secret.md\n');
    expect(rules.ignores('CHANGES.md')).toBe(true);
    expect(rules.ignores('README.md')).toBe(false);
    expect(rules.ignores('README-secret.md')).toBe(true);
    expect(rules.hasExceptions).toBe(true);
  });

  it('skips comments and blank lines, trims, cleans paths and treats regexp characters literally', () => {
    const rules = parseDockerignore('# comment\n\n  ./load/results/  \n*.log\na+b(c)\n');
    expect(rules.patterns.map((pattern) => pattern.source)).toEqual(['load/results', '*.log', 'a+b(c)']);
    expect(rules.ignores('load/results/api.md')).toBe(true);
    expect(rules.ignores('x.log')).toBe(true);
    expect(rules.ignores('xlog')).toBe(false);
    expect(rules.ignores('a+b(c)')).toBe(true);
    expect(rules.ignores('aab(c)')).toBe(false);
  });

  it('matches nothing when the file is empty or absent', () => {
    expect(parseDockerignore('').ignores('anything')).toBe(false);
  });
});

describe('cleanPath', () => {
  it('behaves as Go filepath.Clean on slash paths', () => {
    expect(cleanPath('./a//b/../c/')).toBe('a/c');
    expect(cleanPath('/../a')).toBe('/a');
    expect(cleanPath('../a')).toBe('../a');
    expect(cleanPath('')).toBe('.');
  });
});
