// `precedent` command line.
import { Command } from 'commander';
import { stringify } from 'yaml';
import { loadConfigOrExit, serve, work } from './main.js';

const program = new Command();
program.name('precedent').description('DICOM node returning similar historical chest radiograph cases into the PACS study');

program
  .command('serve')
  .description('start the node (DIMSE SCP, ingest, study scheduler)')
  .option('-c, --config <file>', 'YAML or JSON configuration file (defaults are embedded)')
  .action(async (opts: { config?: string }) => {
    await serve(opts.config);
  });

program
  .command('worker')
  .description('run analysis workers only (BullMQ: needs queue.redisUrl and the same storage.dataDir as serve)')
  .option('-c, --config <file>', 'YAML or JSON configuration file')
  .action(async (opts: { config?: string }) => {
    await work(opts.config);
  });

program
  .command('config')
  .description('validate the configuration and print it with defaults filled in')
  .option('-c, --config <file>', 'YAML or JSON configuration file')
  .action((opts: { config?: string }) => {
    process.stdout.write(stringify(loadConfigOrExit(opts.config)));
  });

await program.parseAsync(process.argv);
