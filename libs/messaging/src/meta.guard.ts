import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { DomainError, ErrorCode } from '@app/contracts';

const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length >= 1 && v.length <= max;

/**
 * Every message a service handles is `{ meta, body }` with a command id and an actor (docs/architecture.md,
 * Messaging): ids derive from the command id and the event store keys commits by it, so a message without one
 * is refused (VALIDATION_FAILED) before any handler runs, whoever sent it.
 */
@Injectable()
export class MessageMetaGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'rpc') return true;
    const meta = (context.switchToRpc().getData() as { meta?: { commandId?: unknown; actor?: { id?: unknown } } } | undefined)?.meta;
    if (!meta || !isText(meta.commandId, 200) || !isText(meta.actor?.id, 200))
      throw new DomainError(ErrorCode.VALIDATION_FAILED, 'a message needs meta.commandId and meta.actor.id');
    return true;
  }
}
