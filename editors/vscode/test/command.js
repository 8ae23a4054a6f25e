// Prints, as JSON, what command.js makes of a ccf.path setting:
// node test/command.js SETTING FOLDER HOME PATH
"use strict";

const { expand, findExecutable } = require("../command");

const [setting, folder, home, searched] = process.argv.slice(2);
const named = expand(setting, folder, home);
process.stdout.write(JSON.stringify({
  named,
  found: findExecutable(named, folder, { PATH: searched }, "linux") ?? null,
}));
