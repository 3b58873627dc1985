import { useState } from 'preact/hooks';
import type { Task } from '../../../../api/console-contract/tasks.ts';
import { announce } from '../announce.ts';
import { Countdown } from '../components/Countdown.tsx';
import { SHORTCUT_KEYS } from '../shortcuts.ts';
import { describeTask, type TaskDesk } from './task-desk.ts';

/** An incoming offer: what it is, how long is left, accept or decline. The first offer takes the shortcuts. */
export function OfferCard({ task, desk, first, onAccepted }: { task: Task; desk: TaskDesk; first: boolean; onAccepted?: (task: Task) => void }) {
  const [busy, setBusy] = useState(false);
  const title = describeTask(task);
  const headingId = `offer-${task.id}`;
  async function act(kind: 'accept' | 'decline') {
    setBusy(true);
    try {
      if (kind === 'accept') {
        await desk.accept(task.id);
        onAccepted?.(task);
      } else await desk.decline(task.id);
    } catch (error) {
      announce(`Could not ${kind}: ${(error as Error).message}`, 'assertive');
    } finally {
      setBusy(false);
    }
  }
  return (
    <article class="offer" aria-labelledby={headingId} data-task-id={task.id}>
      <div class="offer__head">
        <span class={`channel-badge channel-badge--${task.channel}`}>{task.channel === 'fraud_review' ? 'Review' : task.channel}</span>
        {task.offer ? <Countdown until={task.offer.expiresAt} label="Time left to accept" /> : null}
      </div>
      <h3 id={headingId} class="offer__title">
        {title}
      </h3>
      <div class="offer__actions">
        <button type="button" class="button button--primary" disabled={busy} onClick={() => void act('accept')} aria-keyshortcuts={first ? SHORTCUT_KEYS.accept.keys : undefined}>
          Accept{first ? <kbd class="kbd-hint" aria-hidden="true">Alt+Shift+A</kbd> : null}
        </button>
        <button type="button" class="button" disabled={busy} onClick={() => void act('decline')} aria-keyshortcuts={first ? SHORTCUT_KEYS.decline.keys : undefined}>
          Decline
        </button>
      </div>
    </article>
  );
}
