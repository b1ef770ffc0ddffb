/**
 * A Dockerfile read the way BuildKit's frontend reads it (https://docs.docker.com/reference/dockerfile/),
 * as far as the image build check needs (lib/dev/image/build.ts): parser directives, comment lines,
 * line continuations, global ARGs substituted into FROM, named stages, and each instruction with
 * its `--flags` and its arguments in exec (JSON) or shell form. Heredocs are refused, not guessed.
 */

export interface Instruction {
  /** The keyword in upper case: FROM, RUN, COPY, ENV, ... */
  keyword: string;
  /** `--name=value` flags before the arguments (`--link` alone reads as "true"). */
  flags: Record<string, string>;
  /** The arguments after the flags, continuations joined, as written. */
  text: string;
  /** The arguments when written in exec form (a JSON array of strings). */
  exec?: string[];
  /** 1-based line where the instruction starts, for messages. */
  line: number;
  /** 1-based line where it ends (continuation lines included). */
  endLine: number;
}

export interface Stage {
  /** `FROM ... AS name`, lower-cased as BuildKit compares it. */
  name?: string;
  index: number;
  /** The base image after ARG substitution, or an earlier stage's name. */
  base: string;
  /** The instructions after FROM, in order. */
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string | undefined>;
  stages: Stage[];
}

/** A Dockerfile this reader cannot follow; the message names the line. */
export class DockerfileError extends Error {
  override name = 'DockerfileError';
}

/** Parses `text`; `buildArgs` override ARG defaults as `docker build --build-arg` does. */
export function parseDockerfile(text: string, buildArgs: Record<string, string> = {}): Dockerfile {
  const instructions = readInstructions(text);
  const globalArgs: Record<string, string | undefined> = {};
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image, as, name, ...rest] = instruction.text.split(/\s+/);
      if (!image || (as !== undefined && (as.toUpperCase() !== 'AS' || !name)) || rest.length > 0) {
        throw new DockerfileError(`line ${instruction.line}: FROM [--platform=...] <image> [AS <name>] expected, got "${instruction.text}"`);
      }
      const base = expandVariables(image, { ...globalArgs, ...buildArgs }, instruction.line);
      stages.push({ name: name?.toLowerCase(), index: stages.length, base, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (instruction.keyword !== 'ARG') throw new DockerfileError(`line ${instruction.line}: ${instruction.keyword} before the first FROM`);
      for (const [name, value] of Object.entries(parseArg(instruction))) globalArgs[name] = buildArgs[name] ?? value;
      continue;
    }
    stage.instructions.push(instruction);
  }
  if (stages.length === 0) throw new DockerfileError('no FROM instruction');
  return { globalArgs, stages };
}

/** The stage `reference` names (by `AS` name or index), or undefined when it names an image. */
export function findStage(dockerfile: Dockerfile, reference: string): Stage | undefined {
  const byName = dockerfile.stages.find((stage) => stage.name === reference.toLowerCase());
  if (byName) return byName;
  return /^\d+$/.test(reference) ? dockerfile.stages[Number(reference)] : undefined;
}

/** `ARG name[=default] ...` as a map (a declaration without default maps to undefined). */
export function parseArg(instruction: Instruction): Record<string, string | undefined> {
  const args: Record<string, string | undefined> = {};
  for (const word of splitWords(instruction.text, instruction.line)) {
    const at = word.indexOf('=');
    if (at === -1) args[word] = undefined;
    else args[word.slice(0, at)] = word.slice(at + 1);
  }
  return args;
}

/**
 * `ENV key=value ...` (values may be quoted) or the legacy `ENV key value`, with `$VAR`
 * references to `vars` and to earlier keys of the same instruction expanded.
 */
export function parseEnv(instruction: Instruction, vars: Record<string, string | undefined>): Record<string, string> {
  const words = splitWords(instruction.text, instruction.line);
  const first = words[0];
  if (first === undefined) throw new DockerfileError(`line ${instruction.line}: ENV without a value`);
  if (!first.includes('=')) {
    const value = instruction.text.slice(instruction.text.indexOf(first) + first.length).trim();
    return { [first]: expandVariables(value, vars, instruction.line) };
  }
  const env: Record<string, string> = {};
  for (const word of words) {
    const at = word.indexOf('=');
    if (at <= 0) throw new DockerfileError(`line ${instruction.line}: ENV ${word}: key=value expected`);
    env[word.slice(0, at)] = expandVariables(word.slice(at + 1), { ...vars, ...env }, instruction.line);
  }
  return env;
}

/**
 * The sources and the destination of COPY or ADD (exec or shell form), with variables expanded.
 * The last argument is the destination.
 */
export function copyArguments(instruction: Instruction, vars: Record<string, string | undefined>): { sources: string[]; destination: string } {
  const words = instruction.exec ?? instruction.text.split(/\s+/).filter((word) => word !== '');
  const expanded = words.map((word) => expandVariables(word, vars, instruction.line));
  const destination = expanded.pop();
  if (destination === undefined || expanded.length === 0) {
    throw new DockerfileError(`line ${instruction.line}: ${instruction.keyword} needs at least one source and a destination`);
  }
  return { sources: expanded, destination };
}

/**
 * Expands `$name`, `${name}`, `${name:-word}` and `${name:+word}` as the Dockerfile does in
 * FROM, ENV, WORKDIR, COPY and friends (never in RUN, which the shell expands); `\$` is a literal
 * dollar. An unset variable expands to nothing.
 */
export function expandVariables(text: string, vars: Record<string, string | undefined>, line = 0): string {
  return text.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$\{[^}]*\}/g, (match, braced?: string, operator?: string, word?: string, bare?: string) => {
    if (match === '\\$') return '$';
    const name = braced ?? bare;
    if (name === undefined) throw new DockerfileError(`line ${line}: unsupported substitution ${match}`);
    const value = vars[name];
    if (operator === ':-') return value ? value : (word ?? '');
    if (operator === ':+') return value ? (word ?? '') : '';
    return value ?? '';
  });
}

/** Splits shell-like words: whitespace separates, quotes group, backslash escapes. */
function splitWords(text: string, line: number): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (char === '\\' && i + 1 < text.length && quote !== "'") {
      word += text.charAt(++i);
      started = true;
    } else if (quote) {
      if (char === quote) quote = undefined;
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (/\s/.test(char)) {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += char;
      started = true;
    }
  }
  if (quote) throw new DockerfileError(`line ${line}: unterminated ${quote}`);
  if (started) words.push(word);
  return words;
}

/** Logical instructions: directives read, comments dropped, continuations joined, flags split off. */
function readInstructions(text: string): Instruction[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let escape = '\\';
  let index = 0;
  // Parser directives: `# name=value` lines at the very top only.
  for (; index < lines.length; index++) {
    const directive = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(lines[index] ?? '');
    if (!directive) break;
    if (directive[1]?.toLowerCase() === 'escape') escape = directive[2] ?? '\\';
  }
  const continued = (line: string): boolean => line.trimEnd().endsWith(escape);
  const instructions: Instruction[] = [];
  while (index < lines.length) {
    const start = index;
    let line = lines[index++] ?? '';
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    let joined = '';
    while (continued(line) && index < lines.length) {
      const trimmed = line.trimEnd();
      joined += trimmed.slice(0, trimmed.length - escape.length);
      // Comment and empty lines inside a continued instruction are dropped.
      do line = lines[index++] ?? '';
      while (index < lines.length && (line.trim() === '' || line.trimStart().startsWith('#')));
    }
    joined += line;
    instructions.push(splitInstruction(joined.trim(), start + 1, index));
  }
  return instructions;
}

function splitInstruction(source: string, line: number, endLine: number): Instruction {
  const keyword = /^\S+/.exec(source)?.[0]?.toUpperCase() ?? '';
  let rest = source.slice(keyword.length).trim();
  if (/<<-?["']?[A-Za-z_]/.test(rest) && ['RUN', 'COPY', 'ADD'].includes(keyword)) {
    throw new DockerfileError(`line ${line}: heredocs are not supported by this reader`);
  }
  const flags: Record<string, string> = {};
  if (['FROM', 'RUN', 'COPY', 'ADD'].includes(keyword)) {
    for (let flag = /^--([a-z-]+)(?:=(\S*))?(?:\s+|$)/.exec(rest); flag; flag = /^--([a-z-]+)(?:=(\S*))?(?:\s+|$)/.exec(rest)) {
      flags[flag[1] ?? ''] = flag[2] ?? 'true';
      rest = rest.slice(flag[0].length);
    }
  }
  const instruction: Instruction = { keyword, flags, text: rest, line, endLine };
  if (rest.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(rest);
      if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) instruction.exec = parsed;
    } catch {
      // Not JSON: the shell form that happens to start with "[", as BuildKit treats it.
    }
  }
  return instruction;
}
