#!/usr/bin/env node
import 'reflect-metadata';
import { runCli } from './cli';

/** `npm run cachelog -- <command>` or the `cachelog` bin. */
runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
