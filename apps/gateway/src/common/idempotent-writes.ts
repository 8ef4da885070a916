import { RequestMethod, SetMetadata, UseInterceptors, type Type } from '@nestjs/common';
import { INTERCEPTORS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { IdempotencyInterceptor } from './idempotency.interceptor';

type Handler = (...args: never[]) => unknown;

const NOT_A_WRITE = 'gateway:not-a-write';
const READS = new Set([RequestMethod.GET, RequestMethod.HEAD, RequestMethod.OPTIONS]);

/** A POST that changes nothing (a question with a body, e.g. permissions/check): no `Idempotency-Key` handling. */
export const NotAWrite = () => SetMetadata(NOT_A_WRITE, true);

/** The route handlers of a controller, by method name. */
export function handlersOf(controller: Type): Array<{ key: string; descriptor: TypedPropertyDescriptor<Handler> & { value: Handler } }> {
  return Object.getOwnPropertyNames(controller.prototype).flatMap((key) => {
    if (key === 'constructor') return []; // the class: its path is the controller's
    const descriptor = Object.getOwnPropertyDescriptor(controller.prototype, key);
    const value: unknown = descriptor?.value;
    return typeof value === 'function' && Reflect.getMetadata(PATH_METADATA, value) !== undefined
      ? [{ key, descriptor: descriptor as TypedPropertyDescriptor<Handler> & { value: Handler } }]
      : [];
  });
}

/** A route that changes something: any method but GET/HEAD/OPTIONS, unless marked `@NotAWrite()`. */
export const isWriteRoute = (handler: Handler): boolean =>
  !READS.has(Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod) && !Reflect.getMetadata(NOT_A_WRITE, handler);

/** The interceptors a route runs. */
export const interceptorsOf = (handler: Handler): unknown[] => (Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as unknown[] | undefined) ?? [];

/**
 * Puts the IdempotencyInterceptor on every write route of `controllers`, and no interceptor on any other
 * route: a route with none skips Nest's interceptor pipeline (rxjs `defer`/`mergeAll` and an
 * `AsyncResource.bind` per interceptor and request), which was a fifth of the gateway's CPU on a read
 * (docs/http.md "What a request costs"). Applied once per handler, however often the module is built.
 */
export function idempotentWrites(controllers: Type[]): Type[] {
  for (const controller of controllers)
    for (const { key, descriptor } of handlersOf(controller))
      if (isWriteRoute(descriptor.value) && !interceptorsOf(descriptor.value).includes(IdempotencyInterceptor))
        UseInterceptors(IdempotencyInterceptor)(controller.prototype, key, descriptor);
  return controllers;
}
