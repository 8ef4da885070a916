import type { ExecutionContext, Type } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { ANSWERED_HERE, IS_PUBLIC } from './public.decorator';
import { REQUIRED_PERMISSION, type PermissionRequirement } from './permission.decorator';

/** What a route's decorators (on its handler, else on its controller) declare to the guards. */
export interface RouteRules {
  isPublic: boolean;
  answeredHere: boolean;
  requirement?: PermissionRequirement;
}

/** by controller, then handler: decorators do not change once the app is built */
const known = new WeakMap<Type, WeakMap<object, RouteRules>>();

/**
 * The route's rules, read from its metadata once and then kept: the guards run on every request, and reading the
 * metadata (reflect-metadata, through Nest's Reflector) was a few per cent of a permission check's time.
 */
export function routeRules(reflector: Reflector, context: Pick<ExecutionContext, 'getHandler' | 'getClass'>): RouteRules {
  const handler = context.getHandler();
  const controller = context.getClass();
  let byHandler = known.get(controller);
  if (!byHandler) known.set(controller, (byHandler = new WeakMap()));
  let rules = byHandler.get(handler);
  if (!rules) {
    const targets = [handler, controller];
    rules = {
      isPublic: reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true,
      answeredHere: reflector.getAllAndOverride<boolean>(ANSWERED_HERE, targets) === true,
      requirement: reflector.getAllAndOverride<PermissionRequirement>(REQUIRED_PERMISSION, targets),
    };
    byHandler.set(handler, rules);
  }
  return rules;
}
