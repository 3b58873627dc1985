import { signal } from '@preact/signals';
import { useEffect } from 'preact/hooks';

/**
 * Keyboard shortcuts. Alt+Shift+letter (by physical key, so keyboard layouts do not matter):
 * Alt alone opens browser menus on some systems, and Ctrl+Alt is AltGr on many layouts.
 * Each shortcut is registered by the screen that can act on it, so the help lists what works now.
 */
export interface Shortcut {
  /** KeyboardEvent.code, e.g. "KeyA" or "Digit1". */
  code: string;
  /** How it is written for people and aria-keyshortcuts, e.g. "Alt+Shift+A". */
  keys: string;
  description: string;
  run(): void;
  /** The open chat's shortcuts (1) win over the desk's fallbacks (0) for the same keys. */
  priority?: number;
}

/** The shortcut that answers a key: highest priority, then the most recently registered. */
export function activeShortcut(code: string): Shortcut | undefined {
  let found: Shortcut | undefined;
  for (const shortcut of registered.value) if (shortcut.code === code && (!found || (shortcut.priority ?? 0) >= (found.priority ?? 0))) found = shortcut;
  return found;
}

export const registered = signal<Shortcut[]>([]);
export const helpOpen = signal(false);

export const SHORTCUT_KEYS = {
  accept: { code: 'KeyA', keys: 'Alt+Shift+A' },
  decline: { code: 'KeyD', keys: 'Alt+Shift+D' },
  end: { code: 'KeyE', keys: 'Alt+Shift+E' },
  wrapUp: { code: 'KeyW', keys: 'Alt+Shift+W' },
  composer: { code: 'KeyM', keys: 'Alt+Shift+M' },
  presence: { code: 'KeyP', keys: 'Alt+Shift+P' },
  nextTab: { code: 'BracketRight', keys: 'Alt+Shift+]' },
  previousTab: { code: 'BracketLeft', keys: 'Alt+Shift+[' },
  help: { code: 'Slash', keys: 'Alt+Shift+/' },
} as const;

/** Registers shortcuts while the calling component is mounted. */
export function useShortcuts(list: Shortcut[], deps: unknown[]): void {
  useEffect(() => {
    registered.value = [...registered.value, ...list];
    return () => {
      registered.value = registered.value.filter((shortcut) => !list.includes(shortcut));
    };
  }, deps);
}

function isTyping(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return Boolean(element && (element.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(element.tagName)));
}

export function installShortcutListener(): () => void {
  const listener = (event: KeyboardEvent) => {
    if (event.altKey && event.shiftKey && !event.ctrlKey && !event.metaKey) {
      if (event.code === SHORTCUT_KEYS.help.code) {
        event.preventDefault();
        helpOpen.value = !helpOpen.value;
        return;
      }
      const shortcut = activeShortcut(event.code);
      if (shortcut) {
        event.preventDefault();
        shortcut.run();
      }
      return;
    }
    if (event.key === '?' && !isTyping(event.target) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      helpOpen.value = true;
    }
  };
  window.addEventListener('keydown', listener);
  return () => window.removeEventListener('keydown', listener);
}
