export function AuditLogs() {
  return <h1>AuditLogs</h1>;
}
