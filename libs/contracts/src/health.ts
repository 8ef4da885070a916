/** Reply of every service's `qry.<service>.health`. */
export interface HealthReply {
  service: string;
  ok: boolean;
  checks: Record<string, 'up' | 'down'>;
}
