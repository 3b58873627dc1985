import { computed } from '@preact/signals';
import { useEffect, useRef, useState } from 'preact/hooks';
import { clockDuration } from '../../lib/format.ts';
import { announce } from '../announce.ts';
import { now } from '../clock.ts';
import { endSession, lastTouch, session, signOut, touchSession } from '../session.ts';
import { Dialog } from './Dialog.tsx';

/**
 * The server ends a staff session after `idleTimeoutMinutes` without a request; it records use at
 * most once a minute, so the session may end up to a minute before idleTimeout after our last
 * request. The console counts from its last request minus that minute, warns before, and clears the
 * screen itself at the deadline (the sockets' session-ended says the same, at the latest 30 s later).
 *
 * Working in the console (keys, clicks) is activity: it touches the session at most once a minute.
 * Sitting still is not, so an unattended console signs out.
 */
const SERVER_GRANULARITY_MS = 60_000;
const TOUCH_EVERY_MS = 60_000;

let lastActivity = Date.now();
for (const type of ['keydown', 'pointerdown', 'wheel'] as const) {
  window.addEventListener(type, () => (lastActivity = Date.now()), { capture: true, passive: true });
}

const idleDeadline = computed(() => {
  const current = session.value;
  if (!current) return Infinity;
  const idleMs = current.idleTimeoutMinutes * 60_000;
  return Math.min(lastTouch.value + idleMs - SERVER_GRANULARITY_MS, Date.parse(current.expiresAt));
});
const warnWindowMs = computed(() => Math.min(120_000, ((session.value?.idleTimeoutMinutes ?? 15) * 60_000) / 3));

export function IdleWarning() {
  const remainingMs = idleDeadline.value - now.value;
  const warning = remainingMs <= warnWindowMs.value;
  const absolute = session.value ? idleDeadline.value === Date.parse(session.value.expiresAt) : false;
  const [error, setError] = useState<string | null>(null);
  const stayRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (remainingMs <= 0) endSession(absolute ? 'session_expired' : 'idle');
  }, [remainingMs <= 0]);

  // Activity keeps the session alive while no warning shows.
  useEffect(() => {
    if (warning) return;
    if (lastActivity > lastTouch.value && now.value - lastTouch.value >= TOUCH_EVERY_MS) void touchSession().catch(() => undefined);
  }, [now.value]);

  useEffect(() => {
    if (warning) {
      announce(absolute ? 'Your session reaches its maximum length soon.' : `You will be signed out in ${Math.ceil(remainingMs / 60_000)} minutes for inactivity.`, 'assertive');
      stayRef.current?.focus();
    }
  }, [warning]);

  async function stay() {
    try {
      setError(null);
      await touchSession();
    } catch (e) {
      setError((e as Error).message);
    }
  }

  return (
    <Dialog open={warning && remainingMs > 0} title={absolute ? 'Your session ends soon' : 'Are you still there?'} role="alertdialog" describedBy="idle-warning-text" onClose={() => void stay()}>
      <p id="idle-warning-text">
        {absolute ? 'Your session reaches its maximum length' : 'For security you will be signed out'} in{' '}
        <strong class="countdown" data-testid="idle-countdown">
          {clockDuration(remainingMs / 1000)}
        </strong>
        .{absolute ? ' Finish what you are doing and sign in again.' : ''}
      </p>
      {error ? (
        <p class="notice notice--error" role="alert">
          {error}
        </p>
      ) : null}
      <div class="dialog__actions">
        {absolute ? null : (
          <button type="button" class="button button--primary" ref={stayRef} onClick={() => void stay()}>
            Stay signed in
          </button>
        )}
        <button type="button" class="button" onClick={() => void signOut()}>
          Sign out now
        </button>
      </div>
    </Dialog>
  );
}
