import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEventsDoc } from '../libs/contracts/src/events-doc';

writeFileSync(join(__dirname, '../docs/events.md'), renderEventsDoc());
process.stdout.write('docs/events.md written\n');
