// `precedent` command line: each command family registers itself from src/commands/.
import { Command } from 'commander';
import { registerServiceCommands } from './commands/serve.js';
import { registerImportCommand } from './commands/import.js';
import { registerQueryCommand } from './commands/query.js';
import { registerCasesCommands } from './commands/cases.js';
import { registerLabelsCommands } from './commands/labels.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerExportCommands } from './commands/exports.js';
import { registerStatusCommand } from './commands/status.js';
import { registerMonitorCommand } from './commands/monitor.js';

const program = new Command();
program.name('precedent').description('DICOM node returning similar historical chest radiograph cases into the PACS study');
registerServiceCommands(program);
registerImportCommand(program);
registerQueryCommand(program);
registerCasesCommands(program);
registerLabelsCommands(program);
registerEvalCommand(program);
registerExportCommands(program);
registerStatusCommand(program);
registerMonitorCommand(program);

await program.parseAsync(process.argv);
