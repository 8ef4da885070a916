import 'reflect-metadata';
import { NatsRecordSerializer } from '@nestjs/microservices/serializers/nats-record.serializer';
import { JsonText, jsonResponseOf } from './json-reply';
import { JsonReplySerializer } from './microservice';

describe('JsonText replies (a page a service keeps serialized, forwarded by the gateway as it is)', () => {
  const ours = new JsonReplySerializer();
  const nests = new NatsRecordSerializer();
  const id = '6f1c0c52-3f0e-4a43-9a39-4a1c5a2f8a10';
  const page = { items: [{ id: 'u1', name: 'Zoë "Z" \\ Ünal', roles: [{ id: 'r', name: 'Member' }] }], nextCursor: null };
  const decode = (data: Uint8Array) => JSON.parse(Buffer.from(data).toString('utf8')) as unknown;

  it('is written into the envelope as it is, which any client decodes as it decodes every other reply', () => {
    const text = new JsonText(JSON.stringify(page));
    const wire = ours.serialize({ id, isDisposed: true, response: text });
    expect(decode(wire.data)).toEqual(decode(nests.serialize({ id, isDisposed: true, response: page }).data));
    expect(Buffer.from(wire.data).toString('utf8')).toContain(text.json);
  });

  it("gives back exactly the response's bytes, to the request of that id only", () => {
    const json = JSON.stringify(page);
    const wire = ours.serialize({ id, isDisposed: true, response: new JsonText(json) }).data;
    expect(jsonResponseOf(wire, id)?.toString('utf8')).toBe(json);
    expect(jsonResponseOf(wire, id.replace('6f', '7f'))).toBeUndefined();
    // a reply written by Nest's own serializer (its packet is built as { response, isDisposed }, then the id), or an error reply: decoded as before
    expect(jsonResponseOf(nests.serialize(Object.assign({ response: page, isDisposed: true }, { id })).data, id)).toBeUndefined();
    const error = ours.serialize({ id, isDisposed: true, err: { code: 'NOT_FOUND', message: 'no' }, response: new JsonText(json) }).data;
    expect(jsonResponseOf(error, id)).toBeUndefined();
    expect(decode(error)).toMatchObject({ err: { code: 'NOT_FOUND' } });
  });

  it('is its value wherever it is serialized as a value', () => {
    expect(JSON.parse(JSON.stringify({ page: new JsonText(JSON.stringify(page)) }))).toEqual({ page });
  });
});
