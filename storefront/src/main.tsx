import { render } from 'preact';
import { App } from './app.tsx';
import { loadCart, loadConfig, restoreSession } from './lib/store.ts';

/*
 * The storefront: Preact, built by Vite into hashed files (npm run build:storefront).
 *
 * Rules this bundle keeps:
 * - Untrusted text (product names, server messages, addresses) reaches the page only as text:
 *   JSX escapes it, and nothing here sets HTML from a string.
 * - The card number and security code live in the checkout form's state and, during one
 *   placement, in the request body in memory. They are never stored or logged.
 * - One Idempotency-Key per checkout attempt, reused on every retry of it, so a lost response
 *   cannot turn into a second order.
 */
render(<App />, document.getElementById('app')!);

// The live-chat widget is the console's own bundle (agent-console/widget), served at /chat-widget/;
// it fills #mintdesk-chat. Loaded here rather than from index.html so Vite does not try to bundle it.
const chatWidget = document.createElement('script');
chatWidget.type = 'module';
chatWidget.src = '/chat-widget/widget.js';
document.body.append(chatWidget);

void loadConfig();
// The cart may belong to the signed-in customer: the session is restored before it is read.
void restoreSession().then(() => loadCart());
