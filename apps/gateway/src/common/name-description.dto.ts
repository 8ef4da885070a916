import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { Description, EntityName } from '@app/contracts';
import { IsTextField } from './text-fields.dto';

/** The optional `name` and `description` of a PATCH body (groups, roles): the same limits as on create. */
export class NameDescriptionPatch {
  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptional()
  @IsTextField(EntityName)
  name?: string;

  @ApiPropertyOptional({ maxLength: 1000 })
  @IsOptional()
  @IsTextField(Description)
  description?: string;
}
