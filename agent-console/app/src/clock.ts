import { signal } from '@preact/signals';

/** The current time, updated every second: every countdown and "time in state" reads this one signal. */
export const now = signal(Date.now());
setInterval(() => {
  now.value = Date.now();
}, 1000);
