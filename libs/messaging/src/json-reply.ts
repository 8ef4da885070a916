/**
 * A reply a handler has already serialized as JSON (e.g. a page it keeps serialized): the service's NATS
 * serializer writes it into the reply as it is (`JsonReplySerializer`, microservice.ts), and a caller that
 * forwards it (`RpcClient.requestJson`) takes its bytes without parsing them. Anything else that serializes it
 * gets the value (`toJSON`).
 */
export class JsonText {
  constructor(readonly json: string) {}

  toJSON(): unknown {
    return JSON.parse(this.json);
  }
}

/**
 * How a reply that carries a `JsonText` starts on the wire: the @nestjs/microservices envelope with `response`
 * last, so the response's JSON is the rest of the reply but its closing brace. The envelope is still plain
 * JSON: any client decodes it as every other reply.
 */
export const jsonReplyPrefix = (id: string): string => `{"id":${JSON.stringify(id)},"isDisposed":true,"response":`;

/**
 * The response's JSON in a reply to the request `id`, when the reply was written around a `JsonText`
 * (`jsonReplyPrefix`, then the response, then `}`): a copy of those bytes. Otherwise undefined (decode it).
 */
export function jsonResponseOf(data: Uint8Array, id: string): Buffer | undefined {
  const prefix = jsonReplyPrefix(id);
  if (data.length <= prefix.length + 1 || data[data.length - 1] !== 0x7d) return undefined;
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
  if (bytes.toString('latin1', 0, prefix.length) !== prefix) return undefined;
  return Buffer.from(bytes.subarray(prefix.length, bytes.length - 1));
}
