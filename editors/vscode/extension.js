// The ccf extension's client: starts `ccf lsp` (the ccf executable of the `ccf.path`
// setting) over stdio for .ccf files. Plain JavaScript, no build step; everything the
// language offers beyond highlighting comes from the server.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");
const { expand, findExecutable } = require("./command");

let client;

async function start() {
  const setting = vscode.workspace.getConfiguration("ccf").get("path");
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const named = expand(setting, folder);
  const command = findExecutable(named, folder);
  if (!command) {
    vscode.window.showErrorMessage(
      `ccf: cannot find \`${named}\`, the ccf executable of the \`ccf.path\` setting, so ` +
        ".ccf files have highlighting only. Install ccdsl (`make demo` in its checkout, or " +
        "pip install from its repository) or set " +
        "`ccf.path` to its ccf, such as ${workspaceFolder}/.venv/bin/ccf.",
    );
    return;
  }
  // no `transport`: the client would add `--stdio`; `ccf lsp` talks over stdio as it is
  const serverOptions = { command, args: ["lsp"] };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "ccf" },
      { scheme: "untitled", language: "ccf" },
    ],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.ccf"),
    },
  };
  // the id "ccf" makes the client read the `ccf.trace.server` setting
  client = new LanguageClient("ccf", "ccf language server", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (err) {
    client = undefined;
    vscode.window.showErrorMessage(
      `ccf: could not start \`${command} lsp\` (${err.message || err}). ` +
        "Install ccdsl (`make demo` in its checkout, or pip install from its repository) or " +
        "set `ccf.path` to its ccf executable.",
    );
  }
}

async function activate(context) {
  await start();
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("ccf.path")) {
        await stop();
        await start();
      }
    }),
  );
}

async function stop() {
  if (client) {
    const running = client;
    client = undefined;
    await running.stop();
  }
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
