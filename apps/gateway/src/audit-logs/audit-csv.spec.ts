import type { AuditEntry } from '@app/contracts';
import { parseCsv } from '@app/testing';
import { CSV_COLUMNS, csvCell, csvHeader, entryRow } from './audit-csv';

const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  id: 'e1',
  eventId: 'ev1',
  timestamp: '2026-03-01T10:00:00.000Z',
  organizationId: 'o1',
  actor: { id: 'u1', username: 'alice' },
  resource: 'User',
  resourceId: 'u2',
  resourceName: 'bob',
  operation: 'Modified',
  description: 'changed name from "Bob" to "Bobby, Jr."',
  medium: 'api',
  ip: '10.0.0.1',
  requestId: 'r1',
  metadata: { name: 'Bobby, Jr.', previousName: 'Bob' },
  ...over,
});

describe('audit CSV writer', () => {
  it('writes a header row with every column, CRLF terminated', () => {
    expect(csvHeader()).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
  });

  it('quotes fields with commas, quotes and line breaks (RFC 4180) and reads back to the same values', () => {
    const e = entry({ resourceName: 'line1\nline2', description: 'a "quoted", b' });
    const [row] = parseCsv(entryRow(e));
    expect(row).toHaveLength(CSV_COLUMNS.length);
    expect(row[CSV_COLUMNS.indexOf('resourceName')]).toBe('line1\nline2');
    expect(row[CSV_COLUMNS.indexOf('description')]).toBe('a "quoted", b');
    expect(JSON.parse(row[CSV_COLUMNS.indexOf('metadata')])).toEqual(e.metadata);
    expect(row[CSV_COLUMNS.indexOf('actorUsername')]).toBe('alice');
  });

  it('leaves plain fields unquoted and writes null as an empty field', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(null)).toBe('');
    expect(parseCsv(entryRow(entry({ ip: null, requestId: null })))[0][CSV_COLUMNS.indexOf('ip')]).toBe('');
  });

  it.each(['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\tx', '\rx'])('neutralises a formula-looking cell %j with a leading quote', (v) => {
    const [row] = parseCsv(entryRow(entry({ resourceName: v })));
    expect(row[CSV_COLUMNS.indexOf('resourceName')]).toBe(`'${v}`);
  });

  it('does not touch values that merely contain those characters later', () => {
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell('2026-03-01')).toBe('2026-03-01');
  });
});
