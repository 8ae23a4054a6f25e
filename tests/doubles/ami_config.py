"""Asterisk's config files in the AMI test peer: the model, and the actions that read and write it.

Texts and checks are main/manager.c's (action_getconfig, action_updateconfig, handle_updates).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ccdsl.runtime.asterisk.dialplan import QUEUES_FILE
from ccdsl.runtime.testing.peer.app_queue import AppQueue
from doubles.ami_wire import Request, Session, ast_true, error, reply


@dataclass
class ConfigCategory:
    name: str
    lines: list[tuple[str, str]] = field(default_factory=list)  # (variable, value) in order


class ConfigActions:
    """The config files by name, what reloads were asked for, and the actions on them."""

    configs: dict[str, list[ConfigCategory]]
    reloads: list[str]  # "all", a module name, or "dialplan"
    app_queue: AppQueue

    def config_text(self, filename: str) -> str:
        """A config file as Asterisk would save it: `[category]` then
        `variable = value` lines."""
        out = []
        for category in self.configs[filename]:
            out.append(f"[{category.name}]")
            out.extend(f"{var} = {value}" for var, value in category.lines)
            out.append("")
        return "\n".join(out)

    def _reloaded(self, module: str) -> None:
        """A reload asked for: app_queue's (or all) reads the queue files the
        peer holds again, queues.conf and the queues_ccf.conf it includes."""
        self.reloads.append(module)
        if module.lower() not in ("all", "app_queue.so", "app_queue"):
            return
        for name in ("queues.conf", QUEUES_FILE):
            if name in self.configs:
                self.app_queue.load_conf(self.config_text(name))

    def _action_reload(self, session: Session, request: Request) -> None:
        # main/manager.c action_reload: "Module Reloaded" on success
        reply(session, request, "Success", "Module Reloaded")
        self._reloaded(request.get("Module") or "all")

    # -- config files (main/manager.c) -------------------------------------

    def _action_createconfig(self, session: Session, request: Request) -> None:
        # action_createconfig: "New configuration file created successfully";
        # an existing file is an error with strerror(EEXIST)
        name = request.get("Filename").strip()
        if not name:
            error(session, request, "Filename not specified")
            return
        if name in self.configs:
            error(session, request, "File exists")
            return
        self.configs[name] = []
        reply(session, request, "Success", "New configuration file created successfully")

    def _action_getconfig(self, session: Session, request: Request) -> None:
        # action_getconfig: astman_start_ack, then Category-NNNNNN and
        # Line-NNNNNN-NNNNNN: var=value per category
        name = request.get("Filename")
        if not name:
            error(session, request, "Filename not specified")
            return
        if name not in self.configs:
            error(session, request, "Config file not found")
            return
        pairs: list[tuple[str, object]] = []
        wanted = request.get("Category")
        shown = [c for c in self.configs[name] if not wanted or c.name == wanted]
        for n, category in enumerate(shown):
            pairs.append((f"Category-{n:06d}", category.name))
            for k, (var, value) in enumerate(category.lines):
                pairs.append((f"Line-{n:06d}-{k:06d}", f"{var}={value}"))
        reply(session, request, "Success", None, *pairs)

    def _action_updateconfig(self, session: Session, request: Request) -> None:
        # action_updateconfig and handle_updates: the numbered actions run in
        # order on a copy; the first failure answers with its message and
        # nothing is saved; success is astman_send_ack with no Message
        source, dest = request.get("SrcFilename"), request.get("DstFilename")
        if not source or not dest:
            error(session, request, "Filename not specified")
            return
        if source not in self.configs:
            error(session, request, "Config file not found")
            return
        config = [ConfigCategory(c.name, list(c.lines)) for c in self.configs[source]]
        problem = apply_updates(config, request)
        if problem:
            error(session, request, problem)
            return
        self.configs[dest] = config
        reply(session, request, "Success")
        reload = request.get("Reload")
        if reload and ast_true(reload):
            self._reloaded("all")
        elif reload and reload.strip().lower() not in ("no", "false", "n", "f", "0", "off"):
            self._reloaded(reload)


def apply_updates(config: list[ConfigCategory], request: Request) -> str | None:
    """handle_updates (main/manager.c): Action-NNNNNN with Cat-, Var-,
    Value-, Match- of the same number, from 000000 until one is missing.
    The error texts are action_updateconfig's."""
    for n in range(100_000):
        action = request.get(f"Action-{n:06d}").lower()
        if not action:
            return None
        cat = request.get(f"Cat-{n:06d}")
        if not cat:
            return "Category not specified"
        var, value = request.get(f"Var-{n:06d}"), request.get(f"Value-{n:06d}")
        if value.startswith(">"):  # object (=>) assignment
            value = value[1:]
        found = [c for c in config if c.name == cat]
        if action == "newcat":
            if found:
                return "Create category did not complete successfully"
            config.append(ConfigCategory(cat))
        elif action == "delcat":
            if not found:
                return "Given category does not exist"
            config[:] = [c for c in config if c.name != cat]
        elif action == "emptycat":
            if not found:
                return "Given category does not exist"
            for c in found:
                c.lines.clear()
        elif action == "append":
            if not var:
                return "Problem with category, value, or line (if required)"
            if not found:
                return "Given category does not exist"
            for c in found:
                c.lines.append((var, value))
        elif action == "update":
            if not var:
                return "Problem with category, value, or line (if required)"
            if not found:
                return "Given category does not exist"
            done = False
            for c in found:
                for i, (name, _) in enumerate(c.lines):
                    if name == var:
                        c.lines[i] = (var, value)
                        done = True
            if not done:
                return "Update did not complete successfully"
        elif action == "delete":
            if not var:
                return "Problem with category, value, or line (if required)"
            if not found:
                return "Given category does not exist"
            before = sum(len(c.lines) for c in found)
            for c in found:
                c.lines = [(k, v) for k, v in c.lines if k != var]
            if sum(len(c.lines) for c in found) == before:
                return "Update did not complete successfully"
        else:
            return "Unknown action command"
    return None


def parse_config(text: str) -> list[ConfigCategory]:
    """`[category]` and `var = value` / `var => value` lines; `;` comments."""
    out: list[ConfigCategory] = []
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and "]" in line:
            out.append(ConfigCategory(line[1:line.index("]")]))
            continue
        var, sep, value = line.partition("=")
        if not sep or not out:
            continue
        out[-1].lines.append((var.strip(), value.lstrip(">").strip()))
    return out
