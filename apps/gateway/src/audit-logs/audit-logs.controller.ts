import { once } from 'node:events';
import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
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
   * service, each written out (waiting for the client to drain) before the next is asked for, so memory
   * stays constant whatever the size. The first page is read before any byte is sent, so bad filters are
   * still a problem+json 400.
   */
  @ApiOperation({ operationId: 'exportAuditLog', summary: 'Export audit log entries as CSV' })
  @Get('export')
  @RequirePermission('organization.audit_logs.view')
  @ApiProduces('text/csv')
  @ApiOkResponse({
    description: 'text/csv with a header row (RFC 4180; cells starting with = + - @ get a leading \')',
    content: { 'text/csv': { schema: { type: 'string' } } },
  })
  async export(@Param('org', PathId) org: string, @Query() query: AuditLogFilterDto, @Req() req: GatewayRequest, @Res() res: Response): Promise<void> {
    const filters: ListEntriesRequest = { ...query, limit: AUDIT_PAGE_MAX };
    let page = await this.page(org, filters, req);
    res.status(200);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="audit-log-${org.replace(/[^A-Za-z0-9-]/g, '')}.csv"`);
    res.setHeader('Cache-Control', 'no-store');
    let closed = false;
    res.on('close', () => (closed = true));
    const write = async (chunk: string) => {
      if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    };
    try {
      await write(csvHeader());
      for (;;) {
        await write(page.items.map(entryRow).join(''));
        if (!page.nextCursor || closed) break;
        page = await this.page(org, { ...filters, cursor: page.nextCursor, consistent: false }, req);
      }
      res.end();
    } catch {
      // headers are gone already: cut the response so the client sees an incomplete download, not a short file
      res.destroy();
    }
  }
}
