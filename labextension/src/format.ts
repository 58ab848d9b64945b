/**
 * Format SQL: the body of a `%%linkis` cell through sql-formatter's Spark dialect.
 *
 * `${var}` and `{{ expr }}` are not SQL: the formatter would split `tbl_${dt}` into two
 * words. Each is swapped for an identifier-shaped placeholder first and put back after, so
 * they come out exactly as written wherever they stand.
 */
import { format, KeywordCase } from 'sql-formatter';

/** `${var}` (Linkis variables) and `{{ expr }}` (Python expressions), one line each. */
export const VARIABLE = /\$\{[^{}\n]*\}|\{\{[^\n]*?\}\}/g;

export type { KeywordCase };

/** The formatted `body`; its trailing newline (if any) is kept. */
export function formatSql(body: string, keywordCase: KeywordCase): string {
  let prefix = '__lkvar';
  while (body.includes(prefix)) {
    prefix += '_';
  }
  const saved: string[] = [];
  const masked = body.replace(VARIABLE, match => {
    saved.push(match);
    return `${prefix}${saved.length - 1}__`;
  });
  const formatted = format(masked, {
    language: 'spark',
    keywordCase,
    tabWidth: 2,
    linesBetweenQueries: 1
  });
  const restored = formatted.replace(
    new RegExp(`${prefix}(\\d+)__`, 'g'),
    (_match, index: string) => saved[Number(index)]
  );
  return body.endsWith('\n') ? `${restored}\n` : restored;
}
