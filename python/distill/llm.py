"""Asking a model: an Ollama server, an OpenAI-compatible endpoint, or the built-in baseline.

Which one is configuration, read from the environment:

    DISTILL_MODEL_PROVIDER   ollama (default) | openai | baseline
    DISTILL_MODEL            the model name (default llama3.2)
    DISTILL_MODEL_BASE_URL   the server (default http://127.0.0.1:11434 for ollama,
                             http://127.0.0.1:8000/v1 for openai)
    DISTILL_MODEL_API_KEY    sent as a bearer token to an OpenAI-compatible server, if set
    DISTILL_MODEL_TIMEOUT    seconds one attempt may take, and a server may stay silent (120)
    DISTILL_MODEL_RETRIES    further attempts after a failed one (2), with exponential backoff
    DISTILL_MODEL_BACKOFF    seconds before the first retry, doubled each time (0.5)
    DISTILL_MODEL_STREAM     1 (default) asks for a streamed reply, 0 for one JSON reply

The baseline is no model: it answers from the top playbook, deterministically, so that a
replay runs with nothing installed and a real model has a floor to beat. It is used only
when asked for; a model that does not answer is an error, never a silent fall-back.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from distill.errors import ConfigError
from distill.retrieval import Hit

PROVIDERS = ("ollama", "openai", "baseline")
DEFAULT_PROVIDER = "ollama"
DEFAULT_MODEL = "llama3.2"
DEFAULT_BASE_URLS = {"ollama": "http://127.0.0.1:11434", "openai": "http://127.0.0.1:8000/v1"}
BASELINE_NAME = "baseline-top-playbook"
"""How the baseline responder is named in records, reports and output."""


class ModelUnreachable(ConfigError):
    """Nothing listens at the configured address: the operator must start a model server."""


class ModelCallFailed(Exception):
    """A server answered but the call failed: a timeout, a dropped connection, an HTTP
    error or a reply that is not the wire format. Recorded in the replay log as such."""


@dataclass(frozen=True)
class ModelConfig:
    """Where and how to ask the model."""

    provider: str
    model: str
    base_url: str | None
    api_key: str | None = None
    timeout: float = 120.0
    retries: int = 2
    backoff: float = 0.5
    stream: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 baseline: bool = False) -> ModelConfig:
        env = os.environ if environ is None else environ
        provider = "baseline" if baseline else env.get("DISTILL_MODEL_PROVIDER", DEFAULT_PROVIDER)
        provider = provider.strip().lower()
        if provider not in PROVIDERS:
            raise ConfigError(
                f"DISTILL_MODEL_PROVIDER={provider!r} is not one of {', '.join(PROVIDERS)}"
            )
        if provider == "baseline":
            return cls(provider="baseline", model=BASELINE_NAME, base_url=None)
        return cls(
            provider=provider,
            model=env.get("DISTILL_MODEL", "").strip() or DEFAULT_MODEL,
            base_url=(env.get("DISTILL_MODEL_BASE_URL", "").strip()
                      or DEFAULT_BASE_URLS[provider]).rstrip("/"),
            api_key=env.get("DISTILL_MODEL_API_KEY") or None,
            timeout=_number(env, "DISTILL_MODEL_TIMEOUT", 120.0, minimum=0.001),
            retries=int(_number(env, "DISTILL_MODEL_RETRIES", 2, minimum=0)),
            backoff=_number(env, "DISTILL_MODEL_BACKOFF", 0.5, minimum=0),
            stream=env.get("DISTILL_MODEL_STREAM", "1").strip() not in ("0", "false", "no"),
        )

    @property
    def is_baseline(self) -> bool:
        return self.provider == "baseline"

    @property
    def endpoint(self) -> str:
        """The chat URL: /api/chat for Ollama, /v1/chat/completions for OpenAI-compatible."""
        assert self.base_url is not None
        if self.provider == "ollama":
            return f"{self.base_url}/api/chat"
        if self.base_url.endswith("/v1"):
            return f"{self.base_url}/chat/completions"
        return f"{self.base_url}/v1/chat/completions"

    def describe(self) -> str:
        if self.is_baseline:
            return f"{BASELINE_NAME} (the built-in baseline responder, not a model)"
        return f"{self.provider} model {self.model} at {self.endpoint}"

    def as_record(self) -> dict:
        """What the replay log keeps of the model: never the API key."""
        return {
            "provider": self.provider,
            "name": self.model,
            "endpoint": None if self.is_baseline else self.endpoint,
            "is_baseline": self.is_baseline,
        }


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not value >= minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum:g}")
    return value



# ---------- where a request may go


def is_loopback(host: str) -> bool:
    """True for localhost and for addresses in 127.0.0.0/8 or ::1; no name is resolved."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def require_local(config: ModelConfig) -> None:
    """--local-only: refuse, before anything is sent, an endpoint off this machine."""
    if config.is_baseline:
        return
    host = urlsplit(config.endpoint).hostname or ""
    if not is_loopback(host):
        raise ConfigError(
            f"--local-only: {config.endpoint} is not on this machine (host {host!r}); "
            "local means localhost, 127.0.0.0/8 or ::1. Point DISTILL_MODEL_BASE_URL at a "
            "loopback address or drop --local-only"
        )


def what_to_start(config: ModelConfig) -> str:
    if config.provider == "ollama":
        return (f"start Ollama with `ollama serve` and fetch the model with "
                f"`ollama pull {config.model}`")
    return (f"start an OpenAI-compatible server for {config.model} at {config.base_url} "
            f"(for example `vllm serve {config.model} --port 8000`)")


# ---------- the wire formats


def request_body(config: ModelConfig, messages: list[dict]) -> dict:
    """A deterministic request: temperature 0 and a fixed seed, where the server honours it."""
    if config.provider == "ollama":
        return {"model": config.model, "messages": messages, "stream": config.stream,
                "options": {"temperature": 0, "seed": 0}}
    return {"model": config.model, "messages": messages, "stream": config.stream,
            "temperature": 0, "seed": 0}


def _decode(line: bytes, what: str) -> dict:
    try:
        value = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelCallFailed(f"malformed reply: {what} is not JSON: {line[:120]!r}") from None
    if not isinstance(value, dict):
        raise ModelCallFailed(f"malformed reply: {what} is not a JSON object")
    if "error" in value:
        raise ModelCallFailed(f"the server reported an error: {str(value['error'])[:300]}")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ModelCallFailed(f"malformed reply: {where} is not a string")
    return value


def ollama_reply(body: bytes) -> str:
    """{"message": {"role": "assistant", "content": ...}, "done": true}"""
    reply = _decode(body, "the reply")
    message = reply.get("message")
    if not isinstance(message, dict):
        raise ModelCallFailed("malformed reply: no message in the Ollama reply")
    return _text(message.get("content"), "message.content")


def ollama_stream(lines: Iterator[bytes]) -> str:
    """One JSON object per line, each with a piece of message.content; the last has done."""
    pieces: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        chunk = _decode(line, "a streamed line")
        message = chunk.get("message") or {}
        if not isinstance(message, dict):
            raise ModelCallFailed("malformed reply: a streamed message is not an object")
        pieces.append(_text(message.get("content", ""), "message.content"))
        if chunk.get("done") is True:
            return "".join(pieces)
    raise ModelCallFailed("the stream ended before the model said it was done")


def openai_reply(body: bytes) -> str:
    """{"choices": [{"message": {"role": "assistant", "content": ...}}]}"""
    reply = _decode(body, "the reply")
    choices = reply.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ModelCallFailed("malformed reply: no choices in the completion")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise ModelCallFailed("malformed reply: choices[0] has no message")
    return _text(message.get("content") or "", "choices[0].message.content")


def openai_stream(lines: Iterator[bytes]) -> str:
    """Server-sent events: `data: {chunk}` lines with choices[0].delta.content, then
    `data: [DONE]`; a chunk with a finish_reason also ends the answer."""
    pieces: list[str] = []
    finished = False
    for line in lines:
        line = line.strip()
        if not line or line.startswith(b":") or not line.startswith(b"data:"):
            continue
        data = line[len(b"data:"):].strip()
        if data == b"[DONE]":
            return "".join(pieces)
        chunk = _decode(data, "a streamed event")
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            raise ModelCallFailed("malformed reply: a streamed event has no choices")
        for choice in choices[:1]:
            delta = (choice.get("delta") or {}) if isinstance(choice, dict) else None
            if not isinstance(delta, dict):
                raise ModelCallFailed("malformed reply: a streamed choice has no delta")
            pieces.append(_text(delta.get("content") or "", "delta.content"))
            finished = finished or bool(choice.get("finish_reason"))
    if finished:
        return "".join(pieces)
    raise ModelCallFailed("the stream ended before [DONE]")


# ---------- one call, with timeouts and retries


@dataclass(frozen=True)
class Reply:
    """The model's answer and what it took to get it."""

    text: str
    attempts: int
    seconds: float


class _Refused(Exception):
    """Nothing listens at the address (or the name does not resolve)."""


def _read_lines(response: http.client.HTTPResponse, sock_of, deadline: float,
                idle: float) -> Iterator[bytes]:
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the reply took longer than the timeout")
        sock = sock_of()
        if sock is not None:
            sock.settimeout(min(idle, remaining))
        line = response.readline()
        if not line:
            return
        yield line


def _attempt(config: ModelConfig, payload: bytes) -> str:
    parts = urlsplit(config.endpoint)
    factory = (http.client.HTTPSConnection if parts.scheme == "https"
               else http.client.HTTPConnection)
    conn = factory(parts.hostname or "", parts.port, timeout=config.timeout)
    deadline = time.monotonic() + config.timeout
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if config.api_key and config.provider == "openai":
        headers["Authorization"] = f"Bearer {config.api_key}"
    try:
        try:
            conn.connect()
        except (ConnectionRefusedError, socket.gaierror) as error:
            raise _Refused(str(error)) from None
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request("POST", path, body=payload, headers=headers)
        response = conn.getresponse()
        if response.status != 200:
            detail = response.read(600).decode("utf-8", "replace").strip()
            hint = ""
            if response.status == 404:
                hint = f" (is the model there? {what_to_start(config)})"
            raise ModelCallFailed(
                f"HTTP {response.status} from {config.endpoint}: {detail}{hint}"
            )
        lines = _read_lines(response, lambda: conn.sock, deadline, config.timeout)
        kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        streamed = kind in ("application/x-ndjson", "text/event-stream")
        if config.provider == "ollama":
            return ollama_stream(lines) if streamed else ollama_reply(b"".join(lines))
        return openai_stream(lines) if streamed else openai_reply(b"".join(lines))
    finally:
        conn.close()


def _retryable(error: ModelCallFailed) -> bool:
    """An HTTP 4xx other than 429 says the request is wrong: asking again will not help."""
    text = str(error)
    return not (text.startswith("HTTP 4") and not text.startswith("HTTP 429"))


def chat(config: ModelConfig, messages: list[dict]) -> Reply:
    """Ask the model; retry with backoff; raise ModelUnreachable or ModelCallFailed."""
    payload = json.dumps(request_body(config, messages)).encode()
    started = time.monotonic()
    attempts = 0
    refused = 0
    last = "no attempt"
    while True:
        attempts += 1
        try:
            text = _attempt(config, payload)
            return Reply(text=text, attempts=attempts, seconds=time.monotonic() - started)
        except _Refused as error:
            refused += 1
            last = f"connection refused ({error})"
        except ModelCallFailed as error:
            last = str(error)
            if not _retryable(error):
                break
        except TimeoutError:
            last = f"no reply within {config.timeout:g} s"
        except (http.client.HTTPException, ConnectionError, OSError) as error:
            last = f"the connection failed: {type(error).__name__}: {error}"
        if attempts > config.retries:
            break
        time.sleep(config.backoff * 2 ** (attempts - 1))

    if refused == attempts:
        raise ModelUnreachable(
            f"no model answered at {config.endpoint} ({last}; {attempts} attempt(s)). "
            f"To replay with a model, {what_to_start(config)}, or set DISTILL_MODEL_PROVIDER "
            "and DISTILL_MODEL_BASE_URL to a running server. To measure the built-in "
            "baseline instead, pass --baseline."
        )
    raise ModelCallFailed(f"{config.describe()}: {last} ({attempts} attempt(s))")


# ---------- the baseline


def worked_answer(body: str) -> str:
    """The worked answer of a playbook's body (everything after its 'Worked answer:')."""
    marker = "Worked answer:"
    at = body.find(marker)
    return body[at + len(marker):].strip() if at >= 0 else body.strip()


def baseline_answer(hits: list[Hit]) -> str:
    """The baseline responder: the top playbook's steps and worked answer, verbatim.

    It reads nothing but the retrieval, so it is the floor a model must beat: an answer
    that does no better than restating the best playbook adds nothing.
    """
    if not hits:
        return ""
    top = hits[0]
    parts = [f"Following playbook {top.playbook_id} ({top.title})."]
    if top.steps:
        parts.append("Steps:\n" + "\n".join(
            f"{number}. {step}" for number, step in enumerate(top.steps, start=1)
        ))
    if top.tools:
        parts.append("Tools: " + ", ".join(top.tools))
    parts.append("Answer:\n" + worked_answer(top.body)[:1500])
    return "\n\n".join(parts)
