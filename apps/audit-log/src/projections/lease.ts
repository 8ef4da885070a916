/** The lease is the event store's (`@app/event-store`): membership's people projection runs under one too. */
export { Lease } from '@app/event-store';
