import { render } from 'preact';
import { App } from './App.tsx';
import { restoreSession } from './session.ts';
import { installShortcutListener } from './shortcuts.ts';
import './styles.css';

installShortcutListener();
await restoreSession();
render(<App />, document.getElementById('app')!);
