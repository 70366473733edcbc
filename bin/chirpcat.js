#!/usr/bin/env node
// The package's `chirpcat` command (npx chirpcat): runs the compiled CLI (source: cli/chirpcat.ts).
import "../build/js/cli/chirpcat.js";
