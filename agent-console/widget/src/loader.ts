import cssUrl from './widget.css?url';

/**
 * The storefront chat widget's entry (`<script type="module" src="/chat-widget/widget.js">`):
 * tiny and revalidated on every load; it pulls in the hashed app chunk and stylesheet. The widget
 * lives in a shadow root, so the store's styles and the widget's never touch each other. It mounts
 * in `#mintdesk-chat` when the page has one, else at the end of the body.
 */
const host = document.getElementById('mintdesk-chat') ?? document.body.appendChild(Object.assign(document.createElement('div'), { id: 'mintdesk-chat' }));
const root = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
const stylesheet = document.createElement('link');
stylesheet.rel = 'stylesheet';
stylesheet.href = cssUrl;
const mount = document.createElement('div');
mount.className = 'mdw-root';
root.append(stylesheet, mount);
const { mountWidget } = await import('./ChatWidget.tsx');
mountWidget(mount);
