import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { IsRoleRef, ROLE_REF_DESCRIPTION } from '../common/role-ref';

export class AssignRoleDto {
  @ApiProperty({ description: `an organization-scope role: ${ROLE_REF_DESCRIPTION} (Admin: the organization Admin)`, example: 'Admin' })
  @IsRoleRef()
  roleId: string;
}

export class AssignProjectRoleDto {
  @ApiProperty({ description: `a project-scope role: ${ROLE_REF_DESCRIPTION} (Admin: the project Admin)`, example: 'Contributor' })
  @IsRoleRef()
  roleId: string;

  @ApiProperty({ enum: ['user', 'group'] })
  @IsIn(['user', 'group'])
  subjectType: 'user' | 'group';
}

export class BindingResponse {
  @ApiProperty({ enum: ['user', 'group'] }) subjectType: 'user' | 'group';
  @ApiProperty({ format: 'uuid' }) subjectId: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) projectId: string | null;
  @ApiProperty({ example: { id: '…', name: 'Admin' } }) role: { id: string; name: string };
}

class ProjectMemberRole {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['project', 'organization'], description: 'organization: given in every project by the organization role' }) source:
    | 'project'
    | 'organization';
  @ApiPropertyOptional({ description: 'the organization role it comes from' }) organizationRole?: { id: string; name: string };
}

class ProjectMember {
  @ApiProperty({ enum: ['user', 'group'] }) type: 'user' | 'group';
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: "a user's username (kept for compatibility; the same as `username`), a group's name" }) name: string;
  @ApiPropertyOptional({ description: "a user's username (handle); absent for a group" }) username?: string;
  @ApiProperty({ type: [ProjectMemberRole] }) roles: ProjectMemberRole[];
}

export class ProjectMembersResponse {
  @ApiProperty({ type: [ProjectMember] }) items: ProjectMember[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
