import { Readable } from 'node:stream';
import { Controller, Get, Param, Query, Req, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AUDIT_PAGE_MAX, AuditLogSubjects, type ListEntriesReply, type ListEntriesRequest } from '@app/contracts';
import { RequirePermission } from '../auth/permission.decorator';
import { PathId } from '../common/path-id.pipe';
import { ServicesClient } from '../common/services.client';
import type { GatewayRequest } from '../common/request-context';
import { csvHeader, entryRow } from './audit-csv';
import { AuditLogFilterDto, AuditLogPageResponse, AuditLogQueryDto } from './audit-logs.dto';

@ApiTags('audit log')
@ApiBearerAuth()
@Controller('organizations/:org/audit-logs')
export class AuditLogsController {
  constructor(private readonly services: ServicesClient) {}

  private page(org: string, filters: ListEntriesRequest, req: GatewayRequest): Promise<ListEntriesReply> {
    return this.services.call<ListEntriesReply>(AuditLogSubjects.listEntries(), { ...filters, organizationId: org }, req);
  }

  @ApiOperation({ operationId: 'listAuditLog', summary: 'List audit log entries, newest first' })
  @Get()
  @RequirePermission('organization.audit_logs.view')
  @ApiOkResponse({ type: AuditLogPageResponse, description: 'newest first; `nextCursor` pages to older entries' })
  async list(@Param('org', PathId) org: string, @Query() query: AuditLogQueryDto, @Req() req: GatewayRequest) {
    const reply = await this.page(org, { ...query }, req);
    return { items: reply.items, nextCursor: reply.nextCursor };
  }

  /**
   * The whole filtered log as CSV, newest first, streamed: one page of 500 at a time from the audit-log
   * service, the next asked for only once the client has taken the previous one (the stream holds one
   * chunk), so memory stays constant whatever the size. The first page is read before any byte is sent, so
   * bad filters are still a problem+json 400. A page that fails later cuts the response (the client sees an
   * incomplete download, not a short file), as does a client that goes away (no page is asked for after).
   */
  @ApiOperation({ operationId: 'exportAuditLog', summary: 'Export audit log entries as CSV' })
  @Get('export')
  @RequirePermission('organization.audit_logs.view')
  @ApiProduces('text/csv')
  @ApiOkResponse({
    description: "text/csv with a header row (RFC 4180; cells starting with = + - @ get a leading ')",
    content: { 'text/csv': { schema: { type: 'string' } } },
  })
  async export(
    @Param('org', PathId) org: string,
    @Query() query: AuditLogFilterDto,
    @Req() req: GatewayRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<StreamableFile> {
    const filters: ListEntriesRequest = { ...query, limit: AUDIT_PAGE_MAX };
    const first = await this.page(org, filters, req);
    res.header('Cache-Control', 'no-store');
    return new StreamableFile(Readable.from(this.csv(org, filters, first, req), { objectMode: false, highWaterMark: 1 }), {
      type: 'text/csv; charset=utf-8',
      disposition: `attachment; filename="audit-log-${org.replace(/[^A-Za-z0-9-]/g, '')}.csv"`,
    });
  }

  private async *csv(org: string, filters: ListEntriesRequest, first: ListEntriesReply, req: GatewayRequest): AsyncGenerator<string> {
    yield csvHeader();
    for (let page = first; ; page = await this.page(org, { ...filters, cursor: page.nextCursor, consistent: false }, req)) {
      yield page.items.map(entryRow).join('');
      if (!page.nextCursor) return;
    }
  }
}
