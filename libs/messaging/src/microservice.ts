import { Transport, type NatsOptions } from '@nestjs/microservices';
import type { ServiceName } from '@app/contracts';

/**
 * NATS transport of a service: request/reply on `cmd.<service>.…` / `qry.<service>.…` subjects in a queue
 * group named after the service, so replicas share the load. The queue group is namespaced with the subject
 * prefix of the service's configuration (given, not read from the environment here).
 */
export function natsMicroserviceOptions(service: ServiceName, natsUrl: string, subjectPrefix: string): NatsOptions {
  return {
    transport: Transport.NATS,
    options: {
      servers: natsUrl.split(','),
      queue: `${subjectPrefix}${service}`,
      name: service,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    },
  };
}
