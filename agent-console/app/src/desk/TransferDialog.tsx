import { useEffect, useState } from 'preact/hooks';
import type { z } from 'zod';
import type { TransferCandidate, TransferTarget } from '../../../../api/console-contract/events.ts';
import { Dialog } from '../components/Dialog.tsx';

type Candidate = z.infer<typeof TransferCandidate>;
type Target = z.input<typeof TransferTarget>;

/** Transfer a chat to another available agent, or back to the queue (it keeps its place by age). */
export function TransferDialog(props: { open: boolean; loadCandidates: () => Promise<Candidate[]>; onTransfer: (to: Target) => Promise<void>; onClose: () => void }) {
  const [candidates, setCandidates] = useState<Candidate[] | null>(null);
  const [kind, setKind] = useState<'agent' | 'queue'>('agent');
  const [agentId, setAgentId] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!props.open) return;
    setError(null);
    setCandidates(null);
    props.loadCandidates().then(
      (list) => {
        setCandidates(list);
        setAgentId(list[0]?.staffUserId ?? '');
        setKind(list.length ? 'agent' : 'queue');
      },
      (e: Error) => setError(e.message),
    );
  }, [props.open]);

  async function submit(event: Event) {
    event.preventDefault();
    if (kind === 'agent' && !agentId) return setError('Choose an agent.');
    setBusy(true);
    try {
      await props.onTransfer(kind === 'agent' ? { kind: 'agent', staffUserId: agentId } : { kind: 'queue' });
      props.onClose();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog open={props.open} title="Transfer chat" onClose={props.onClose}>
      <form onSubmit={submit}>
        <fieldset class="radio-group">
          <legend>Transfer to</legend>
          <label>
            <input type="radio" name="transfer-kind" value="agent" checked={kind === 'agent'} disabled={!candidates?.length} onChange={() => setKind('agent')} /> Another agent
          </label>
          <label>
            <input type="radio" name="transfer-kind" value="queue" checked={kind === 'queue'} onChange={() => setKind('queue')} /> Back to the chat queue
          </label>
        </fieldset>
        {kind === 'agent' ? (
          <>
            <label for="transfer-agent">Agent</label>
            <select id="transfer-agent" value={agentId} onChange={(e) => setAgentId(e.currentTarget.value)}>
              {(candidates ?? []).map((c) => (
                <option key={c.staffUserId} value={c.staffUserId}>
                  {c.displayName} ({c.presence}, {c.spareChatCapacity} free)
                </option>
              ))}
            </select>
          </>
        ) : null}
        {candidates && candidates.length === 0 ? <p class="hint">No other agent is available with a free chat slot.</p> : null}
        {error ? <p class="notice notice--error" role="alert">{error}</p> : null}
        <div class="dialog__actions">
          <button type="submit" class="button button--primary" disabled={busy || candidates === null}>
            Transfer
          </button>
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Ask a supervisor to look at this chat (they see the invitation on the floor). */
export function InviteDialog(props: { open: boolean; onInvite: (note: string) => Promise<void>; onClose: () => void }) {
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog open={props.open} title="Invite a supervisor" onClose={props.onClose}>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          try {
            await props.onInvite(note.trim());
            setNote('');
            props.onClose();
          } catch (e) {
            setError((e as Error).message);
          }
        }}
      >
        <label for="invite-note">Note for the supervisor (optional)</label>
        <textarea id="invite-note" rows={3} maxLength={300} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
        {error ? <p class="notice notice--error" role="alert">{error}</p> : null}
        <div class="dialog__actions">
          <button type="submit" class="button button--primary">
            Invite
          </button>
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Confirms ending a chat, so a stray shortcut does not end one. Enter confirms. */
export function EndDialog(props: { open: boolean; visitor: string; onEnd: () => Promise<void>; onClose: () => void }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog open={props.open} title="End this chat?" onClose={props.onClose} describedBy="end-chat-text">
      <p id="end-chat-text">{props.visitor} will see that the chat has ended. You then wrap it up.</p>
      {error ? <p class="notice notice--error" role="alert">{error}</p> : null}
      <div class="dialog__actions">
        <button
          type="button"
          class="button button--danger"
          autoFocus
          onClick={async () => {
            try {
              await props.onEnd();
              props.onClose();
            } catch (e) {
              setError((e as Error).message);
            }
          }}
        >
          End chat
        </button>
        <button type="button" class="button" onClick={props.onClose}>
          Keep chatting
        </button>
      </div>
    </Dialog>
  );
}
