#!/usr/bin/env node
import { Command } from 'commander';

const program = new Command('mmu-sim').description('secondary-MMU simulation');
program
  .command('run', { isDefault: true })
  .description('run the default scenario')
  .action(() => {
    console.log('mmu-sim: simulation not implemented yet');
  });
program.parse();
