import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { checkMessage, DomainError, messageSchemaOf } from '@app/contracts';

/**
 * The edge of every service: the body of each message is checked against the schema of its subject
 * (`messageSchemaOf`, libs/contracts: defined once next to the subject) before any handler runs, and replaced by
 * its normalized form (UUIDs lower-cased, text fields as fields.ts normalizes them), so a handler gets the typed
 * body and checks nothing of its shape itself. A body that breaks its schema is refused with the field's code
 * and a message naming the field (VALIDATION_FAILED unless the field says otherwise), and nothing runs. A
 * subject without a schema is a programming error (a unit test checks every subject has one): refused as
 * INTERNAL, never handled unchecked.
 */
@Injectable()
export class MessageContractGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'rpc') return true;
    const rpc = context.switchToRpc();
    const subject = rpc.getContext<NatsContext>().getSubject();
    const schema = messageSchemaOf(subject);
    if (!schema) throw new Error(`no message contract for ${subject}`);
    const message = rpc.getData<{ body?: unknown }>();
    const checked = checkMessage(schema, message.body);
    if (!checked.ok) throw new DomainError(checked.refusal.code, checked.refusal.message);
    message.body = checked.body;
    return true;
  }
}
