import { useEffect, useState } from 'preact/hooks';
import type { z } from 'zod';
import type { LeftMessageView } from '../../../../api/console-contract/events.ts';
import type { Task } from '../../../../api/console-contract/tasks.ts';
import { dateTime } from '../../lib/format.ts';
import { announce } from '../announce.ts';
import { SHORTCUT_KEYS, useShortcuts } from '../shortcuts.ts';
import { describeTask, type TaskDesk } from './task-desk.ts';
import { WrapUpForm } from './WrapUpForm.tsx';

/** A held task that is not a chat (a left message, a callback): what it is, done, then wrap-up. */
export function TaskView({ desk, task, openMessage }: { desk: TaskDesk; task: Task; openMessage?: (taskId: string) => Promise<z.infer<typeof LeftMessageView>> }) {
  const [focus, setFocus] = useState(0);
  const [message, setMessage] = useState<z.infer<typeof LeftMessageView> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (task.channel === 'message' && openMessage) openMessage(task.id).then(setMessage, (e: Error) => setError(e.message));
  }, [task.id]);
  const wrapping = task.state === 'wrapping_up';
  const end = () =>
    desk.end(task.id).then(
      () => setFocus((n) => n + 1),
      (e: Error) => announce(`Could not end: ${e.message}`, 'assertive'),
    );
  useShortcuts(
    [
      { ...SHORTCUT_KEYS.end, description: 'Mark the task done', priority: 1, run: () => !wrapping && void end() },
      { ...SHORTCUT_KEYS.wrapUp, description: 'Go to wrap-up', priority: 1, run: () => (wrapping ? setFocus((n) => n + 1) : void end()) },
    ],
    [wrapping, task.id],
  );
  const s = task.summary;
  return (
    <section class="task-view" aria-labelledby={`task-title-${task.id}`}>
      <h2 id={`task-title-${task.id}`}>{describeTask(task)}</h2>
      {message ? (
        <>
          <dl class="facts">
            <dt>From</dt>
            <dd>
              {message.name} &lt;{message.email}&gt;
            </dd>
            <dt>Received</dt>
            <dd>{dateTime(message.receivedAt)}</dd>
            <dt>Topic</dt>
            <dd>{message.topic}</dd>
          </dl>
          <blockquote class="quote">{message.body}</blockquote>
          <p class="hint">Reply by email from your mail client; chat takes no orders.</p>
        </>
      ) : s.channel === 'message' ? (
        <blockquote class="quote">{s.preview}</blockquote>
      ) : null}
      {error ? (
        <p class="notice notice--error" role="alert">
          {error}
        </p>
      ) : null}
      {wrapping ? (
        <WrapUpForm task={task} focusNonce={focus} onSubmit={(wrapUp) => desk.wrapUp(task.id, wrapUp)} />
      ) : (
        <button type="button" class="button button--primary" aria-keyshortcuts={SHORTCUT_KEYS.end.keys} onClick={() => void end()}>
          Done: go to wrap-up
        </button>
      )}
    </section>
  );
}
