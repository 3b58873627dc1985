import { useEffect, useState } from 'preact/hooks';
import type { CannedResponse } from '../../../../api/console-contract/chat.ts';
import { Dialog } from '../components/Dialog.tsx';

/** Pick a canned response by title or /shortcut; the server fills its placeholders for this chat. */
export function CannedPicker(props: { open: boolean; load: () => Promise<CannedResponse[]>; onPick: (canned: CannedResponse) => void; onClose: () => void }) {
  const [items, setItems] = useState<CannedResponse[] | null>(null);
  const [filter, setFilter] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!props.open) return;
    setFilter('');
    props.load().then(setItems, (e: Error) => setError(e.message));
  }, [props.open]);
  const needle = filter.trim().toLowerCase().replace(/^\//, '');
  const shown = (items ?? []).filter((c) => !needle || c.shortcut.includes(needle) || c.title.toLowerCase().includes(needle));
  return (
    <Dialog open={props.open} title="Canned responses" onClose={props.onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (shown[0]) props.onPick(shown[0]);
        }}
      >
        <label for="canned-filter">Search by title or shortcut</label>
        <input id="canned-filter" value={filter} autoFocus onInput={(e) => setFilter(e.currentTarget.value)} aria-describedby="canned-hint" />
        <p id="canned-hint" class="hint">
          Enter picks the first match. Placeholders such as the customer's first name are filled in for you.
        </p>
      </form>
      {error ? <p class="notice notice--error" role="alert">{error}</p> : null}
      {items === null ? <p>Loading…</p> : null}
      <ul class="canned-list" aria-label="Matching responses">
        {shown.map((canned) => (
          <li key={canned.id}>
            <button type="button" class="canned-item" onClick={() => props.onPick(canned)}>
              <span class="canned-item__title">{canned.title}</span>
              <span class="canned-item__shortcut">/{canned.shortcut}</span>
              <span class="canned-item__body">{canned.body}</span>
            </button>
          </li>
        ))}
        {items && shown.length === 0 ? <li class="hint">No canned response matches.</li> : null}
      </ul>
    </Dialog>
  );
}
