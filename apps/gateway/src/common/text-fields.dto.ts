import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';
import type { TextField } from '@app/contracts';

/**
 * A body or query field of one of the text kinds of `libs/contracts/src/fields.ts`: normalized as the
 * services and the event contract expect (emails NFC and trimmed, names and descriptions trimmed), then
 * refused with the kind's own message when it breaks its rules. The service receives the normalized value.
 */
export function IsTextField(kind: TextField): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? kind.normalize(value) : value)),
    ValidateBy({
      name: `is-${kind.format}`,
      validator: {
        validate: (value: unknown) => kind.problem(value) === null,
        defaultMessage: (args) => kind.problem(args?.value, args?.property) ?? `${args?.property} is not valid`,
      },
    }),
  );
}
