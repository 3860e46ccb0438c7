// `precedent` command line: each command family registers itself from src/commands/.
import { Command } from 'commander';
import { registerServiceCommands } from './commands/serve.js';
import { registerExportCommands } from './commands/exports.js';

const program = new Command();
program.name('precedent').description('DICOM node returning similar historical chest radiograph cases into the PACS study');
registerServiceCommands(program);
registerExportCommands(program);

await program.parseAsync(process.argv);
