/**
 * What a `%%linkis` cell's first line says about its body.
 *
 * Mirrors the magic's own parser (linkis_magic/magics/_parse.py, `cell_parser`): the runType
 * is the one positional word, options may come before it, and it defaults to `sql`.
 */

/** The editor language a cell body is shown in. */
export type BodyLanguage = 'sql' | 'python' | 'shell' | 'scala';

const MAGIC = /^%%linkis(?=\s|$)/;

/** Options of `%%linkis` that take one value (the next word). */
const VALUE_OPTIONS = new Set([
  '-e',
  '--engine',
  '-c',
  '--creator',
  '-o',
  '--output',
  '--limit',
  '--timeout',
  '--api'
]);

/** Options that take one or more `K=V` words (argparse `extend`, `nargs="+"`). */
const PAIR_OPTIONS = new Set(['--var', '--startup', '--runtime']);

const PYTHON = new Set(['py', 'python', 'python3', 'py3', 'pyspark']);
const SHELL = new Set(['sh', 'shell', 'bash']);
const SCALA = new Set(['scala']);

/** The first line of `source` (without its newline). */
export function firstLine(source: string): string {
  const end = source.indexOf('\n');
  return end < 0 ? source : source.slice(0, end);
}

/** Whether `line` opens a `%%linkis` cell. */
export function isLinkisLine(line: string): boolean {
  return MAGIC.test(line);
}

/**
 * The runType named on a `%%linkis` line ('sql' when none is given), or null when `line`
 * is not a `%%linkis` line at all.
 */
export function runTypeOf(line: string): string | null {
  if (!isLinkisLine(line)) {
    return null;
  }
  const words = line.replace(MAGIC, '').trim().split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word.startsWith('-')) {
      if (word.includes('=')) {
        continue; // --engine=spark-3.5.0
      }
      if (VALUE_OPTIONS.has(word)) {
        i += 1;
      } else if (PAIR_OPTIONS.has(word)) {
        while (i + 1 < words.length && words[i + 1].includes('=')) {
          i += 1;
        }
      }
      continue;
    }
    return word.replace(/^["']|["']$/g, '').toLowerCase();
  }
  return 'sql';
}

/**
 * The language of the body under `line`, or null when the cell is not a `%%linkis` cell.
 * Every runType that is not Python, shell or Scala is SQL-like (sql, hql, spark-sql, jdbc...).
 */
export function bodyLanguageOf(line: string): BodyLanguage | null {
  const runType = runTypeOf(line);
  if (runType === null) {
    return null;
  }
  if (PYTHON.has(runType)) {
    return 'python';
  }
  if (SHELL.has(runType)) {
    return 'shell';
  }
  if (SCALA.has(runType)) {
    return 'scala';
  }
  return 'sql';
}
