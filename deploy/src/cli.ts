#!/usr/bin/env -S node --import tsx
/** The `shipyard` executable (package.json "bin"): the CLI in cli/main.ts, exiting with its code. */
import { main } from "./cli/main.js";

process.exitCode = await main(process.argv.slice(2));
