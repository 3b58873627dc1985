import { effect, signal } from '@preact/signals';
import { createAgentDesk, type AgentDesk } from './desk/agent-desk.ts';
import { createFraudDesk, type FraudDesk } from './fraud/fraud-desk.ts';
import { createSupervisor, type Supervisor } from './floor/supervisor.ts';
import { can, session } from './session.ts';

/**
 * The live connections of the signed-in user, one per namespace the role may use, opened at
 * sign-in and closed the moment the session ends (so nothing of it keeps arriving or showing).
 */
export interface Workspace {
  agent: AgentDesk | null;
  fraud: FraudDesk | null;
  supervisor: Supervisor | null;
}

export const workspace = signal<Workspace | null>(null);

let openedFor: string | null = null;
effect(() => {
  const token = session.value?.token ?? null;
  if (token === openedFor) return;
  const previous = workspace.peek();
  if (previous) {
    previous.agent?.close();
    previous.fraud?.close();
    previous.supervisor?.close();
  }
  openedFor = token;
  workspace.value = token
    ? {
        agent: can('chat:handle') ? createAgentDesk() : null,
        fraud: can('fraud:review') ? createFraudDesk() : null,
        supervisor: can('chat:monitor') ? createSupervisor() : null,
      }
    : null;
});
