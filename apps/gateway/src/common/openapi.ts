import type { OpenAPIObject } from '@nestjs/swagger';
import type { HeadersObject, OperationObject, ResponseObject, ResponsesObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ErrorCode } from '@app/contracts';
import type { PermissionRequirement } from '../auth/permission.decorator';
import { TITLES } from './service-error';

type Responses = ResponsesObject;

const WRITE_METHODS = new Set(['post', 'put', 'patch', 'delete']);
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

const PROBLEM = {
  type: 'object',
  description:
    'RFC 9457 problem details. `code` is stable and is what clients branch on; facts about a refusal are extra members ' +
    '(e.g. `projects` with OWNS_PROJECTS, `permissions` with PRIVILEGE_ESCALATION, `retryAfterSeconds` with RATE_LIMITED, ' +
    '`idempotencyKey` with OUTCOME_UNKNOWN).',
  required: ['type', 'title', 'status', 'detail', 'code'],
  additionalProperties: true,
  properties: {
    type: { type: 'string', format: 'uri', example: 'https://docs.people-platform.dev/problems/not-found' },
    title: { type: 'string', example: 'Not Found' },
    status: { type: 'integer', example: 404 },
    detail: { type: 'string', example: 'organization not found' },
    code: { type: 'string', enum: Object.values(ErrorCode), example: ErrorCode.NOT_FOUND },
    errors: {
      type: 'array',
      description: 'VALIDATION_FAILED: one entry per refused field',
      items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

/** What each status means in every operation that can answer it (an operation's own description wins). */
const ERROR_MEANINGS: Record<number, string> = {
  400: 'VALIDATION_FAILED (or another 400 code): the request is malformed; nothing changed',
  401: 'UNAUTHENTICATED: no token, an unknown or revoked token, or an ended session',
  403: 'FORBIDDEN: the caller lacks the permission the operation needs (named in `detail`)',
  404: 'NOT_FOUND: no such resource, or the caller is not a member of the organization',
  429: 'RATE_LIMITED: too many attempts; wait `Retry-After` seconds',
  500: 'INTERNAL: an unexpected error; nothing secret is in the body',
  503: 'SERVICE_UNAVAILABLE (nothing was done; retry) or OUTCOME_UNKNOWN (retry with the same Idempotency-Key)',
};

const problemResponse = (description: string, headers?: HeadersObject): ResponseObject => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  ...(headers ? { headers } : {}),
});

const LOCATION_HEADER = { description: 'the created resource (when the answer has an `id`)', schema: { type: 'string' } };
const REQUEST_ID_HEADER = { description: 'the request id (the one the client sent, or a generated one)', schema: { type: 'string' } };

/**
 * Completes what Nest's generator leaves out, the same way for every operation: the Problem schema on every
 * error response; 401 on authenticated operations, 403/404 on organization-scoped ones, 400 where input is
 * read, 500 and 503 everywhere; the Idempotency-Key and X-Request-Id headers; servers and security
 * schemes. A pure function of the generated document (docs/http.md).
 */
export function completeOpenApi(doc: OpenAPIObject): OpenAPIObject {
  const components = doc.components ?? {};
  components.schemas = { ...components.schemas, Problem: PROBLEM };
  components.securitySchemes = {
    bearer: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'opaque',
      description: 'A personal API token, or a session token from POST /api/v1/auth/login. Opaque strings, not JWTs.',
    },
  };
  components.parameters = {
    ...components.parameters,
    IdempotencyKey: {
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'Makes a write safe to retry: the same key with the same request gets the first answer again for 24 hours, and the write is applied once. ' +
        'A write sent without one that times out answers 503 OUTCOME_UNKNOWN with a generated key to retry with.',
      schema: { type: 'string', maxLength: 200 },
    },
    RequestId: {
      name: 'X-Request-Id',
      in: 'header',
      required: false,
      description: 'echoed back and written in the logs and the audit log',
      schema: { type: 'string', maxLength: 200 },
    },
  };
  doc.components = components;
  doc.servers = [{ url: '/', description: 'the gateway serving this document' }];

  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const secured = (op.security?.length ?? 0) > 0;
      if (!secured) op.security = [];
      op.description ??= describe(op, secured);
      const body = op.requestBody && 'content' in op.requestBody ? op.requestBody.content['application/json'] : undefined;
      const schemaName = body?.schema && '$ref' in body.schema ? body.schema.$ref.split('/').pop()! : '';
      if (body && !body.example && !body.examples && REQUEST_EXAMPLES[schemaName]) body.example = REQUEST_EXAMPLES[schemaName];
      const reads = Boolean(op.requestBody) || (op.parameters?.length ?? 0) > 0;
      const parameters = (op.parameters ??= []);
      parameters.push({ $ref: '#/components/parameters/RequestId' });
      if (WRITE_METHODS.has(method)) parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
      const wanted = [...(reads ? [400] : []), ...(secured ? [401] : []), ...(path.includes('{org}') ? [403, 404] : path.includes('{') ? [404] : []), 500, 503];
      op.responses = completeResponses(op.responses, wanted);
    }
  }
  return doc;
}

/** Who may call an operation, from its `x-permission` (the decorators the permission guard reads) or its security. */
function describe(op: OperationObject & { 'x-permission'?: PermissionRequirement }, secured: boolean): string {
  const who = (r: PermissionRequirement | undefined): string => {
    if (!secured) return 'No authentication.';
    switch (r?.kind) {
      case 'organization':
        return `Needs the organization permission \`${r.permission}\`: a caller who is not a member of the organization gets 404, a member without the permission 403.`;
      case 'project':
        return `Needs the project permission \`${r.permission}\` in this project: a caller who is not a member of the organization, or a project of another organization, gets 404; a member without the permission 403.`;
      case 'member':
        return 'Any member of the organization (anyone else gets 404).';
      default:
        return r?.serviceAccounts
          ? "Any authenticated user (a personal API token or a session token), or a service account's token."
          : 'Any authenticated user (a personal API token or a session token); a service account gets 403.';
    }
  };
  return `${op.summary ?? ''}. ${who(op['x-permission'])}`.replace(/^\. /, '');
}

/** An example of every JSON request body whose DTO has none of its own (what a client would send). */
const REQUEST_EXAMPLES: Record<string, Record<string, unknown>> = {
  LoginDto: { login: 'ann', password: 'correct horse battery staple' },
  ChangePasswordDto: { login: 'ann', currentPassword: 'the temporary password', newPassword: 'correct horse battery staple' },
  UpdateProfileDto: { name: 'Ann Smith', username: 'ann' },
  ChangeEmailDto: { email: 'ann@example.com' },
  CreateOrganizationDto: { name: 'Acme', slug: 'acme' },
  CreateGroupDto: { name: 'Developers', description: 'Everyone who ships code', memberIds: ['6f1c2a4e-8d5b-4c1a-9f3e-2b7d6a5c4e3f'] },
  UpdateGroupDto: { description: 'Everyone who ships code', addMemberIds: ['6f1c2a4e-8d5b-4c1a-9f3e-2b7d6a5c4e3f'] },
  CreateProjectDto: { name: 'api' },
  TransferProjectDto: { userId: '6f1c2a4e-8d5b-4c1a-9f3e-2b7d6a5c4e3f' },
  CreateRoleDto: { name: 'Deployer', description: 'Runs and stops jobs', scope: 'project', permissions: ['project.job.run', 'project.job.stop'] },
  ChangeRoleDto: { permissions: ['project.job.run', 'project.job.stop', 'project.job.rerun'] },
  CreateServiceAccountDto: { name: 'ci-deploy', description: 'Deploys from the CI pipeline', roleId: 'Member' },
  UpdateServiceAccountDto: { active: false },
  CreateServiceAccountTokenDto: { name: 'pipeline', expiresAt: '2027-06-30T00:00:00Z' },
  CheckPermissionsDto: { projectId: '0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b', permissions: ['project.job.run', 'project.view'] },
};

function completeResponses(responses: Responses, wanted: number[]): Responses {
  const out: Responses = {};
  for (const status of wanted)
    if (!(String(status) in responses))
      out[status] = problemResponse(
        ERROR_MEANINGS[status] ?? TITLES[status] ?? 'error',
        status === 401
          ? { 'WWW-Authenticate': { description: 'Bearer', schema: { type: 'string' } } }
          : status === 503
            ? { 'Retry-After': { schema: { type: 'integer' } } }
            : undefined,
      );
  for (const [status, response] of Object.entries(responses)) {
    const code = Number(status);
    if (!response) continue;
    if (code >= 400 && !('$ref' in response) && !response.content) {
      const headers = code === 429 ? { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } } : response.headers;
      out[status] = problemResponse(response.description || ERROR_MEANINGS[code] || 'error', headers);
    } else if (code < 300 && !('$ref' in response))
      out[status] = {
        ...response,
        headers: { ...response.headers, 'X-Request-Id': REQUEST_ID_HEADER, ...(code === 201 ? { Location: LOCATION_HEADER } : {}) },
      };
    else out[status] = response;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => Number(a) - Number(b)));
}
