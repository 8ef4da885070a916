import { qrySubject } from '../subjects';

export const AuditLogSubjects = {
  health: () => qrySubject('audit-log', 'health'),
  listEntries: () => qrySubject('audit-log', 'list-entries'),
};

export interface ListEntriesRequest {
  organizationId?: string | null;
  limit?: number;
}

export interface AuditEntry {
  id: string;
  eventId: string;
  timestamp: string;
  organizationId: string | null;
  actor: { id: string; username: string | null };
  resource: 'User' | 'Organization' | 'Group' | 'Role' | 'Project' | 'Member';
  resourceId: string;
  resourceName: string | null;
  operation: 'Added' | 'Removed' | 'Modified';
  description: string;
  medium: string;
  ip: string | null;
  requestId: string | null;
  metadata: Record<string, unknown>;
}
