/**
 * linkis-magic's JupyterLab / Notebook 7 plugin: `%%linkis` cell bodies highlighted by
 * runType (see language.ts) and a "Format SQL" command for the active cell (palette,
 * Alt+Shift+F, cell toolbar button), both governed by the plugin's settings.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { EditorExtensionRegistry, IEditorExtensionRegistry } from '@jupyterlab/codemirror';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';

import { KeywordCase, formatSql } from './format';
import { linkisCells, setHighlighting } from './language';
import { bodyLanguageOf, firstLine } from './runtype';

const PLUGIN_ID = 'linkis-magic:plugin';
const FORMAT_SQL = 'linkis-magic:format-sql';

const formatIcon = new LabIcon({
  name: 'linkis-magic:format-sql',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">' +
    '<g class="jp-icon3" fill="#616161">' +
    '<path d="M3 5h18v2H3zm4 4h14v2H7zm0 4h14v2H7zm-4 4h18v2H3z"/></g></svg>'
});

/** The undo manager JupyterLab's shared cell models carry (not part of their interface). */
interface IUndoCapture {
  undoManager?: { stopCapturing(): void } | null;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Highlighting by runType and Format SQL for %%linkis cells.',
  autoStart: true,
  requires: [IEditorExtensionRegistry, INotebookTracker],
  optional: [ISettingRegistry, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    editors: IEditorExtensionRegistry,
    notebooks: INotebookTracker,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null
  ) => {
    let keywordCase: KeywordCase = 'upper';

    editors.addExtension({
      name: 'linkis-magic:cells',
      factory: options => {
        // Notebook and console cells only; the model of a cell editor is the cell model.
        const kind = (options.model as { type?: string }).type;
        if (!options.inline || (kind !== undefined && kind !== 'code')) {
          return null;
        }
        return EditorExtensionRegistry.createImmutableExtension(
          linkisCells(options.model.sharedModel.getSource())
        );
      }
    });

    /** The active cell when it is a `%%linkis` cell with a SQL body, else null. */
    const activeSqlCell = () => {
      const cell = notebooks.activeCell;
      if (!cell || cell.model.type !== 'code') {
        return null;
      }
      const head = firstLine(cell.model.sharedModel.getSource());
      return bodyLanguageOf(head) === 'sql' ? cell : null;
    };

    app.commands.addCommand(FORMAT_SQL, {
      label: 'Format SQL',
      caption: 'Format the SQL of this %%linkis cell (the magic line stays as it is)',
      icon: formatIcon,
      isEnabled: () => activeSqlCell() !== null,
      isVisible: () => activeSqlCell() !== null,
      execute: () => {
        const cell = activeSqlCell();
        if (cell === null) {
          return;
        }
        const shared = cell.model.sharedModel;
        const source = shared.getSource();
        const start = firstLine(source).length + 1;
        if (start >= source.length) {
          return;
        }
        const body = source.slice(start);
        let formatted: string;
        try {
          formatted = formatSql(body, keywordCase);
        } catch (error) {
          const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
          Notification.error(`Format SQL: the body could not be parsed (${reason})`, {
            autoClose: 5000
          });
          return;
        }
        if (formatted === body) {
          return;
        }
        // One replacement in one transaction, fenced so the undo manager neither merges it
        // with the typing just before nor with what comes after: one undo step.
        const undo = (shared as unknown as IUndoCapture).undoManager;
        undo?.stopCapturing();
        shared.updateSource(start, source.length, formatted);
        undo?.stopCapturing();
      }
    });
    palette?.addItem({ command: FORMAT_SQL, category: 'Linkis' });

    // The button and the palette entry follow the active cell and its first line.
    let watched: { disconnect(): void } | null = null;
    let wasSql = false;
    const refresh = () => {
      const isSql = activeSqlCell() !== null;
      if (isSql !== wasSql) {
        wasSql = isSql;
        app.commands.notifyCommandChanged(FORMAT_SQL);
      }
    };
    notebooks.activeCellChanged.connect((_, cell) => {
      watched?.disconnect();
      watched = null;
      if (cell) {
        const model = cell.model;
        model.contentChanged.connect(refresh);
        watched = { disconnect: () => model.contentChanged.disconnect(refresh) };
      }
      wasSql = activeSqlCell() !== null;
      app.commands.notifyCommandChanged(FORMAT_SQL);
    });

    if (settingRegistry) {
      const apply = (settings: ISettingRegistry.ISettings) => {
        setHighlighting(settings.get('highlighting').composite !== false);
        keywordCase = (settings.get('keywordCase').composite as KeywordCase) ?? 'upper';
      };
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          apply(settings);
          settings.changed.connect(apply);
        })
        .catch(reason => console.error('linkis-magic: settings could not be loaded', reason));
    }
  }
};

export default plugin;
