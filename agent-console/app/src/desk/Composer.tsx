import { useEffect, useRef, useState } from 'preact/hooks';
import { looksLikeCardNumber } from '../../../../api/console-contract/chat.ts';
import { SHORTCUT_KEYS, useShortcuts } from '../shortcuts.ts';

export const CARD_NUMBER_REFUSAL = 'This looks like a card number. Card numbers must never be sent in chat: ask the customer to pay in the secure checkout instead.';

/**
 * The message box. Refuses to send a card number (the server masks any that get through), tells
 * the other side when the agent is typing, and sends on Enter (Shift+Enter for a new line).
 */
export function Composer(props: {
  id: string;
  label: string;
  placeholder: string;
  mode: 'reply' | 'note' | 'whisper';
  disabled?: boolean;
  onSend: (body: string) => Promise<void>;
  onTyping?: (typing: boolean) => void;
  /** Text to put in the box (a canned response); the agent edits it before sending. */
  insert?: { text: string; nonce: number } | null;
  onSlash?: () => void;
  registerShortcut?: boolean;
}) {
  const [body, setBody] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  const typingSent = useRef(0);
  const stopTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const errorId = `${props.id}-error`;

  useShortcuts(props.registerShortcut ? [{ ...SHORTCUT_KEYS.composer, description: 'Go to the message box', run: () => ref.current?.focus() }] : [], [props.registerShortcut]);

  useEffect(() => {
    if (!props.insert) return;
    setBody(props.insert.text);
    setError(null);
    ref.current?.focus();
  }, [props.insert?.nonce]);

  useEffect(() => () => {
    if (stopTimer.current) clearTimeout(stopTimer.current);
  }, []);

  function typing(active: boolean) {
    if (!props.onTyping) return;
    const at = Date.now();
    if (active && at - typingSent.current < 2500) return;
    typingSent.current = active ? at : 0;
    props.onTyping(active);
  }

  function onInput(value: string) {
    setBody(value);
    if (error && !looksLikeCardNumber(value)) setError(null);
    if (value === '/' && props.onSlash) {
      setBody('');
      props.onSlash();
      return;
    }
    typing(value.length > 0);
    if (stopTimer.current) clearTimeout(stopTimer.current);
    stopTimer.current = setTimeout(() => typing(false), 4000);
  }

  async function send() {
    const text = body.trim();
    if (!text || busy) return;
    if (looksLikeCardNumber(text)) {
      setError(CARD_NUMBER_REFUSAL);
      ref.current?.focus();
      return;
    }
    setBusy(true);
    try {
      await props.onSend(text);
      setBody('');
      setError(null);
      typing(false);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
      ref.current?.focus();
    }
  }

  return (
    <form
      class={`composer composer--${props.mode}`}
      onSubmit={(event) => {
        event.preventDefault();
        void send();
      }}
    >
      <label for={props.id} class="sr-only">
        {props.label}
      </label>
      <textarea
        id={props.id}
        ref={ref}
        rows={3}
        value={body}
        placeholder={props.placeholder}
        disabled={props.disabled}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? errorId : undefined}
        aria-keyshortcuts={props.registerShortcut ? SHORTCUT_KEYS.composer.keys : undefined}
        onInput={(event) => onInput(event.currentTarget.value)}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            void send();
          }
        }}
      />
      {error ? (
        <p id={errorId} class="composer__error" role="alert">
          {error}
        </p>
      ) : null}
      <div class="composer__bar">
        <span class="hint">Enter to send · Shift+Enter for a new line{props.onSlash ? ' · / for canned responses' : ''}</span>
        <button type="submit" class={`button ${props.mode === 'reply' ? 'button--primary' : 'button--note'}`} disabled={props.disabled || busy || !body.trim()}>
          {props.mode === 'reply' ? 'Send' : props.mode === 'note' ? 'Add note' : 'Whisper'}
        </button>
      </div>
    </form>
  );
}
