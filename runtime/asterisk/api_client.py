"""The client of `ccf serve`'s local HTTP API: where it listens (by ccf.toml) and one request.

Never uses a proxy from the environment: the API is on this machine, and the Bearer
token must not travel anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccdsl.runtime.asterisk.config import CONFIG_NAME, ApiConfig, ConfigError, load_config
from ccdsl.runtime.asterisk.config_api import WILDCARD_HOSTS, host_port

CLIENT_TIMEOUT_S = 3.0


class ApiClientError(Exception):
    """ccf serve's API could not be used; the message says why. `refused`:
    it answered 401/403 (a token is needed, or the wrong one was sent).
    `unreachable`: it is not running or did not answer."""

    def __init__(self, message: str, *, refused: bool = False,
                 unreachable: bool = False) -> None:
        super().__init__(message)
        self.refused = refused
        self.unreachable = unreachable


@dataclass(frozen=True)
class ApiAddress:
    # without a ccf.toml: where `ccf serve` listens without one ([api] defaults)
    host: str = ApiConfig.host
    port: int = ApiConfig.port
    token_env: str = ApiConfig.token_env

    @property
    def where(self) -> str:
        return host_port(self.host, self.port)


def api_address(config: str | None) -> ApiAddress:
    """The [api] address of a ccf.toml (runtime.asterisk.config reads it,
    as `ccf serve` does); no file given and no ccf.toml here: the defaults,
    where `ccf serve` listens without one. A server listening on every
    address (0.0.0.0, ::) is reached on 127.0.0.1."""
    path = Path(config or CONFIG_NAME)
    if config is None and not path.exists():
        return ApiAddress()
    try:
        api = load_config(path).api
    except ConfigError as exc:
        raise ApiClientError("\n".join(exc.problems)) from None
    if api.port == 0:
        raise ApiClientError(f"{path}: api.port is 0 (any free port): name the port `ccf "
                             "serve` printed at start in a ccf.toml of its own")
    host = "127.0.0.1" if api.host in WILDCARD_HOSTS else api.host
    return ApiAddress(host, api.port, api.token_env)


def call_api(address: ApiAddress, token: str | None, method: str, path: str, *,
             body: Any = None, timeout_s: float = CLIENT_TIMEOUT_S) -> tuple[int, Any]:
    """One request; (HTTP status, the JSON answer or None). ApiClientError
    when ccf serve is not running, does not answer, or wants a token."""
    import httpx  # deferred: `ccf` starts without it when no request is made

    url = f"http://{address.where}{path}"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with httpx.Client(trust_env=False, timeout=timeout_s) as client:
            response = client.request(method, url, headers=headers, json=body)
    except httpx.ConnectError:
        raise ApiClientError(f"ccf serve is not running at {address.where} (start it with "
                             "`ccf serve`, or name its ccf.toml with --config)",
                             unreachable=True) from None
    except httpx.HTTPError as exc:
        raise ApiClientError(f"ccf serve at {address.where} did not answer: "
                             f"{type(exc).__name__}", unreachable=True) from None
    if response.status_code in (401, 403):
        raise ApiClientError(f"ccf serve at {address.where} refused the request: set "
                             f"{address.token_env} to the API token ccf serve uses",
                             refused=True)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


def fetch_status(address: ApiAddress, token: str | None, *,
                 timeout_s: float = CLIENT_TIMEOUT_S) -> dict:
    """GET /status from ccf serve (`ccf status`)."""
    status_code, status = call_api(address, token, "GET", "/status", timeout_s=timeout_s)
    if status_code != 200:
        raise ApiClientError(f"ccf serve at {address.where} answered HTTP {status_code} to "
                             "GET /status")
    if status is None:
        raise ApiClientError(f"ccf serve at {address.where} sent no JSON for /status")
    if not isinstance(status, dict):
        raise ApiClientError(f"ccf serve at {address.where} sent no status object")
    return status


def status_at(where: str, token: str | None, timeout_s: float = CLIENT_TIMEOUT_S
              ) -> dict | None:
    """Another worker's GET /status at `where` (its `host:port` in the workers list), None
    when it does not answer, refuses the token or sends no status (`ccf status`, the wall)."""
    host, _, port = where.rpartition(":")
    try:
        return fetch_status(ApiAddress(host.strip("[]"), int(port)), token, timeout_s=timeout_s)
    except (ApiClientError, ValueError):
        return None
