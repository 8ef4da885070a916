import type { AuditEntry } from '@app/contracts';

/**
 * CSV of audit entries (RFC 4180): CRLF line ends; a field holding a comma, a double quote, CR or LF is
 * quoted, with its double quotes doubled. Against formula injection in spreadsheets, a cell that starts with
 * `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP "CSV injection"): the value then
 * reads as text. docs/audit-log.md says so for whoever parses the export.
 */
export const CSV_COLUMNS = [
  'id',
  'timestamp',
  'actorId',
  'actorUsername',
  'resource',
  'resourceId',
  'resourceName',
  'operation',
  'description',
  'medium',
  'ip',
  'requestId',
  'metadata',
] as const;

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvRow = (values: unknown[]): string => `${values.map(csvCell).join(',')}\r\n`;

export const csvHeader = (): string => csvRow([...CSV_COLUMNS]);

export function entryRow(e: AuditEntry): string {
  return csvRow([
    e.id,
    e.timestamp,
    e.actor.id,
    e.actor.username,
    e.resource,
    e.resourceId,
    e.resourceName,
    e.operation,
    e.description,
    e.medium,
    e.ip,
    e.requestId,
    e.metadata,
  ]);
}
