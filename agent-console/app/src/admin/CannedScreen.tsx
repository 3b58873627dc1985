import { useEffect, useRef, useState } from 'preact/hooks';
import { CANNED_PLACEHOLDERS, CannedResponseInput, type CannedResponse } from '../../../../api/console-contract/chat.ts';
import { ChatHttp } from '../../../../api/console-contract/http.ts';
import { dateTime } from '../../lib/format.ts';
import { announce } from '../announce.ts';
import { api } from '../session.ts';

type Draft = { id: string | null; title: string; shortcut: string; body: string };
const EMPTY: Draft = { id: null, title: '', shortcut: '', body: '' };

/** Admins keep the canned responses agents insert with "/" (placeholders are filled per chat). */
export function CannedScreen() {
  const [items, setItems] = useState<CannedResponse[] | null>(null);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [listFailure, setListFailure] = useState<string | null>(null);
  const titleRef = useRef<HTMLInputElement>(null);

  const load = () =>
    api<{ items: CannedResponse[] }>('GET', ChatHttp.cannedManageList.path).then(
      (r) => {
        setItems(r.items);
        setListFailure(null);
      },
      (e: Error) => setListFailure(e.message),
    );
  useEffect(() => void load(), []);

  function edit(next: Draft) {
    setDraft(next);
    setErrors({});
    setFailure(null);
    setTimeout(() => titleRef.current?.focus(), 0);
  }

  async function save(event: Event) {
    event.preventDefault();
    const parsed = CannedResponseInput.safeParse({ title: draft.title, shortcut: draft.shortcut, body: draft.body });
    if (!parsed.success) {
      setErrors(Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), i.message])));
      return;
    }
    try {
      if (draft.id) await api('PUT', ChatHttp.cannedUpdate.path.replace(':id', draft.id), parsed.data);
      else await api('POST', ChatHttp.cannedCreate.path, parsed.data);
      announce(`Canned response “${parsed.data.title}” saved.`);
      setDraft(EMPTY);
      await load();
    } catch (e) {
      setFailure((e as Error).message);
    }
  }

  async function remove(item: CannedResponse) {
    try {
      await api('DELETE', ChatHttp.cannedDelete.path.replace(':id', item.id));
      announce(`Canned response “${item.title}” deleted.`);
      if (draft.id === item.id) setDraft(EMPTY);
      await load();
    } catch (e) {
      setFailure((e as Error).message);
    }
  }

  return (
    <main id="main" class="admin" tabIndex={-1} aria-labelledby="canned-title">
      <div class="admin__list panel">
        <h1 id="canned-title" class="panel__title">
          Canned responses <span class="count">{items?.length ?? 0}</span>
        </h1>
        {listFailure ? (
          <p class="notice notice--error" role="alert">
            {listFailure}
          </p>
        ) : items === null ? (
          <p class="hint">Loading…</p>
        ) : null}
        {items?.length === 0 ? <p class="hint">None yet. Agents insert them in chat by typing “/”.</p> : null}
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Shortcut</th>
              <th scope="col">Text</th>
              <th scope="col">Updated</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {(items ?? []).map((item) => (
              <tr key={item.id}>
                <th scope="row">{item.title}</th>
                <td>
                  <code>/{item.shortcut}</code>
                </td>
                <td class="admin__body">{item.body}</td>
                <td>
                  {dateTime(item.updatedAt)} by {item.updatedBy}
                </td>
                <td class="actions">
                  <button type="button" class="button button--small" onClick={() => edit({ id: item.id, title: item.title, shortcut: item.shortcut, body: item.body })}>
                    Edit<span class="sr-only"> {item.title}</span>
                  </button>
                  <button type="button" class="button button--small button--danger" onClick={() => void remove(item)}>
                    Delete<span class="sr-only"> {item.title}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form class="admin__form panel" onSubmit={save} aria-labelledby="canned-form-title" noValidate>
        <h2 id="canned-form-title" class="panel__title">
          {draft.id ? 'Edit canned response' : 'New canned response'}
        </h2>
        <label for="canned-title-input">Title</label>
        <input id="canned-title-input" ref={titleRef} value={draft.title} aria-invalid={errors.title ? 'true' : undefined} onInput={(e) => setDraft({ ...draft, title: e.currentTarget.value })} />
        {errors.title ? <p class="field-error">{errors.title}</p> : null}
        <label for="canned-shortcut">Shortcut</label>
        <input id="canned-shortcut" value={draft.shortcut} aria-describedby="canned-shortcut-hint" aria-invalid={errors.shortcut ? 'true' : undefined} onInput={(e) => setDraft({ ...draft, shortcut: e.currentTarget.value })} />
        <p id="canned-shortcut-hint" class="hint">
          Lowercase letters, digits and dashes; agents type /{draft.shortcut || 'shortcut'}.
        </p>
        {errors.shortcut ? <p class="field-error">{errors.shortcut}</p> : null}
        <label for="canned-body">Text</label>
        <textarea id="canned-body" rows={6} value={draft.body} aria-describedby="canned-body-hint" aria-invalid={errors.body ? 'true' : undefined} onInput={(e) => setDraft({ ...draft, body: e.currentTarget.value })} />
        <p id="canned-body-hint" class="hint">
          Placeholders: {CANNED_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}
        </p>
        {errors.body ? <p class="field-error">{errors.body}</p> : null}
        {failure ? (
          <p class="notice notice--error" role="alert">
            {failure}
          </p>
        ) : null}
        <div class="dialog__actions">
          <button type="submit" class="button button--primary">
            Save
          </button>
          {draft.id ? (
            <button type="button" class="button" onClick={() => edit(EMPTY)}>
              Cancel
            </button>
          ) : null}
        </div>
      </form>
    </main>
  );
}
