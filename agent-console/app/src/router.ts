import { computed, signal } from '@preact/signals';
import type { Permission } from '../../../api/staff/permissions.ts';
import { permissions } from './session.ts';

/** The console's screens, each behind the permission that its work needs (the server checks again). */
export const SCREENS = [
  { id: 'desk', title: 'Desk', permission: 'chat:handle' },
  { id: 'fraud', title: 'Fraud reviews', permission: 'fraud:review' },
  { id: 'floor', title: 'Floor', permission: 'chat:monitor' },
  { id: 'canned', title: 'Canned responses', permission: 'chat:canned_manage' },
] as const satisfies readonly { id: string; title: string; permission: Permission }[];
export type ScreenId = (typeof SCREENS)[number]['id'];

const hashRoute = () => location.hash.replace(/^#\/?/, '').split('/')[0] ?? '';
export const requested = signal(hashRoute());
window.addEventListener('hashchange', () => {
  requested.value = hashRoute();
});

export const allowedScreens = computed(() => SCREENS.filter((screen) => permissions.value.includes(screen.permission)));

/** The requested screen if the role may see it, else the role's first screen (null: none). */
export const currentScreen = computed<ScreenId | null>(() => {
  const allowed = allowedScreens.value;
  return (allowed.find((s) => s.id === requested.value) ?? allowed[0])?.id ?? null;
});

export function go(screen: ScreenId) {
  location.hash = `#/${screen}`;
}
