import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { AUDIT_OPERATIONS, AUDIT_PAGE_MAX, AUDIT_RESOURCES, type AuditOperation, type AuditResource } from '@app/contracts';

/** Filters shared by the list and the CSV export. */
export class AuditLogFilterDto {
  @ApiPropertyOptional({ format: 'date-time', description: 'entries at or after this time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'entries at or before this time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ description: 'user id of the actor (or `system`)' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9-]{1,64}$/)
  actorId?: string;

  @ApiPropertyOptional({ enum: AUDIT_RESOURCES })
  @IsOptional()
  @IsIn(AUDIT_RESOURCES)
  resource?: AuditResource;

  @ApiPropertyOptional({ enum: AUDIT_OPERATIONS })
  @IsOptional()
  @IsIn(AUDIT_OPERATIONS)
  operation?: AuditOperation;
}

export class AuditLogQueryDto extends AuditLogFilterDto {
  @ApiPropertyOptional({ description: 'opaque: the `nextCursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: AUDIT_PAGE_MAX, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(AUDIT_PAGE_MAX)
  limit?: number;
}

class AuditActor {
  @ApiProperty() id: string;
  @ApiProperty({ nullable: true, type: String }) username: string | null;
}

export class AuditEntryResponse {
  @ApiProperty() id: string;
  @ApiProperty({ description: 'the domain event it was written from' }) eventId: string;
  @ApiProperty({ format: 'uuid' }) organizationId: string;
  @ApiProperty({ format: 'date-time' }) timestamp: string;
  @ApiProperty({ type: AuditActor }) actor: AuditActor;
  @ApiProperty({ enum: AUDIT_RESOURCES }) resource: string;
  @ApiProperty() resourceId: string;
  @ApiProperty({ nullable: true, type: String }) resourceName: string | null;
  @ApiProperty({ enum: AUDIT_OPERATIONS }) operation: string;
  @ApiProperty() description: string;
  @ApiProperty({ enum: ['api', 'web', 'cli', 'system'] }) medium: string;
  @ApiProperty({ nullable: true, type: String }) ip: string | null;
  @ApiProperty({ nullable: true, type: String }) requestId: string | null;
  @ApiProperty({ type: Object }) metadata: Record<string, unknown>;
}

export class AuditLogPageResponse {
  @ApiProperty({ type: [AuditEntryResponse] }) items: AuditEntryResponse[];
  @ApiProperty({ nullable: true, type: String, description: 'pass as `cursor` for the next (older) page; null on the last page' })
  nextCursor: string | null;
}
