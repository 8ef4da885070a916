import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';
import { NameDescriptionPatch } from '../common/name-description.dto';

export class CreateGroupDto {
  @ApiProperty({ maxLength: 100 })
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiPropertyOptional({ maxLength: 1000, default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;

  @ApiPropertyOptional({ type: [String], description: 'user ids of members of the organization', maxItems: 1000 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID(undefined, { each: true })
  memberIds?: string[];
}

export class UpdateGroupDto extends NameDescriptionPatch {
  @ApiPropertyOptional({ type: [String], maxItems: 1000 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID(undefined, { each: true })
  addMemberIds?: string[];

  @ApiPropertyOptional({ type: [String], maxItems: 1000 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID(undefined, { each: true })
  removeMemberIds?: string[];
}

class GroupRole {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
}
export class GroupResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: [String] }) memberIds: string[];
  @ApiProperty({ type: GroupRole }) role: GroupRole;
}
export class GroupPage {
  @ApiProperty({ type: [GroupResponse] }) items: GroupResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
