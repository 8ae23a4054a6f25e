"""ccdsl: the language core shared by the compiler, the runtime and the CLI.

The core (the modules of this folder) must not import ccdsl.compiler,
ccdsl.runtime or ccdsl.cli: imports only go down the floors."""

__version__ = "0.1.0"


def installed_version() -> str | None:
    """The installed distribution's version (what `ccf --version`, SARIF and the
    language server report), None when ccdsl runs from a source tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ccdsl")
    except PackageNotFoundError:
        return None
