// The executable the `ccf.path` setting names, found before the client starts it: a
// missing ccf is one readable message, not the language client's "couldn't create
// connection to server" and a spawn error. Plain Node: no `vscode` here, so
// test/command.js checks it without an editor.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");

// `${workspaceFolder}` and a leading `~`, which VS Code leaves to extensions
function expand(setting, folder, home = os.homedir()) {
  let command = setting || "ccf";
  if (folder) {
    command = command.replace(/\$\{workspaceFolder\}/g, folder);
  }
  if (command === "~" || command.startsWith("~/")) {
    command = path.join(home, command.slice(1));
  }
  return command;
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

// The absolute path of command: as a path (relative to the workspace folder, where the
// client starts the server), else a name on PATH (with PATHEXT's endings on Windows);
// undefined when there is none.
function findExecutable(command, folder, env = process.env, platform = process.platform) {
  const endings = platform === "win32"
    ? ["", ...(env.PATHEXT || ".EXE;.CMD;.BAT").split(";").filter(Boolean)]
    : [""];
  const candidates = (base) => endings.map((ending) => base + ending);
  if (command.includes("/") || (platform === "win32" && command.includes("\\"))) {
    const base = path.resolve(folder || process.cwd(), command);
    return candidates(base).find(isExecutable);
  }
  for (const dir of (env.PATH || "").split(path.delimiter).filter(Boolean)) {
    const found = candidates(path.join(dir, command)).find(isExecutable);
    if (found) {
      return found;
    }
  }
  return undefined;
}

module.exports = { expand, findExecutable };
