import { Injectable, type PipeTransform } from '@nestjs/common';
import { ErrorCode } from '@app/contracts';
import { ServiceError } from './service-error';

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id that is not a UUID names nothing: 404 NOT_FOUND, like an id of another organization (as the guard does for `:org`). */
@Injectable()
export class PathId implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !UUID_PATTERN.test(value)) throw new ServiceError({ code: ErrorCode.NOT_FOUND, message: 'not found' });
    return value.toLowerCase();
  }
}
