import { useEffect, useRef, useState } from 'preact/hooks';
import { announce } from '../announce.ts';
import { Composer } from '../desk/Composer.tsx';
import { TOPIC_LABELS } from '../desk/labels.ts';
import { MessageList } from '../desk/MessageList.tsx';
import { session } from '../session.ts';
import type { Monitored, Supervisor } from './supervisor.ts';

/** Silent monitoring of one chat: the conversation live, a whisper to the agent, or barge in. */
export function MonitorPanel({ supervisor, monitored }: { supervisor: Supervisor; monitored: Monitored }) {
  const { session: chat, messages, barged } = monitored;
  const [mode, setMode] = useState<'whisper' | 'reply'>('whisper');
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), [chat.sessionId]);
  return (
    <aside class="monitor" aria-labelledby="monitor-title">
      <header class="monitor__head">
        <div>
          <h2 id="monitor-title" ref={headingRef} tabIndex={-1}>
            {barged ? 'In chat' : 'Monitoring'}: {chat.visitor.name}
          </h2>
          <p class="hint">
            {TOPIC_LABELS[chat.visitor.topic]} · agent {chat.agent?.firstName ?? 'none'} · {barged ? 'the customer sees you' : 'the customer and the agent are not told'}
          </p>
        </div>
        <button type="button" class="button button--small" onClick={() => void supervisor.stopMonitoring()}>
          Stop
        </button>
      </header>
      <MessageList messages={messages} outgoing={[]} receipts={chat.receipts} typing={null} label={`Monitored conversation with ${chat.visitor.name}`} ownerName={session.value?.user.displayName ?? ''} />
      <div class="monitor__tools">
        {barged ? (
          <div class="segmented" role="radiogroup" aria-label="Message type">
            <label class={mode === 'reply' ? 'is-on' : ''}>
              <input type="radio" name="monitor-mode" checked={mode === 'reply'} onChange={() => setMode('reply')} /> To everyone
            </label>
            <label class={mode === 'whisper' ? 'is-on' : ''}>
              <input type="radio" name="monitor-mode" checked={mode === 'whisper'} onChange={() => setMode('whisper')} /> Whisper to agent
            </label>
          </div>
        ) : (
          <button
            type="button"
            class="button button--danger button--small"
            onClick={() =>
              void supervisor.barge().then(
                () => {
                  setMode('reply');
                  announce('You joined the chat. The customer can see your messages.');
                },
                (e: Error) => announce(`Could not join: ${e.message}`, 'assertive'),
              )
            }
          >
            Barge in
          </button>
        )}
        <Composer
          id="monitor-composer"
          label={mode === 'whisper' ? `Whisper to ${chat.agent?.firstName ?? 'the agent'} (the customer never sees it)` : `Message to ${chat.visitor.name} and the agent`}
          placeholder={mode === 'whisper' ? `Whisper to ${chat.agent?.firstName ?? 'the agent'}…` : 'Message to everyone in the chat…'}
          mode={mode === 'whisper' ? 'whisper' : 'reply'}
          onSend={(body) => (mode === 'whisper' ? supervisor.whisper(body) : supervisor.send(body, 'all'))}
        />
      </div>
    </aside>
  );
}
