// Activates the extension in plain Node, with a stand-in for the `vscode` module (the one
// thing outside an editor that cannot be real), and prints as JSON the messages it showed.
// usage: node test/activate.js '{"ccf.path": "...", "folder": "..."}'
// tests/editors/test_vscode_extension.py runs it for a ccf.path that names no executable.
"use strict";

const Module = require("module");
const path = require("path");

const settings = JSON.parse(process.argv[2] || "{}");
const shown = [];

// the rest of the API, which the language client uses as it loads and starts: each member
// is a function, a class and an object at once, and gives another placeholder
function placeholder(name) {
  return new Proxy(function () {}, {
    get: (target, key) => {
      if (key === "then") {
        return undefined; // not a promise: `await` must not wait on it
      }
      if (key === "dispose") {
        return () => {};
      }
      return key === "prototype" ? target.prototype : placeholder(`${name}.${String(key)}`);
    },
    apply: () => placeholder(`${name}()`),
    construct: () => placeholder(`new ${name}`),
  });
}

const known = {
  version: "1.82.0",
  workspace: {
    getConfiguration: (section) => ({
      get: (key, otherwise) => settings[`${section}.${key}`] ?? otherwise,
    }),
    workspaceFolders: settings.folder ? [{ uri: { fsPath: settings.folder } }] : undefined,
    onDidChangeConfiguration: () => ({ dispose() {} }),
  },
  window: {
    showErrorMessage: (message) => {
      shown.push({ severity: "error", message });
      return Promise.resolve(undefined);
    },
  },
};
function falling(object, name) {
  return new Proxy(object, {
    get: (target, key) => (key in target ? target[key] : placeholder(`${name}.${String(key)}`)),
  });
}
known.workspace = falling(known.workspace, "workspace");
known.window = falling(known.window, "window");
const vscode = falling(known, "vscode");

const load = Module._load;
Module._load = function (request, ...rest) {
  return request === "vscode" ? vscode : load.call(this, request, ...rest);
};

(async () => {
  const extension = require(path.join(__dirname, "..", "extension.js"));
  const context = { subscriptions: [] };
  await extension.activate(context);
  await extension.deactivate();
  process.stdout.write(JSON.stringify({ shown }));
})().catch((err) => {
  process.stderr.write(String(err?.stack || err));
  process.exit(1);
});
