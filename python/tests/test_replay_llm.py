"""The model clients against a model server started here, on loopback, speaking the real
Ollama (/api/chat) and OpenAI (/v1/chat/completions) wire formats, streamed and not; and
against servers that are slow, drop the connection or reply with something malformed."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from distill import llm
from distill.errors import ConfigError
from distill.llm import ModelCallFailed, ModelConfig, ModelUnreachable
from distill.retrieval import Hit

ANSWER = "1. call get_user_details\n2. call cancel_reservation for the booking"


class ModelServer:
    """A model server on 127.0.0.1 (port 0) in a thread. behaviour: ok, slow, drop,
    drop_mid_stream, not_json, no_message, server_error, error_field, not_found, or
    flaky (HTTP 500 to the first request, then ok). Records every request it gets."""

    def __init__(self, behaviour: str = "ok", answer: str = ANSWER, delay: float = 3.0):
        self.behaviour = behaviour
        self.answer = answer
        self.delay = delay
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.paths: list[str] = []
        self.stopping = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        # a client that gave up (a timeout test) leaves a closed socket: not an error here
        self.server.handle_error = lambda request, address: None
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ModelServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                outer.headers.append(dict(self.headers))
                outer.paths.append(self.path)
                outer.respond(self, body, len(outer.requests))

        return Handler

    # ---------- replies

    def respond(self, handler, body: dict, number: int) -> None:
        behaviour = self.behaviour
        if behaviour == "flaky":
            behaviour = "server_error" if number == 1 else "ok"
        if behaviour == "slow":
            if self.stopping.wait(self.delay):
                return
            behaviour = "ok"
        if behaviour == "drop":
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
            return
        if behaviour in ("server_error", "not_found"):
            status = 500 if behaviour == "server_error" else 404
            self.send(handler, status, b'{"error":"model \'llama3.2\' not found"}')
            return
        if behaviour == "not_json":
            self.send(handler, 200, b"<html>this is not a model</html>")
            return
        if behaviour == "no_message":
            self.send(handler, 200, b'{"model":"m","done":true}')
            return
        if behaviour == "error_field":
            self.send(handler, 200, b'{"error":"out of memory loading the model"}')
            return
        ollama = handler.path == "/api/chat"
        if body.get("stream"):
            self.stream(handler, ollama, cut=behaviour == "drop_mid_stream")
        elif ollama:
            self.send(handler, 200, json.dumps({
                "model": body["model"], "created_at": "2026-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": self.answer},
                "done": True, "done_reason": "stop",
            }).encode())
        else:
            self.send(handler, 200, json.dumps({
                "id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": self.answer}}],
            }).encode())

    @staticmethod
    def send(handler, status: int, payload: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def stream(self, handler, ollama: bool, cut: bool) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type",
                            "application/x-ndjson" if ollama else "text/event-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        words = self.answer.split(" ")
        pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
        events = []
        for piece in pieces:
            if ollama:
                events.append(json.dumps({"model": "m", "message": {
                    "role": "assistant", "content": piece}, "done": False}) + "\n")
            else:
                events.append("data: " + json.dumps({"object": "chat.completion.chunk",
                              "choices": [{"index": 0, "delta": {"content": piece},
                                           "finish_reason": None}]}) + "\n\n")
        if ollama:
            events.append(json.dumps({"model": "m", "message": {"role": "assistant",
                          "content": ""}, "done": True, "done_reason": "stop"}) + "\n")
        else:
            events.append("data: " + json.dumps({"object": "chat.completion.chunk",
                          "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                          + "\n\n")
            events.append("data: [DONE]\n\n")
        if cut:
            events = events[:2]
        for event in events:
            data = event.encode()
            handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            handler.wfile.flush()
        if cut:
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
            return
        handler.wfile.write(b"0\r\n\r\n")


def config_for(server_url: str, provider: str = "ollama", stream: bool = False,
               **overrides) -> ModelConfig:
    env = {
        "DISTILL_MODEL_PROVIDER": provider,
        "DISTILL_MODEL_BASE_URL": server_url,
        "DISTILL_MODEL_TIMEOUT": "0.5",
        "DISTILL_MODEL_RETRIES": "1",
        "DISTILL_MODEL_BACKOFF": "0.01",
        "DISTILL_MODEL_STREAM": "1" if stream else "0",
    }
    env.update(overrides)
    return ModelConfig.from_env(env)


MESSAGES = [{"role": "user", "content": "cancel my flight"}]


# ---------- configuration


def test_defaults_name_a_local_ollama_and_a_documented_model():
    config = ModelConfig.from_env({})
    assert (config.provider, config.model) == ("ollama", "llama3.2")
    assert config.endpoint == "http://127.0.0.1:11434/api/chat"
    assert (config.timeout, config.retries, config.stream) == (120.0, 2, True)
    openai = ModelConfig.from_env({"DISTILL_MODEL_PROVIDER": "openai"})
    assert openai.endpoint == "http://127.0.0.1:8000/v1/chat/completions"


def test_baseline_is_named_as_such_and_has_no_endpoint():
    config = ModelConfig.from_env({"DISTILL_MODEL_PROVIDER": "baseline"})
    assert config.as_record() == {"provider": "baseline", "name": "baseline-top-playbook",
                                  "endpoint": None, "is_baseline": True}
    assert "baseline" in config.describe()


@pytest.mark.parametrize("env, names", [
    ({"DISTILL_MODEL_PROVIDER": "gpt"}, "DISTILL_MODEL_PROVIDER"),
    ({"DISTILL_MODEL_TIMEOUT": "soon"}, "DISTILL_MODEL_TIMEOUT"),
    ({"DISTILL_MODEL_RETRIES": "-1"}, "DISTILL_MODEL_RETRIES"),
])
def test_bad_configuration_names_the_variable(env, names):
    with pytest.raises(ConfigError, match=names):
        ModelConfig.from_env(env)


@pytest.mark.parametrize("host, local", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("localhost", True), ("LOCALHOST", True),
    ("::1", True), ("[::1]", True), ("0.0.0.0", False), ("10.0.0.1", False),
    ("192.168.1.20", False), ("128.0.0.1", False), ("model.invalid", False),
    ("localhost.invalid", False), ("::ffff:7f00:1", False),
])
def test_loopback_means_127_slash_8_ipv6_loopback_and_localhost(host, local):
    assert llm.is_loopback(host) is local


def test_local_only_refuses_a_remote_endpoint_before_connecting(monkeypatch):
    def no_connection(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(llm.http.client.HTTPConnection, "connect", no_connection)
    config = config_for("http://model.invalid:11434")
    with pytest.raises(ConfigError, match="not on this machine"):
        llm.require_local(config)
    llm.require_local(config_for("http://[::1]:11434"))
    llm.require_local(ModelConfig.from_env({"DISTILL_MODEL_PROVIDER": "baseline"}))


# ---------- the wire formats


@pytest.mark.parametrize("provider, stream, path", [
    ("ollama", False, "/api/chat"),
    ("ollama", True, "/api/chat"),
    ("openai", False, "/v1/chat/completions"),
    ("openai", True, "/v1/chat/completions"),
])
def test_answers_in_each_wire_format(provider, stream, path):
    with ModelServer() as server:
        reply = llm.chat(config_for(server.url, provider, stream), MESSAGES)
    assert reply.text == ANSWER
    assert reply.attempts == 1
    assert server.paths == [path]
    assert server.requests[0]["model"] == "llama3.2"
    assert server.requests[0]["messages"] == MESSAGES
    assert server.requests[0]["stream"] is stream


def test_openai_base_url_may_end_in_v1_and_the_key_is_sent_as_bearer():
    with ModelServer() as server:
        config = config_for(server.url + "/v1", "openai", DISTILL_MODEL_API_KEY="sk-local")
        assert llm.chat(config, MESSAGES).text == ANSWER
    assert server.paths == ["/v1/chat/completions"]
    assert server.headers[0]["Authorization"] == "Bearer sk-local"
    assert "sk-local" not in json.dumps(config.as_record())


def test_a_retry_after_a_server_error_succeeds():
    with ModelServer("flaky") as server:
        reply = llm.chat(config_for(server.url), MESSAGES)
    assert (reply.text, reply.attempts, len(server.requests)) == (ANSWER, 2, 2)


# ---------- failures


def test_a_slow_server_times_out_after_every_retry():
    with ModelServer("slow", delay=3.0) as server:
        started = time.monotonic()
        with pytest.raises(ModelCallFailed, match=r"no reply within 0.5 s \(2 attempt"):
            llm.chat(config_for(server.url, DISTILL_MODEL_RETRIES="1"), MESSAGES)
        assert time.monotonic() - started < 2.5
    assert len(server.requests) == 2


def test_a_slow_stream_times_out_too():
    with (ModelServer("slow", delay=3.0) as server,
          pytest.raises(ModelCallFailed, match="no reply within")):
        llm.chat(config_for(server.url, "openai", True, DISTILL_MODEL_RETRIES="0"), MESSAGES)
    assert len(server.requests) == 1


@pytest.mark.parametrize("provider", ["ollama", "openai"])
def test_a_dropped_connection_fails_after_the_retries(provider):
    with (ModelServer("drop") as server,
          pytest.raises(ModelCallFailed, match="connection failed")):
        llm.chat(config_for(server.url, provider, DISTILL_MODEL_RETRIES="2"), MESSAGES)
    assert len(server.requests) == 3


@pytest.mark.parametrize("provider", ["ollama", "openai"])
def test_a_stream_cut_short_is_a_failure_not_a_short_answer(provider):
    with ModelServer("drop_mid_stream") as server, pytest.raises(ModelCallFailed):
        llm.chat(config_for(server.url, provider, True, DISTILL_MODEL_RETRIES="0"), MESSAGES)


@pytest.mark.parametrize("behaviour, provider, message", [
    ("not_json", "ollama", "malformed reply: the reply is not JSON"),
    ("not_json", "openai", "malformed reply: the reply is not JSON"),
    ("no_message", "ollama", "no message in the Ollama reply"),
    ("no_message", "openai", "no choices in the completion"),
    ("error_field", "ollama", "the server reported an error: out of memory"),
])
def test_malformed_replies_are_failures_that_say_what_was_wrong(behaviour, provider, message):
    with ModelServer(behaviour) as server, pytest.raises(ModelCallFailed, match=message):
        llm.chat(config_for(server.url, provider, DISTILL_MODEL_RETRIES="0"), MESSAGES)


@pytest.mark.parametrize("stream_lines, parse, message", [
    ([b'{"message":{"content":"a"},"done":false}\n', b"{oops\n"], llm.ollama_stream,
     "a streamed line is not JSON"),
    ([b'{"message":{"content":"a"},"done":false}\n'], llm.ollama_stream,
     "ended before the model said it was done"),
    ([b'data: {"choices":[{"delta":{"content":"a"}}]}\n', b"data: {oops\n"],
     llm.openai_stream, "a streamed event is not JSON"),
    ([b'data: {"choices":[{"delta":{"content":"a"}}]}\n'], llm.openai_stream,
     "ended before \\[DONE\\]"),
    ([b'data: {"choices":[{"delta":{"content":7}}]}\n'], llm.openai_stream,
     "delta.content is not a string"),
])
def test_malformed_streams_are_failures(stream_lines, parse, message):
    with pytest.raises(ModelCallFailed, match=message):
        parse(iter(stream_lines))


def test_a_missing_model_is_not_retried_and_says_to_pull_it():
    with (ModelServer("not_found") as server,
          pytest.raises(ModelCallFailed, match="HTTP 404.*ollama pull llama3.2")):
        llm.chat(config_for(server.url, DISTILL_MODEL_RETRIES="3"), MESSAGES)
    assert len(server.requests) == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_nothing_listening_names_what_to_start():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ModelUnreachable) as raised:
        llm.chat(config_for(url), MESSAGES)
    text = str(raised.value)
    assert "no model answered" in text and "2 attempt(s)" in text
    assert "`ollama serve`" in text and "`ollama pull llama3.2`" in text
    assert raised.value.exit_code == 2
    with pytest.raises(ModelUnreachable, match="OpenAI-compatible server"):
        llm.chat(config_for(url, "openai"), MESSAGES)


# ---------- the baseline


def hit(steps: list[str], tools: list[str]) -> Hit:
    return Hit("pb_1", 3.5, "tool_use: cancel", "t1", "tool_use", steps, tools,
               "Task: cancel\n\nSteps:\n1. call a\n\nWorked answer:\nThe booking is cancelled.")


def test_baseline_restates_the_top_playbook_deterministically():
    answer = llm.baseline_answer([hit(["call get_user", "call cancel"], ["cancel", "get_user"]),
                                  hit([], [])])
    assert answer == (
        "Following playbook pb_1 (tool_use: cancel).\n\n"
        "Steps:\n1. call get_user\n2. call cancel\n\n"
        "Tools: cancel, get_user\n\n"
        "Answer:\nThe booking is cancelled."
    )
    assert llm.baseline_answer([]) == ""
