import { clockDuration } from '../../lib/format.ts';
import { now } from '../clock.ts';

/** Seconds left until `until`, as m:ss; `label` is read by screen readers instead of the ticking digits. */
export function Countdown({ until, label }: { until: string; label: string }) {
  const seconds = Math.max(0, Math.ceil((Date.parse(until) - now.value) / 1000));
  return (
    <span class={`countdown ${seconds <= 5 ? 'countdown--urgent' : ''}`} role="timer" aria-label={label} aria-live="off">
      {clockDuration(seconds)}
    </span>
  );
}

/** Time since `since`, as m:ss (time in state, chat duration). */
export function Elapsed({ since, label }: { since: string; label?: string }) {
  const seconds = Math.max(0, Math.floor((now.value - Date.parse(since)) / 1000));
  return (
    <span class="elapsed" aria-label={label ? `${label} ${clockDuration(seconds)}` : undefined}>
      {clockDuration(seconds)}
    </span>
  );
}
