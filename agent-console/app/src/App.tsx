import { CannedScreen } from './admin/CannedScreen.tsx';
import { assertiveMessage, politeMessage } from './announce.ts';
import { IdleWarning } from './components/IdleWarning.tsx';
import { ShortcutHelp } from './components/ShortcutHelp.tsx';
import { TopBar } from './components/TopBar.tsx';
import { DeskScreen } from './desk/DeskScreen.tsx';
import { FloorScreen } from './floor/FloorScreen.tsx';
import { FraudScreen } from './fraud/FraudScreen.tsx';
import { currentScreen } from './router.ts';
import { session } from './session.ts';
import { SignIn } from './SignIn.tsx';
import { workspace } from './workspace.ts';

function Screen() {
  const ws = workspace.value;
  switch (currentScreen.value) {
    case 'desk':
      return ws?.agent ? <DeskScreen desk={ws.agent} /> : null;
    case 'fraud':
      return ws?.fraud ? <FraudScreen desk={ws.fraud} /> : null;
    case 'floor':
      return ws?.supervisor ? <FloorScreen supervisor={ws.supervisor} /> : null;
    case 'canned':
      return <CannedScreen />;
    default:
      return (
        <main id="main" class="empty-screen" tabIndex={-1}>
          <h1>Nothing to work on here</h1>
          <p>Your role has no console screen. The audit tools are in the API.</p>
        </main>
      );
  }
}

export function App() {
  return (
    <>
      <div class="sr-only" aria-live="polite" aria-atomic="true" data-testid="announcer">
        {politeMessage.value}
      </div>
      <div class="sr-only" aria-live="assertive" aria-atomic="true">
        {assertiveMessage.value}
      </div>
      {session.value ? (
        <div class="shell">
          <a class="skip-link" href="#main">
            Skip to the work area
          </a>
          <TopBar />
          <Screen />
          <IdleWarning />
          <ShortcutHelp />
        </div>
      ) : (
        <SignIn />
      )}
    </>
  );
}
