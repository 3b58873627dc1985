import { activeShortcut, helpOpen, registered, SHORTCUT_KEYS } from '../shortcuts.ts';
import { Dialog } from './Dialog.tsx';

/** The visible list of shortcuts that work on the current screen (Alt+Shift+/ or ?). */
export function ShortcutHelp() {
  const list = [...new Set(registered.value.map((s) => s.code))].map((code) => activeShortcut(code)!);
  return (
    <Dialog open={helpOpen.value} title="Keyboard shortcuts" onClose={() => (helpOpen.value = false)}>
      <table class="shortcut-table">
        <caption class="sr-only">Shortcuts available on this screen</caption>
        <thead>
          <tr>
            <th scope="col">Keys</th>
            <th scope="col">Does</th>
          </tr>
        </thead>
        <tbody>
          {list.map((s) => (
            <tr key={s.code}>
              <td>
                <kbd>{s.keys}</kbd>
              </td>
              <td>{s.description}</td>
            </tr>
          ))}
          <tr>
            <td>
              <kbd>{SHORTCUT_KEYS.help.keys}</kbd> or <kbd>?</kbd>
            </td>
            <td>Show this list</td>
          </tr>
          <tr>
            <td>
              <kbd>Esc</kbd>
            </td>
            <td>Close a dialog</td>
          </tr>
        </tbody>
      </table>
      <div class="dialog__actions">
        <button type="button" class="button button--primary" onClick={() => (helpOpen.value = false)}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
