/**
 * The editor side of `%%linkis` cells: the body is parsed in the language of the cell's
 * runType, the magic line keeps the cell's own (Python) look.
 *
 * Mechanism (a CodeMirror 6 extension registered in JupyterLab's editor extension registry):
 * a compartment holds the body's language at the highest precedence, which overrides the
 * notebook's own language for this editor only, or nothing (Python bodies, cells that are
 * not `%%linkis` cells: the notebook's language applies). Its first content comes from the
 * cell's text when the editor is made, so a notebook is highlighted the moment it opens; a
 * transaction extender swaps it in the very transaction that changes the first line, so
 * the highlighting follows as the user types. The language parses the whole cell as Python
 * and mounts the body's parser as an overlay over everything after the first line (a mixed
 * parse), so the magic line looks as it always did.
 */
import { pythonLanguage } from '@codemirror/lang-python';
import { SQLDialect } from '@codemirror/lang-sql';
import { Language, StreamLanguage, syntaxHighlighting } from '@codemirror/language';
import { scala } from '@codemirror/legacy-modes/mode/clike';
import { shell } from '@codemirror/legacy-modes/mode/shell';
import {
  Compartment,
  EditorState,
  Extension,
  Prec,
  RangeSetBuilder,
  StateField
} from '@codemirror/state';
import { Decoration, DecorationSet, EditorView, ViewPlugin, ViewUpdate } from '@codemirror/view';
import { Parser, parseMixed } from '@lezer/common';
import { classHighlighter } from '@lezer/highlight';

import { VARIABLE } from './format';
import { BodyLanguage, bodyLanguageOf, firstLine } from './runtype';

/** Hive / Spark SQL words (lowercase; lang-sql matches case-insensitively). */
const SPARK_KEYWORDS =
  'add after all alter analyze and anti any archive array as asc at authorization between ' +
  'both bucket buckets by cache cascade case cast change cluster clustered codegen collate ' +
  'collection column columns comment commit compact compactions compute concatenate ' +
  'constraint cost create cross cube current current_date current_timestamp current_user ' +
  'data database databases dbproperties defined delete delimited desc describe directories ' +
  'directory distinct distribute div drop else end escape escaped except exchange exists ' +
  'explain export extended external false fetch fields fileformat first following for ' +
  'foreign format formatted from full function functions global grant group grouping having ' +
  'if ignore import in index indexes inner inpath inputformat insert intersect interval into ' +
  'is items join keys last lateral lazy leading left like limit lines list load local ' +
  'location lock locks logical macro map matched merge minus msck namespace namespaces ' +
  'natural no not null nulls of on only option options or order out outer outputformat over ' +
  'overlaps overwrite partition partitioned partitions percent pivot placing position ' +
  'preceding primary principals properties purge qualify query range recordreader ' +
  'recordwriter recover reduce references refresh rename repair replace reset respect ' +
  'restrict revoke right rlike role roles rollback rollup row rows schema schemas select ' +
  'semi separated serde serdeproperties session_user set sets show skewed some sort sorted ' +
  'start statistics stored stratify struct table tables tablesample tblproperties temp ' +
  'temporary terminated then to touch trailing transaction transactions transform true ' +
  'truncate type unarchive unbounded uncache union unique unknown unlock unset update use ' +
  'user using values view views when where window with within';

const SPARK_TYPES =
  'array bigint binary boolean byte char date dec decimal double float int integer long map ' +
  'numeric real short smallint string struct timestamp timestamp_ltz timestamp_ntz tinyint ' +
  'varchar void';

const SPARK_BUILTINS =
  'abs avg coalesce collect_list collect_set concat concat_ws count count_distinct ' +
  'date_add date_format date_sub datediff explode first_value from_unixtime get_json_object ' +
  'if ifnull lag last_value lead length lower max min nvl percentile rank regexp_extract ' +
  'regexp_replace row_number size split substr substring sum to_date trim unix_timestamp ' +
  'upper';

/** Spark SQL as lang-sql understands it: backquoted names, `"` and `'` strings with `\`. */
export const sparkSql = SQLDialect.define({
  keywords: SPARK_KEYWORDS,
  types: SPARK_TYPES,
  builtin: SPARK_BUILTINS,
  identifierQuotes: '`',
  backslashEscapes: true,
  doubleQuotedStrings: true,
  hashComments: false
});

/** Python for the whole cell, with `inner` mounted over everything after the first line. */
function overBody(inner: Parser, name: string): Language {
  return pythonLanguage.configure(
    {
      wrap: parseMixed((node, input) => {
        if (!node.type.isTop) {
          return null;
        }
        const head = input.read(0, Math.min(input.length, 1 << 16));
        const newline = head.indexOf('\n');
        if (newline < 0 || newline + 1 >= input.length) {
          return null;
        }
        return { parser: inner, overlay: [{ from: newline + 1, to: input.length }] };
      })
    },
    name
  );
}

const LANGUAGES: Record<Exclude<BodyLanguage, 'python'>, Language> = {
  sql: overBody(sparkSql.language.parser, 'linkis-sql'),
  shell: overBody(StreamLanguage.define(shell).parser, 'linkis-shell'),
  scala: overBody(StreamLanguage.define(scala).parser, 'linkis-scala')
};

/** The body language of the cell (null: not a `%%linkis` cell). */
export const bodyLanguage = StateField.define<BodyLanguage | null>({
  create: state => bodyLanguageOf(state.doc.line(1).text),
  update: (value, tr) => (tr.docChanged ? bodyLanguageOf(tr.state.doc.line(1).text) : value)
});

/**
 * What the language slot holds for each body: the mixed language at the highest precedence
 * (it wins over the notebook's own), or nothing (the notebook's language applies).
 */
const NO_OVERRIDE: Extension = [];
const OVERRIDES: Record<Exclude<BodyLanguage, 'python'>, Extension> = {
  sql: Prec.highest(LANGUAGES.sql),
  shell: Prec.highest(LANGUAGES.shell),
  scala: Prec.highest(LANGUAGES.scala)
};

function override(body: BodyLanguage | null): Extension {
  return body === null || body === 'python' ? NO_OVERRIDE : OVERRIDES[body];
}

const languageSlot = new Compartment();

/**
 * Swaps the language in the same transaction as the edit that changes the first line, so
 * the new highlighting is there as the user types.
 */
const followFirstLine = EditorState.transactionExtender.of(tr => {
  if (!tr.docChanged) {
    return null;
  }
  const wanted = override(bodyLanguageOf(tr.newDoc.line(1).text));
  return languageSlot.get(tr.startState) === wanted
    ? null
    : { effects: languageSlot.reconfigure(wanted) };
});

const variableMark = Decoration.mark({ class: 'cm-linkis-variable' });

/** `${var}` and `{{ expr }}` in a SQL body, marked as variables. */
function variableMarks(view: EditorView): DecorationSet {
  const doc = view.state.doc;
  if (view.state.field(bodyLanguage) !== 'sql' || doc.lines < 2) {
    return Decoration.none;
  }
  const start = doc.line(2).from;
  const builder = new RangeSetBuilder<Decoration>();
  for (const match of doc.sliceString(start).matchAll(VARIABLE)) {
    const from = start + (match.index ?? 0);
    builder.add(from, from + match[0].length, variableMark);
  }
  return builder.finish();
}

const variables = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = variableMarks(view);
    }
    update(update: ViewUpdate) {
      if (update.docChanged) {
        this.decorations = variableMarks(update.view);
      }
    }
  },
  { decorations: plugin => plugin.decorations }
);

/**
 * Everything the highlighting setting switches: the body language, the variable marks and
 * `tok-*` classes on tokens (stable names for styles and tests; JupyterLab's own highlight
 * style keeps painting the colours).
 */
function highlighting(source: string): Extension {
  return [
    languageSlot.of(override(bodyLanguageOf(firstLine(source)))),
    followFirstLine,
    bodyLanguage,
    variables,
    syntaxHighlighting(classHighlighter)
  ];
}

const switchable = new Compartment();
const liveViews = new Set<EditorView>();
let enabled = true;

/** Keeps `liveViews` current, so a settings change reaches every open cell editor. */
const registerView = ViewPlugin.define(view => {
  liveViews.add(view);
  return { destroy: () => liveViews.delete(view) };
});

/**
 * The extension for one notebook code cell editor. `source` is the cell's text when the
 * editor is made: the language is right from the first paint (a language only switched by
 * later transactions would leave a freshly opened notebook highlighted as Python).
 */
export function linkisCells(source: string): Extension {
  return [registerView, switchable.of(enabled ? highlighting(source) : [])];
}

/** Switch the highlighting on or off in every open cell editor and in the ones to come. */
export function setHighlighting(on: boolean): void {
  if (on === enabled) {
    return;
  }
  enabled = on;
  for (const view of liveViews) {
    const source = view.state.doc.line(1).text;
    view.dispatch({ effects: switchable.reconfigure(on ? highlighting(source) : []) });
  }
}
