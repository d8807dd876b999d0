#!/usr/bin/env node
// Entry point: runs the compiled CLI (npm install builds dist/ through the prepare script).
import { runCli } from '../dist/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
