/** Time source injected wherever a rule depends on the time, so tests can move it. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
