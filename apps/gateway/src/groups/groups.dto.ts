import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, IsUUID, ValidateBy } from 'class-validator';
import { Description, EntityName } from '@app/contracts';
import { IsTextField } from '../common/text-fields.dto';
import { NameDescriptionPatch } from '../common/name-description.dto';

export class CreateGroupDto {
  @ApiProperty({ maxLength: 100 })
  @IsTextField(EntityName)
  name: string;

  @ApiPropertyOptional({ maxLength: 1000, default: '' })
  @IsOptional()
  @IsTextField(Description)
  description?: string;

  @ApiPropertyOptional({ type: [String], description: 'user ids of members of the organization', maxItems: 1000 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID(undefined, { each: true })
  memberIds?: string[];
}

export class UpdateGroupDto extends NameDescriptionPatch {
  @ApiPropertyOptional({
    type: [String],
    maxItems: 1000,
    description: 'the full new member list (user ids of members of the organization), as on create; not together with addMemberIds or removeMemberIds',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID(undefined, { each: true })
  @ValidateBy({
    name: 'member-list-alone',
    validator: {
      validate: (_: unknown, args) => {
        const o = args?.object as UpdateGroupDto | undefined;
        return o?.addMemberIds === undefined && o?.removeMemberIds === undefined;
      },
      defaultMessage: () => 'memberIds (the full new member list) cannot be combined with addMemberIds or removeMemberIds',
    },
  })
  memberIds?: string[];

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
