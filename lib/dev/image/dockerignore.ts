/**
 * `.dockerignore` as Docker applies it to a build context (moby/patternmatcher, which BuildKit
 * uses): one pattern per line, `#` lines are comments, `!` re-includes, patterns are cleaned
 * paths relative to the context root, `*` and `?` stay within one path segment, `**` spans any
 * number of segments, and a path is excluded when the last pattern that matches it, or one of
 * its parent directories, is not a `!` pattern.
 * https://docs.docker.com/build/concepts/context/#dockerignore-files
 */

interface Pattern {
  source: string;
  regexp: RegExp;
  /** A `!` pattern: re-includes what it matches. */
  exception: boolean;
}

export interface IgnoreRules {
  patterns: readonly Pattern[];
  /** True when `!` patterns exist, so an excluded directory may still hold included files. */
  hasExceptions: boolean;
  /** Whether `path` (relative to the context root, `/`-separated) is left out of the context. */
  ignores(path: string): boolean;
}

/** Reads the rules from the text of a `.dockerignore` file (an absent file: pass ''). */
export function parseDockerignore(text: string): IgnoreRules {
  const patterns: Pattern[] = [];
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const exception = line.startsWith('!');
    if (exception) line = line.slice(1).trim();
    if (line === '') continue;
    line = cleanPath(line);
    if (line.length > 1 && line.startsWith('/')) line = line.slice(1);
    patterns.push({ source: line, regexp: compile(line), exception });
  }
  return {
    patterns,
    hasExceptions: patterns.some((pattern) => pattern.exception),
    ignores: (path) => matchesOrParentMatches(patterns, cleanPath(path)),
  };
}

function matchesOrParentMatches(patterns: readonly Pattern[], file: string): boolean {
  const segments = file.split('/');
  const parents = segments.slice(0, -1);
  let matched = false;
  for (const pattern of patterns) {
    // An exception only matters for a path already excluded, an exclusion only for one that is not.
    if (pattern.exception !== matched) continue;
    let match = pattern.regexp.test(file);
    for (let i = 1; !match && i <= parents.length; i++) match = pattern.regexp.test(parents.slice(0, i).join('/'));
    if (match) matched = !pattern.exception;
  }
  return matched;
}

/** The pattern as an anchored regular expression, token by token as patternmatcher compiles it. */
function compile(pattern: string): RegExp {
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern.charAt(i);
    if (char === '*') {
      if (pattern.charAt(i + 1) === '*') {
        i++;
        if (pattern.charAt(i + 1) === '/') i++; // "**/" reads as "**"
        // "**" at the end accepts everything below; elsewhere any number of segments, even none.
        source += i + 1 >= pattern.length ? '.*' : '(.*/)?';
      } else {
        source += '[^/]*';
      }
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '\\') {
      source += i + 1 < pattern.length ? `\\${pattern.charAt(++i)}` : '\\\\';
    } else if (char === '[' || char === ']') {
      source += char;
    } else {
      source += char.replace(/[.+()|{}$^]/, '\\$&');
    }
  }
  return new RegExp(`${source}$`);
}

/** Go's filepath.Clean for `/`-separated paths: no empty, `.` or resolvable `..` segments. */
export function cleanPath(path: string): string {
  const rooted = path.startsWith('/');
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..' && out.length > 0 && out.at(-1) !== '..') out.pop();
    else if (segment !== '..' || !rooted) out.push(segment);
  }
  const cleaned = (rooted ? '/' : '') + out.join('/');
  return cleaned === '' ? '.' : cleaned;
}
