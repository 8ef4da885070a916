import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { EntityName } from '@app/contracts';
import { IsTextField } from '../common/text-fields.dto';

export class CreateProjectDto {
  @ApiProperty({ maxLength: 100 })
  @IsTextField(EntityName)
  name: string;
}

export class TransferProjectDto {
  @ApiProperty({ format: 'uuid', description: 'a member of the organization' })
  @IsUUID()
  userId: string;
}

export class ProjectResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ format: 'uuid' }) ownerId: string;
}
export class ProjectPage {
  @ApiProperty({ type: [ProjectResponse] }) items: ProjectResponse[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
