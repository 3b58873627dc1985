import { useEffect, useState } from 'preact/hooks';
import type { CannedResponse } from '../../../../api/console-contract/chat.ts';
import type { Task } from '../../../../api/console-contract/tasks.ts';
import { newClientId } from '../../lib/ids.ts';
import { announce } from '../announce.ts';
import { Elapsed } from '../components/Countdown.tsx';
import { now } from '../clock.ts';
import { session } from '../session.ts';
import { SHORTCUT_KEYS, useShortcuts } from '../shortcuts.ts';
import type { AgentDesk } from './agent-desk.ts';
import { CannedPicker } from './CannedPicker.tsx';
import type { ChatThread } from './chats.ts';
import { Composer } from './Composer.tsx';
import { CustomerPanel } from './CustomerPanel.tsx';
import { TOPIC_LABELS } from './labels.ts';
import { MessageList } from './MessageList.tsx';
import { EndDialog, InviteDialog, TransferDialog } from './TransferDialog.tsx';
import { WrapUpForm } from './WrapUpForm.tsx';

/** One chat: the conversation, the composer (reply or internal note), the tools, then wrap-up. */
export function ChatView({ desk, task, thread }: { desk: AgentDesk; task: Task; thread: ChatThread }) {
  const { session: chat } = thread;
  const sessionId = chat.sessionId;
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [dialog, setDialog] = useState<'transfer' | 'invite' | 'end' | 'canned' | null>(null);
  const [insert, setInsert] = useState<{ text: string; nonce: number } | null>(null);
  const [wrapFocus, setWrapFocus] = useState(0);
  const wrapping = task.state === 'wrapping_up';
  const ended = chat.state === 'ended';
  const socket = desk.socket;

  // What is on screen counts as read; the visitor sees "Read" under their messages.
  const lastVisitorSeq = [...thread.messages].reverse().find((m) => m.author.kind === 'visitor')?.seq ?? 0;
  useEffect(() => {
    if (lastVisitorSeq > chat.receipts.agent.readSeq && document.visibilityState === 'visible') {
      void socket.request('chat:receipt', { sessionId, deliveredSeq: lastVisitorSeq, readSeq: lastVisitorSeq }).catch(() => undefined);
    }
  }, [lastVisitorSeq, sessionId]);

  useShortcuts(
    [
      { ...SHORTCUT_KEYS.end, description: 'End the chat', priority: 1, run: () => !wrapping && setDialog('end') },
      {
        ...SHORTCUT_KEYS.wrapUp,
        description: 'Go to wrap-up (ends the chat first)',
        priority: 1,
        run: () => (wrapping ? setWrapFocus((n) => n + 1) : setDialog('end')),
      },
    ],
    [wrapping, ended, sessionId],
  );

  async function pickCanned(canned: CannedResponse) {
    setDialog(null);
    try {
      const { body } = await socket.request('canned:render', { sessionId, cannedId: canned.id });
      setInsert({ text: body, nonce: Date.now() });
    } catch (error) {
      announce(`Canned response not available: ${(error as Error).message}`, 'assertive');
    }
  }

  const typing = thread.typing && thread.typing.until > now.value ? thread.typing.name : null;
  const agentName = session.value?.user.displayName ?? 'You';

  return (
    <div class="chat">
      <section class="chat__main" aria-labelledby={`chat-title-${sessionId}`}>
        <header class="chat__header">
          <div>
            <h2 id={`chat-title-${sessionId}`} class="chat__title">
              {chat.visitor.name}
            </h2>
            <p class="chat__sub">
              {TOPIC_LABELS[chat.visitor.topic]} · {ended ? 'Chat ended' : <>In chat <Elapsed since={chat.assignedAt ?? chat.startedAt} label="for" /></>}
            </p>
          </div>
          <div class="chat__tools" role="toolbar" aria-label="Chat actions">
            <button type="button" class="button" disabled={wrapping || ended} onClick={() => setDialog('transfer')}>
              Transfer
            </button>
            <button type="button" class="button" disabled={wrapping || ended} onClick={() => setDialog('invite')}>
              Invite supervisor
            </button>
            <button type="button" class="button button--danger" disabled={wrapping} aria-keyshortcuts={SHORTCUT_KEYS.end.keys} onClick={() => setDialog('end')}>
              End chat
            </button>
          </div>
        </header>
        <MessageList messages={thread.messages} outgoing={thread.outgoing} receipts={chat.receipts} typing={typing} label={`Conversation with ${chat.visitor.name}`} ownerName={agentName} />
        {wrapping ? (
          <WrapUpForm
            task={task}
            focusNonce={wrapFocus}
            onSubmit={async (wrapUp) => {
              await desk.desk.wrapUp(task.id, wrapUp);
              announce(`Wrap-up of the chat with ${chat.visitor.name} completed.`);
            }}
          />
        ) : (
          <div class="composer-area">
            <div class="segmented" role="radiogroup" aria-label="Message type">
              <label class={mode === 'reply' ? 'is-on' : ''}>
                <input type="radio" name={`mode-${sessionId}`} checked={mode === 'reply'} onChange={() => setMode('reply')} /> Reply
              </label>
              <label class={mode === 'note' ? 'is-on' : ''}>
                <input type="radio" name={`mode-${sessionId}`} checked={mode === 'note'} onChange={() => setMode('note')} /> Internal note
              </label>
              <button type="button" class="button button--small button--ghost-dark" onClick={() => setDialog('canned')} disabled={ended}>
                Canned responses
              </button>
            </div>
            <Composer
              id={`composer-${sessionId}`}
              label={mode === 'reply' ? `Message to ${chat.visitor.name}` : 'Internal note (staff only)'}
              placeholder={mode === 'reply' ? `Reply to ${chat.visitor.name}…` : 'Note for colleagues; the customer never sees it'}
              mode={mode}
              disabled={ended && mode === 'reply'}
              insert={insert}
              registerShortcut
              onSlash={() => setDialog('canned')}
              onTyping={mode === 'reply' ? (active) => void socket.request('chat:typing', { sessionId, typing: active }).catch(() => undefined) : undefined}
              onSend={(body) => desk.chats.send(sessionId, body, mode === 'note' ? 'internal' : 'all')}
            />
          </div>
        )}
      </section>
      <CustomerPanel
        session={chat}
        loadOrders={() => socket.request('customer:orders', { sessionId })}
        sendLink={async (target) => {
          await socket.request('chat:send-link', { sessionId, clientId: newClientId(), target });
        }}
      />
      <TransferDialog
        open={dialog === 'transfer'}
        loadCandidates={() => socket.request('agents:transfer-candidates', {})}
        onTransfer={async (to) => {
          await socket.request('chat:transfer', { sessionId, to });
          announce(`Chat with ${chat.visitor.name} transferred.`);
        }}
        onClose={() => setDialog(null)}
      />
      <InviteDialog
        open={dialog === 'invite'}
        onInvite={async (note) => {
          await socket.request('chat:invite-supervisor', { sessionId, ...(note ? { note } : {}) });
          announce('A supervisor was invited.');
        }}
        onClose={() => setDialog(null)}
      />
      <EndDialog
        open={dialog === 'end'}
        visitor={chat.visitor.name}
        onEnd={async () => {
          await desk.desk.end(task.id);
          setWrapFocus((n) => n + 1);
        }}
        onClose={() => setDialog(null)}
      />
      <CannedPicker open={dialog === 'canned'} load={() => socket.request('canned:list', {})} onPick={(c) => void pickCanned(c)} onClose={() => setDialog(null)} />
    </div>
  );
}
