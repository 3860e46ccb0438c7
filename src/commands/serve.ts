// `precedent serve`, `precedent worker`, `precedent config`.
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { loadConfigOrExit } from '../config/index.js';
import { serve } from '../app/serve.js';
import { work } from '../app/worker.js';

export function registerServiceCommands(program: Command): void {
  program
    .command('serve')
    .description('start the node (DIMSE SCP, ingest, study scheduler, in-process analysis workers)')
    .option('-c, --config <file>', 'YAML or JSON configuration file (defaults are embedded)')
    .action(async (opts: { config?: string }) => serve(opts.config));

  program
    .command('worker')
    .description('run a remote analysis worker (needs queue.redisUrl, worker.nodeUrl, worker.token and model.dir; no files of the node)')
    .option('-c, --config <file>', 'YAML or JSON configuration file')
    .action(async (opts: { config?: string }) => work(opts.config));

  program
    .command('config')
    .description('validate the configuration and print it with defaults filled in')
    .option('-c, --config <file>', 'YAML or JSON configuration file')
    .action((opts: { config?: string }) => {
      process.stdout.write(stringify(loadConfigOrExit(opts.config)));
    });
}
