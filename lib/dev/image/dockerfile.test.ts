import { describe, expect, it } from 'vitest';
import { copyArguments, DockerfileError, expandVariables, findStage, parseDockerfile, parseEnv } from './dockerfile.js';

describe('parseDockerfile', () => {
  const text = [
    '# syntax=docker/dockerfile:1',
    '# a comment after the directive',
    'ARG BASE=node:24-slim',
    '',
    'FROM ${BASE} AS Build',
    'RUN apt-get update \\',
    '# a comment inside a continued instruction is dropped',
    ' && apt-get install -y make \\',
    '',
    ' && rm -rf /var/lib/apt/lists/*',
    'ENV A=1 \\',
    '    B="two words"',
    'COPY --chown=node:node package.json ./',
    'COPY ["a b", "c/"]',
    'FROM ${BASE}',
    'COPY --from=build /app/dist ./dist',
    'CMD ["node", "dist/main.js"]',
  ].join('\n');

  it('reads global ARGs into FROM, names stages case-insensitively and joins continuations', () => {
    const dockerfile = parseDockerfile(text);
    expect(dockerfile.globalArgs).toEqual({ BASE: 'node:24-slim' });
    expect(dockerfile.stages.map((stage) => [stage.name, stage.base])).toEqual([
      ['build', 'node:24-slim'],
      [undefined, 'node:24-slim'],
    ]);
    const run = dockerfile.stages[0]?.instructions[0];
    expect(run?.keyword).toBe('RUN');
    expect([run?.line, run?.endLine]).toEqual([6, 10]);
    expect(run?.text).toBe('apt-get update  && apt-get install -y make  && rm -rf /var/lib/apt/lists/*');
  });

  it('splits flags off and parses the exec form', () => {
    const [, , chowned, json] = parseDockerfile(text).stages[0]?.instructions ?? [];
    expect(chowned?.flags).toEqual({ chown: 'node:node' });
    expect(chowned?.text).toBe('package.json ./');
    expect(json?.exec).toEqual(['a b', 'c/']);
    expect(copyArguments(json!, {})).toEqual({ sources: ['a b'], destination: 'c/' });
    const from = parseDockerfile(text).stages[1]?.instructions[0];
    expect(from?.flags.from).toBe('build');
  });

  it('lets --build-arg override an ARG default', () => {
    expect(parseDockerfile(text, { BASE: 'node:22-slim' }).stages[0]?.base).toBe('node:22-slim');
  });

  it('finds stages by name or index', () => {
    const dockerfile = parseDockerfile(text);
    expect(findStage(dockerfile, 'BUILD')?.index).toBe(0);
    expect(findStage(dockerfile, '1')?.index).toBe(1);
    expect(findStage(dockerfile, 'node:24-slim')).toBeUndefined();
  });

  it('honours the escape directive', () => {
    const dockerfile = parseDockerfile('# escape=`\nFROM scratch\nRUN a `\n  b\n');
    expect(dockerfile.stages[0]?.instructions[0]?.text).toBe('a   b');
  });

  it('refuses what it cannot follow, naming the line', () => {
    expect(() => parseDockerfile('RUN true\n')).toThrow(/line 1: RUN before the first FROM/);
    expect(() => parseDockerfile('FROM scratch\nRUN <<EOF\necho\nEOF\n')).toThrow(DockerfileError);
    expect(() => parseDockerfile('# just a comment\n')).toThrow(/no FROM/);
  });
});

describe('ENV and variables', () => {
  const env = (text: string, vars: Record<string, string> = {}) => parseEnv({ keyword: 'ENV', flags: {}, text, line: 1, endLine: 1 }, vars);

  it('reads key=value pairs with quotes and escapes, and the legacy form', () => {
    expect(env('A=1 B="two words" C=a\\ b')).toEqual({ A: '1', B: 'two words', C: 'a b' });
    expect(env('GREETING hello world')).toEqual({ GREETING: 'hello world' });
  });

  it('expands earlier keys and outer variables', () => {
    expect(env('A=x B=${A}y C=$HOME/z', { HOME: '/root' })).toEqual({ A: 'x', B: 'xy', C: '/root/z' });
  });

  it('expands the forms the Dockerfile reference lists', () => {
    const vars = { SET: 'v', EMPTY: '' };
    expect(expandVariables('${SET:-d} ${EMPTY:-d} ${UNSET:-d} ${SET:+alt} ${UNSET:+alt}|\\$SET $SET', vars)).toBe('v d d alt |$SET v');
    expect(() => expandVariables('${SET#prefix}', vars)).toThrow(/unsupported substitution/);
  });
});
