import { useEffect, useRef } from 'preact/hooks';
import type { Task } from '../../../../api/console-contract/tasks.ts';
import { announce } from '../announce.ts';
import { Elapsed } from '../components/Countdown.tsx';
import { SHORTCUT_KEYS, useShortcuts } from '../shortcuts.ts';
import type { AgentDesk } from './agent-desk.ts';
import { ChatView } from './ChatView.tsx';
import type { ChatThread } from './chats.ts';
import { OfferCard } from './OfferCard.tsx';
import { describeTask } from './task-desk.ts';
import { TaskView } from './TaskView.tsx';

function tabLabel(task: Task): string {
  const s = task.summary;
  if (s.channel === 'chat' || s.channel === 'message') return s.visitorFirstName;
  return describeTask(task);
}

function unread(thread: ChatThread | undefined): number {
  if (!thread) return 0;
  return thread.messages.filter((m) => m.author.kind === 'visitor' && m.seq > thread.session.receipts.agent.readSeq).length;
}

/** The agent's desk: offers on the left, the held tasks as tabs, the open one in the middle. */
export function DeskScreen({ desk }: { desk: AgentDesk }) {
  const { offers, held, agent, error } = desk.desk;
  const threads = desk.chats.threads.value;
  const active = desk.activeTask.value;
  const tabRefs = useRef(new Map<string, HTMLButtonElement>());
  const mainRef = useRef<HTMLElement>(null);

  const select = (taskId: string, focus = true) => {
    desk.activeTaskId.value = taskId;
    if (focus) setTimeout(() => tabRefs.current.get(taskId)?.focus(), 0);
  };
  const step = (delta: number) => {
    const list = held.value;
    if (!list.length) return;
    const index = list.findIndex((t) => t.id === desk.activeTaskId.value);
    select(list[(index + delta + list.length) % list.length]!.id);
  };

  const first = offers.value[0];
  useShortcuts(
    [
      {
        ...SHORTCUT_KEYS.accept,
        description: 'Accept the oldest offer',
        run: () => {
          if (!first) return announce('No offer to accept.');
          desk.desk.accept(first.id).then(() => {
            desk.activeTaskId.value = first.id;
            setTimeout(() => document.getElementById(`composer-${first.summary.channel === 'chat' ? first.summary.sessionId : ''}`)?.focus(), 100);
          }, (e: Error) => announce(`Could not accept: ${e.message}`, 'assertive'));
        },
      },
      { ...SHORTCUT_KEYS.decline, description: 'Decline the oldest offer', run: () => first && void desk.desk.decline(first.id).catch((e: Error) => announce(`Could not decline: ${e.message}`, 'assertive')) },
      // The open chat registers its own; these answer when no task is open.
      { ...SHORTCUT_KEYS.end, description: 'End the open chat', run: () => announce('No chat is open.') },
      { ...SHORTCUT_KEYS.wrapUp, description: 'Wrap up the open chat', run: () => announce('No chat is open.') },
      { ...SHORTCUT_KEYS.nextTab, description: 'Next task tab', run: () => step(1) },
      { ...SHORTCUT_KEYS.previousTab, description: 'Previous task tab', run: () => step(-1) },
    ],
    [first?.id, held.value.length],
  );

  // Messages that arrived in tabs not on screen are delivered, not read.
  useEffect(() => {
    for (const thread of threads.values()) {
      const last = thread.messages.at(-1)?.seq ?? 0;
      if (last > thread.session.receipts.agent.deliveredSeq && thread.session.sessionId !== (active?.summary.channel === 'chat' ? active.summary.sessionId : null)) {
        void desk.socket.request('chat:receipt', { sessionId: thread.session.sessionId, deliveredSeq: last }).catch(() => undefined);
      }
    }
  }, [threads]);

  const activeThread = active?.summary.channel === 'chat' ? threads.get(active.summary.sessionId) : undefined;

  return (
    <div class="desk">
      <aside class="desk__side" aria-label="Offers and tasks">
        <section class="panel" aria-labelledby="offers-title">
          <h2 id="offers-title" class="panel__title">
            Offers <span class="count">{offers.value.length}</span>
          </h2>
          {offers.value.length === 0 ? (
            <p class="hint">{agent.value?.presence === 'available' ? 'Waiting for the next customer…' : 'Set yourself available to receive chats.'}</p>
          ) : (
            offers.value.map((task, index) => <OfferCard key={task.id} task={task} desk={desk.desk} first={index === 0} onAccepted={(t) => select(t.id, false)} />)
          )}
        </section>
        <section class="panel" aria-labelledby="status-title">
          <h2 id="status-title" class="panel__title">
            My status
          </h2>
          {agent.value ? (
            <dl class="facts facts--compact">
              <dt>Presence</dt>
              <dd>
                {agent.value.presence} for <Elapsed since={agent.value.presenceSince} />
              </dd>
              <dt>Chats</dt>
              <dd>
                {agent.value.load.chat} of {agent.value.capacity.chat}
              </dd>
            </dl>
          ) : (
            <p class="hint">Connecting…</p>
          )}
          {error.value ? (
            <p class="notice notice--error" role="alert">
              {error.value}
            </p>
          ) : null}
        </section>
      </aside>
      <main id="main" class="desk__main" ref={mainRef} tabIndex={-1} aria-label="Tasks">
        {held.value.length ? (
          <>
            <div class="tabs" role="tablist" aria-label="My tasks">
              {held.value.map((task) => {
                const thread = task.summary.channel === 'chat' ? threads.get(task.summary.sessionId) : undefined;
                const count = unread(thread);
                const selected = task.id === active?.id;
                return (
                  <button
                    key={task.id}
                    ref={(el) => {
                      if (el) tabRefs.current.set(task.id, el);
                      else tabRefs.current.delete(task.id);
                    }}
                    type="button"
                    role="tab"
                    id={`tab-${task.id}`}
                    aria-selected={selected}
                    aria-controls={`panel-${task.id}`}
                    tabIndex={selected ? 0 : -1}
                    class={`tab ${selected ? 'tab--active' : ''} ${task.state === 'wrapping_up' ? 'tab--wrapping' : ''}`}
                    onClick={() => select(task.id)}
                    onKeyDown={(event) => {
                      if (event.key === 'ArrowRight') step(1);
                      if (event.key === 'ArrowLeft') step(-1);
                    }}
                  >
                    <span class={`channel-dot channel-dot--${task.channel}`} aria-hidden="true" />
                    {tabLabel(task)}
                    {task.state === 'wrapping_up' ? <span class="tab__state">wrap-up</span> : null}
                    {count > 0 && !selected ? <span class="badge" aria-label={`${count} unread`}>{count}</span> : null}
                  </button>
                );
              })}
            </div>
            {active ? (
              <div role="tabpanel" id={`panel-${active.id}`} aria-labelledby={`tab-${active.id}`} class="tabpanel">
                {active.summary.channel === 'chat' ? (
                  activeThread ? (
                    <ChatView key={active.id} desk={desk} task={active} thread={activeThread} />
                  ) : (
                    <p class="hint pad">Opening the chat…</p>
                  )
                ) : (
                  <TaskView key={active.id} desk={desk.desk} task={active} openMessage={(taskId) => desk.socket.request('message:open', { taskId })} />
                )}
              </div>
            ) : null}
          </>
        ) : (
          <div class="empty">
            <h2>No open tasks</h2>
            <p>Accepted chats open here as tabs. You can hold several at once.</p>
            <p class="hint">
              Press <kbd>Alt+Shift+/</kbd> for keyboard shortcuts.
            </p>
          </div>
        )}
      </main>
    </div>
  );
}
