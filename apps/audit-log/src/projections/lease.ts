/** The lease is the event store's (`@app/event-store`): membership's projections may run under one too. */
export { Lease } from '@app/event-store';
