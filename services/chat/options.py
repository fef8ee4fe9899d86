"""What a chat request asks of the model beyond its messages (contract §18): sampling, tools, output format.

`ChatOptions` travels from the controllers through the service to every provider; each provider
says which option it cannot honour (`ChatProvider.unsupported`), so a request goes only to the
providers of its model that can honour all of it (e.g. `logit_bias`: OpenAI, not Gemini). Every
option that can change an answer is in the cache key (`cache_shape`); `user` and
`safety_identifier` are not (they name the end user for the provider's abuse monitoring and do
not change what is answered).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh"]
ToolMode = Literal["auto", "none", "required"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call the model asked for; `arguments` is JSON text, as OpenAI sends it."""

    id: str
    name: str
    arguments: str = "{}"

    def as_dict(self) -> dict[str, Any]:
        """OpenAI's wire shape (`type: function`)."""
        return {"id": self.id, "type": "function",
                "function": {"name": self.name, "arguments": self.arguments}}


@dataclass(frozen=True, slots=True)
class Tool:
    """A function the model may call: name, description and a JSON-schema of its arguments."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)
    strict: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """OpenAI's wire shape (`{"type": "function", "function": {...}}`)."""
        function: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            function["description"] = self.description
        if self.parameters:
            function["parameters"] = self.parameters
        if self.strict is not None:
            function["strict"] = self.strict
        return {"type": "function", "function": function}


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    """Structured output: any JSON object, or JSON that fits `schema` (checked when `strict`)."""

    type: Literal["json_object", "json_schema"]
    name: str | None = None
    schema: dict[str, Any] | None = field(default=None, hash=False)
    strict: bool = False

    def as_dict(self) -> dict[str, Any]:
        """OpenAI's wire shape."""
        if self.type == "json_object":
            return {"type": "json_object"}
        spec: dict[str, Any] = {"name": self.name or "answer", "strict": self.strict}
        if self.schema is not None:
            spec["schema"] = self.schema
        return {"type": "json_schema", "json_schema": spec}


@dataclass(frozen=True, slots=True)
class ChatOptions:
    """Every request option except `temperature` and `max_tokens` (which the port takes by name)."""

    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logit_bias: tuple[tuple[str, float], ...] = ()
    reasoning_effort: ReasoningEffort | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    user: str | None = None
    safety_identifier: str | None = None  # like `user`: who asks, for the provider's abuse monitoring
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolMode | str | None = None  # a mode, or the name of the one function to call
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    logprobs: bool = False  # the answer's token log probabilities (OpenAI's `logprobs` object)
    top_logprobs: int | None = None

    def cache_shape(self) -> dict[str, Any]:
        """The options that can change an answer, set ones only (requests without any keep their keys)."""
        shape: dict[str, Any] = {}
        for name in ("top_p", "seed", "presence_penalty", "frequency_penalty", "reasoning_effort",
                     "verbosity", "tool_choice", "parallel_tool_calls", "top_logprobs"):
            value = getattr(self, name)
            if value is not None:
                shape[name] = value
        if self.stop:
            shape["stop"] = list(self.stop)
        if self.logprobs:
            shape["logprobs"] = True
        if self.logit_bias:
            shape["logit_bias"] = [list(pair) for pair in self.logit_bias]
        if self.tools:
            shape["tools"] = [tool.as_dict() for tool in self.tools]
        if self.response_format is not None:
            shape["response_format"] = self.response_format.as_dict()
        return shape

    @property
    def wants_json(self) -> bool:
        """Whether the answer must be JSON (`response_format`)."""
        return self.response_format is not None

    def forced_tool(self) -> Tool | None:
        """The tool the model must call (`tool_choice` naming one, or `required`: the first), else None."""
        if not self.tools or self.tool_choice in (None, "auto", "none"):
            return None
        if self.tool_choice == "required":
            return self.tools[0]
        return next((t for t in self.tools if t.name == self.tool_choice), None)


NO_OPTIONS = ChatOptions()
