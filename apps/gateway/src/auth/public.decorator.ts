import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'isPublic';
/** The route needs no token. Every other route is authenticated by the global guard. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
