import { useState } from 'preact/hooks';
import { PRESENCES, type AgentState, type Presence } from '../../../../api/console-contract/agents.ts';
import type { FloorChat, QueueStats } from '../../../../api/console-contract/floor.ts';
import { clockDuration, percent } from '../../lib/format.ts';
import { announce } from '../announce.ts';
import { Elapsed } from '../components/Countdown.tsx';
import { TOPIC_LABELS } from '../desk/labels.ts';
import { LiveChart } from './LiveChart.tsx';
import { MonitorPanel } from './MonitorPanel.tsx';
import type { Supervisor } from './supervisor.ts';

const CHANNEL_LABELS: Record<string, string> = { chat: 'Chat', call: 'Calls', callback: 'Callbacks', message: 'Messages', fraud_review: 'Fraud reviews' };
const PRESENCE_LABELS: Record<Presence, string> = { available: 'Available', break: 'On break', offline: 'Offline' };

function QueueCard({ queue }: { queue: QueueStats }) {
  const id = `queue-${queue.channel}`;
  return (
    <section class="kpi" aria-labelledby={id} data-channel={queue.channel}>
      <h3 id={id} class="kpi__title">
        {CHANNEL_LABELS[queue.channel] ?? queue.channel}
      </h3>
      <dl class="kpi__grid">
        <div>
          <dt>Waiting</dt>
          <dd class="kpi__big" data-testid={`waiting-${queue.channel}`}>
            {queue.waiting}
          </dd>
        </div>
        <div>
          <dt>Longest wait</dt>
          <dd>{clockDuration(queue.longestWaitSeconds)}</dd>
        </div>
        <div>
          <dt>Service level</dt>
          <dd>{percent(queue.serviceLevel)}</dd>
        </div>
        <div>
          <dt>Abandoned</dt>
          <dd>{percent(queue.abandonmentRate)}</dd>
        </div>
        <div>
          <dt>Avg handle</dt>
          <dd>{queue.averageHandleSeconds === null ? '—' : clockDuration(queue.averageHandleSeconds)}</dd>
        </div>
        <div>
          <dt>Available</dt>
          <dd>{queue.agentsAvailable}</dd>
        </div>
      </dl>
    </section>
  );
}

function AgentRow({ agent, supervisor }: { agent: AgentState; supervisor: Supervisor }) {
  const selectId = `presence-${agent.staffUserId}`;
  return (
    <tr data-agent={agent.staffUserId}>
      <th scope="row">
        <span class={`presence-dot presence-dot--${agent.presence}`} aria-hidden="true" />
        {agent.displayName}
      </th>
      <td>
        <label for={selectId} class="sr-only">
          Presence of {agent.displayName}
        </label>
        <select
          id={selectId}
          class="select--compact"
          value={agent.presence}
          onChange={(event) => {
            const presence = event.currentTarget.value as Presence;
            supervisor.setPresence(agent.staffUserId, presence).then(
              () => announce(`${agent.displayName} set to ${PRESENCE_LABELS[presence]}.`),
              (e: Error) => announce(`Presence not changed: ${e.message}`, 'assertive'),
            );
          }}
        >
          {PRESENCES.map((p) => (
            <option key={p} value={p}>
              {PRESENCE_LABELS[p]}
            </option>
          ))}
        </select>
      </td>
      <td>
        <Elapsed since={agent.presenceSince} label="in this state for" />
      </td>
      <td>
        {agent.tasks.length ? (
          <ul class="task-chips">
            {agent.tasks.map((t) => (
              <li key={t.taskId} class={`chip chip--${t.channel}`}>
                {CHANNEL_LABELS[t.channel] ?? t.channel} · {t.state.replace('_', ' ')} <Elapsed since={t.since} />
              </li>
            ))}
          </ul>
        ) : (
          <span class="hint">{agent.idleSince ? <>idle <Elapsed since={agent.idleSince} /></> : '—'}</span>
        )}
      </td>
      <td class="num">
        {agent.load.chat}/{agent.capacity.chat}
      </td>
    </tr>
  );
}

function ChatRow({ chat, agents, supervisor, monitoring }: { chat: FloorChat; agents: AgentState[]; supervisor: Supervisor; monitoring: boolean }) {
  const [target, setTarget] = useState('');
  const candidates = agents.filter((a) => a.staffUserId !== chat.agent?.staffUserId && a.presence === 'available');
  const selectId = `reassign-${chat.sessionId}`;
  return (
    <tr data-session={chat.sessionId}>
      <th scope="row">{chat.visitorFirstName}</th>
      <td>{TOPIC_LABELS[chat.topic]}</td>
      <td>{chat.agent?.displayName ?? <span class="tag tag--waiting">waiting</span>}</td>
      <td>
        <Elapsed since={chat.startedAt} label="started" />
      </td>
      <td class="actions">
        <button type="button" class="button button--small" aria-pressed={monitoring} disabled={chat.state !== 'active'} onClick={() => void supervisor.monitor(chat.sessionId).catch((e: Error) => announce(`Cannot monitor: ${e.message}`, 'assertive'))}>
          {monitoring ? 'Monitoring' : 'Monitor'}
        </button>
        <form
          class="inline-form inline-form--row"
          onSubmit={(event) => {
            event.preventDefault();
            if (!target) return;
            supervisor.reassign(chat.taskId, target).then(
              () => announce('Chat reassigned.'),
              (e: Error) => announce(`Not reassigned: ${e.message}`, 'assertive'),
            );
          }}
        >
          <label for={selectId} class="sr-only">
            Reassign the chat with {chat.visitorFirstName} to
          </label>
          <select id={selectId} class="select--compact" value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
            <option value="">Reassign to…</option>
            {candidates.map((a) => (
              <option key={a.staffUserId} value={a.staffUserId}>
                {a.displayName}
              </option>
            ))}
          </select>
          <button type="submit" class="button button--small" disabled={!target}>
            Reassign
          </button>
        </form>
      </td>
    </tr>
  );
}

/** The floor: queues, charts, agents and chats, all live; monitoring on the right. */
export function FloorScreen({ supervisor }: { supervisor: Supervisor }) {
  const snapshot = supervisor.floor.value;
  const history = supervisor.history.value;
  const monitored = supervisor.monitored.value;
  const times = history.map((p) => p.at / 1000);
  const last = history.at(-1);

  if (!snapshot) {
    return (
      <main id="main" class="floor" tabIndex={-1}>
        <p class="hint pad">{supervisor.error.value ?? 'Loading the floor…'}</p>
      </main>
    );
  }
  const queues = [...snapshot.queues].sort((a, b) => (a.channel === 'chat' ? -1 : b.channel === 'chat' ? 1 : a.channel.localeCompare(b.channel)));
  return (
    <div class={`floor ${monitored ? 'floor--monitoring' : ''}`}>
      <main id="main" class="floor__main" tabIndex={-1} aria-labelledby="floor-title">
        <h1 id="floor-title" class="sr-only">
          Floor
        </h1>
        {supervisor.invitations.value.map((invitation) => (
          <div key={invitation.sessionId} class="notice notice--invite" role="status">
            <strong>{invitation.from.displayName}</strong> asks you to join a chat{invitation.note ? `: “${invitation.note}”` : '.'}
            <button type="button" class="button button--small button--primary" onClick={() => void supervisor.monitor(invitation.sessionId).catch((e: Error) => announce(e.message, 'assertive'))}>
              Open the chat
            </button>
          </div>
        ))}
        <section class="floor__queues" aria-label="Queues">
          {queues.map((q) => (
            <QueueCard key={q.channel} queue={q} />
          ))}
        </section>
        <section class="floor__charts" aria-label="Trends">
          <LiveChart
            title="Waiting and agents"
            times={times}
            series={[
              { label: 'Waiting', color: '#d9480f', values: history.map((p) => p.waiting) },
              { label: 'Available', color: '#2f9e44', values: history.map((p) => p.available) },
              { label: 'Busy', color: '#1c64f2', values: history.map((p) => p.busy) },
            ]}
            summary={last ? `${last.waiting} waiting, ${last.available} available, ${last.busy} busy` : 'no data yet'}
          />
          <LiveChart
            title="Chat service level (answered in 20 s)"
            times={times}
            yRange={[0, 100]}
            series={[{ label: 'Service level %', color: '#7048e8', values: history.map((p) => (p.serviceLevel === null ? null : Math.round(p.serviceLevel * 100))) }]}
            summary={last?.serviceLevel != null ? percent(last.serviceLevel) : 'no traffic yet'}
          />
        </section>
        <div class="floor__tables">
          <section class="panel" aria-labelledby="agents-title">
            <h2 id="agents-title" class="panel__title">
              Agents <span class="count">{snapshot.agents.length}</span>
            </h2>
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">Presence</th>
                  <th scope="col">In state</th>
                  <th scope="col">Current tasks</th>
                  <th scope="col" class="num">
                    Chats
                  </th>
                </tr>
              </thead>
              <tbody>
                {snapshot.agents.map((agent) => (
                  <AgentRow key={agent.staffUserId} agent={agent} supervisor={supervisor} />
                ))}
              </tbody>
            </table>
            {snapshot.agents.length === 0 ? <p class="hint">No agent has signed in yet.</p> : null}
          </section>
          <section class="panel" aria-labelledby="chats-title">
            <h2 id="chats-title" class="panel__title">
              Chats in progress <span class="count" data-testid="chats-count">{snapshot.chats.length}</span>
            </h2>
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Visitor</th>
                  <th scope="col">Topic</th>
                  <th scope="col">Agent</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {snapshot.chats.map((chat) => (
                  <ChatRow key={chat.sessionId} chat={chat} agents={snapshot.agents} supervisor={supervisor} monitoring={monitored?.session.sessionId === chat.sessionId} />
                ))}
              </tbody>
            </table>
            {snapshot.chats.length === 0 ? <p class="hint">No chat in progress.</p> : null}
          </section>
        </div>
      </main>
      {monitored ? <MonitorPanel supervisor={supervisor} monitored={monitored} /> : null}
    </div>
  );
}
