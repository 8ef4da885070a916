import { Transport, type NatsOptions } from '@nestjs/microservices';
import type { ServiceName } from '@app/contracts';

/**
 * NATS transport of a service: request/reply on `cmd.<service>.…` / `qry.<service>.…` subjects in a queue
 * group named after the service, so replicas share the load.
 */
export function natsMicroserviceOptions(service: ServiceName, natsUrl: string): NatsOptions {
  return {
    transport: Transport.NATS,
    options: {
      servers: natsUrl.split(','),
      queue: `${process.env.NATS_SUBJECT_PREFIX ?? ''}${service}`,
      name: service,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    },
  };
}
