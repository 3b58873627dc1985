import { useRef } from 'preact/hooks';
import { PRESENCES, type Presence } from '../../../../api/console-contract/agents.ts';
import { announce } from '../announce.ts';
import { allowedScreens, currentScreen } from '../router.ts';
import { session, signOut } from '../session.ts';
import { helpOpen, SHORTCUT_KEYS, useShortcuts } from '../shortcuts.ts';
import type { ConnectionState } from '../staff-socket.ts';
import { workspace } from '../workspace.ts';

const PRESENCE_LABELS: Record<Presence, string> = { available: 'Available', break: 'On break', offline: 'Offline' };
const ROLE_LABELS: Record<string, string> = { csr: 'Customer service', supervisor: 'Supervisor', fraud_analyst: 'Fraud analyst', admin: 'Administrator', auditor: 'Auditor' };
const CONNECTION_LABELS: Record<ConnectionState, string> = { connecting: 'Connecting…', online: 'Connected', reconnecting: 'Reconnecting…', refused: 'Disconnected' };

function PresenceSelector() {
  const ws = workspace.value;
  const desk = ws?.agent?.desk ?? ws?.fraud?.desk;
  const socket = ws?.agent?.socket ?? ws?.fraud?.socket;
  const selectRef = useRef<HTMLSelectElement>(null);
  useShortcuts([{ ...SHORTCUT_KEYS.presence, description: 'Change your presence', run: () => selectRef.current?.focus() }], []);
  if (!desk || !socket) return null;
  const presence = desk.agent.value?.presence;
  const connection = socket.state.value;
  return (
    <div class="topbar__presence">
      <label for="presence-select" class="topbar__label">
        Presence
      </label>
      <span class={`presence-dot presence-dot--${presence ?? 'offline'}`} aria-hidden="true" />
      <select
        id="presence-select"
        ref={selectRef}
        aria-keyshortcuts={SHORTCUT_KEYS.presence.keys}
        value={presence ?? ''}
        disabled={!presence || connection !== 'online'}
        onChange={(event) => {
          const next = event.currentTarget.value as Presence;
          desk.setPresence(next).catch((error: Error) => announce(`Presence not changed: ${error.message}`, 'assertive'));
        }}
      >
        {presence ? null : <option value="">—</option>}
        {PRESENCES.map((p) => (
          <option value={p} key={p}>
            {PRESENCE_LABELS[p]}
          </option>
        ))}
      </select>
      <span class={`connection connection--${connection}`} role="status">
        {CONNECTION_LABELS[connection]}
      </span>
    </div>
  );
}

export function TopBar() {
  const user = session.value?.user;
  return (
    <header class="topbar">
      <div class="brand">
        <span class="brand__mark" aria-hidden="true" />
        <span class="brand__name">Mintdesk</span>
      </div>
      <nav class="topbar__nav" aria-label="Screens">
        {allowedScreens.value.map((screen) => (
          <a key={screen.id} href={`#/${screen.id}`} class="topbar__link" aria-current={currentScreen.value === screen.id ? 'page' : undefined}>
            {screen.title}
          </a>
        ))}
      </nav>
      <PresenceSelector />
      <div class="topbar__user">
        <span class="topbar__name">{user?.displayName}</span>
        <span class="topbar__role">{ROLE_LABELS[user?.role ?? ''] ?? user?.role}</span>
      </div>
      <button type="button" class="button button--ghost" aria-keyshortcuts={SHORTCUT_KEYS.help.keys} onClick={() => (helpOpen.value = true)}>
        Shortcuts
      </button>
      <button type="button" class="button button--ghost" onClick={() => void signOut()}>
        Sign out
      </button>
    </header>
  );
}
