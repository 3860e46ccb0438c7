// `precedent` command line: each command family registers itself from src/commands/.
import { Command } from 'commander';
import { registerServiceCommands } from './commands/serve.js';

const program = new Command();
program.name('precedent').description('DICOM node returning similar historical chest radiograph cases into the PACS study');
registerServiceCommands(program);

await program.parseAsync(process.argv);
