import { signal } from '@preact/signals';

/**
 * What screen readers are told of things that happen without the user's doing (a new offer, a
 * message in another tab, the session about to end). Two live regions: polite and assertive.
 */
export const politeMessage = signal('');
export const assertiveMessage = signal('');

let counter = 0;
export function announce(text: string, urgency: 'polite' | 'assertive' = 'polite'): void {
  // The same text twice in a row must be read twice: alternate an invisible suffix.
  counter += 1;
  const value = counter % 2 === 0 ? text : `${text}\u00a0`;
  if (urgency === 'assertive') assertiveMessage.value = value;
  else politeMessage.value = value;
}
