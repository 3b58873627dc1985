import { useEffect, useRef, useState } from 'preact/hooks';
import { DISPOSITION_CODES, WrapUp, type DispositionCode, type Task } from '../../../../api/console-contract/tasks.ts';
import { Elapsed } from '../components/Countdown.tsx';
import { DISPOSITION_LABELS } from './labels.ts';

/** After a task: the disposition code and notes. Wrap-up time runs from the end of the task to submit. */
export function WrapUpForm({ task, onSubmit, focusNonce, codes = DISPOSITION_CODES }: { task: Task; onSubmit: (wrapUp: WrapUp) => Promise<void>; focusNonce: number; codes?: readonly DispositionCode[] }) {
  const [disposition, setDisposition] = useState<DispositionCode | ''>('');
  const [notes, setNotes] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const selectRef = useRef<HTMLSelectElement>(null);
  const id = `wrapup-${task.id}`;
  // After the dialog that ended the task has closed and handed focus back.
  useEffect(() => {
    const timer = setTimeout(() => selectRef.current?.focus(), 50);
    return () => clearTimeout(timer);
  }, [focusNonce]);

  async function submit(event: Event) {
    event.preventDefault();
    const parsed = WrapUp.safeParse({ disposition: disposition || undefined, notes });
    if (!parsed.success) {
      setError('Choose a disposition code.');
      selectRef.current?.focus();
      return;
    }
    setBusy(true);
    try {
      await onSubmit(parsed.data);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  }

  return (
    <form class="wrapup" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <div class="wrapup__head">
        <h3 id={`${id}-title`}>Wrap-up</h3>
        <span class="hint">
          Wrap-up time <Elapsed since={task.stateSince} />
        </span>
      </div>
      <label for={`${id}-disposition`}>Disposition</label>
      <select id={`${id}-disposition`} ref={selectRef} value={disposition} required aria-invalid={error ? 'true' : undefined} aria-describedby={error ? `${id}-error` : undefined} onChange={(e) => setDisposition(e.currentTarget.value as DispositionCode)}>
        <option value="">Choose…</option>
        {codes.map((code) => (
          <option key={code} value={code}>
            {DISPOSITION_LABELS[code]}
          </option>
        ))}
      </select>
      <label for={`${id}-notes`}>Notes</label>
      <textarea id={`${id}-notes`} rows={3} maxLength={2000} value={notes} onInput={(e) => setNotes(e.currentTarget.value)} />
      {error ? (
        <p id={`${id}-error`} class="notice notice--error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" class="button button--primary" disabled={busy}>
        Complete wrap-up
      </button>
    </form>
  );
}
