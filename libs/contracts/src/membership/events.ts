export const MEMBERSHIP_EVENTS = [] as const;
