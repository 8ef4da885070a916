export const AUTHORIZATION_EVENTS = [] as const;
