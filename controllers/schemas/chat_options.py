"""The chat request options shared by `POST /v1/chat/completions` and `POST /api/v1/chat` (contract §18).

OpenAI's shapes for sampling, tools (`tools`, `tool_choice`, `parallel_tool_calls`, assistant
`tool_calls`) and structured output (`response_format`). `to_options` turns them into the
service's `ChatOptions`; every field here reaches the provider that answers.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from controllers.schemas.base import INT32_MAX, RequestBody
from services.chat.options import ChatOptions, ResponseFormat, Tool, ToolCall

_NAME = r"^[a-zA-Z0-9_-]{1,64}$"  # OpenAI's rule for function names


class FunctionIn(RequestBody):

    name: str = Field(pattern=_NAME)
    description: str | None = Field(default=None, max_length=4000)
    parameters: dict[str, Any] | None = None  # a JSON schema of the arguments (checked)
    strict: bool | None = None


class ToolIn(RequestBody):

    type: Literal["function"]  # hosted tools (web search, …) are not offered
    function: FunctionIn


class NamedFunction(RequestBody):
    name: str = Field(pattern=_NAME)


class NamedToolChoice(RequestBody):
    type: Literal["function"]
    function: NamedFunction


ToolChoiceIn = Literal["auto", "none", "required"] | NamedToolChoice


class JsonSchemaIn(RequestBody):
    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(default="answer", pattern=_NAME)
    description: str | None = None
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool | None = False


class TextFormat(RequestBody):
    type: Literal["text"]


class JsonObjectFormat(RequestBody):
    type: Literal["json_object"]


class JsonSchemaFormat(RequestBody):
    type: Literal["json_schema"]
    json_schema: JsonSchemaIn


ResponseFormatIn = Annotated[TextFormat | JsonObjectFormat | JsonSchemaFormat, Field(discriminator="type")]


# An earlier answer sent back is often the openai SDK's own object dumped (`messages.append(final
# .choices[0].message)`), which carries fields of the SDK's making: they are recognised by name as
# part of that echo (what they say is already in `arguments` and the list order), not refused.
SdkEcho = SkipJsonSchema[Any]


class CalledFunction(RequestBody):
    name: str = Field(pattern=_NAME)
    arguments: str = Field(default="{}", max_length=100_000)  # JSON text, as OpenAI sends it
    parsed_arguments: SdkEcho = None  # the SDK's parse() of `arguments`


class ToolCallIn(RequestBody):
    """A call an earlier assistant turn made (sent back in a tool loop)."""

    id: str = Field(min_length=1, max_length=200)
    type: Literal["function"] = "function"
    function: CalledFunction
    index: SdkEcho = None  # a streamed call's position, as the SDK's stream helper keeps it


def tool_calls_of(calls: list[ToolCallIn] | None) -> tuple[ToolCall, ...]:
    """The service's tool calls of an assistant turn."""
    return tuple(ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments) for c in calls or ())


Stop = str | Annotated[list[str], Field(max_length=4)]

# Options a chat provider may not honour (`ChatProvider.unsupported`): when no configured provider
# honours one, Muse refuses it by name (services/chat/routing.py), so /openapi.json says so: each
# body's `allOf` carries `unless_honoured(field)`, which app/openapi.py keeps only in that case.
HONOURED_PROBES: dict[str, ChatOptions] = {
    "logprobs": ChatOptions(logprobs=True),
    "logit_bias": ChatOptions(logit_bias=(("1", 1.0),)),
    "verbosity": ChatOptions(verbosity="low"),
}
_OFF: dict[str, dict[str, Any]] = {  # the field's values that ask nothing of a provider
    "logprobs": {"enum": [None, False]},
    "logit_bias": {"anyOf": [{"type": "null"}, {"type": "object", "maxProperties": 0}]},
    "verbosity": {"type": "null"},
}


def unless_honoured(field: str) -> dict[str, Any]:
    """An `allOf` member: `field`, when sent, asks nothing of a provider (`x-muse-unless-honoured`)."""
    return {"x-muse-unless-honoured": field, "if": {"required": [field]},
            "then": {"properties": {field: _OFF[field]}}}


class OptionsIn(RequestBody):
    """The option fields, as both chat bodies declare them."""

    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    stop: Stop | None = None
    seed: int | None = Field(default=None, ge=-INT32_MAX - 1, le=INT32_MAX)  # Gemini's is an int32
    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    logit_bias: dict[str, Annotated[float, Field(ge=-100, le=100)]] | None = None
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    user: str | None = Field(default=None, max_length=256)
    safety_identifier: str | None = Field(default=None, max_length=256)
    tools: list[ToolIn] | None = Field(default=None, max_length=128)
    tool_choice: ToolChoiceIn | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormatIn | None = None


def response_format_of(body: OptionsIn) -> ResponseFormat | None:
    form = body.response_format
    if form is None or isinstance(form, TextFormat):
        return None
    if isinstance(form, JsonObjectFormat):
        return ResponseFormat(type="json_object")
    spec = form.json_schema
    return ResponseFormat(type="json_schema", name=spec.name, schema=spec.schema_, strict=bool(spec.strict))


def to_options(body: OptionsIn) -> ChatOptions:
    """The service's options of a chat body (shape checks beyond the types: controllers/chat_fields.py)."""
    tools = tuple(Tool(name=t.function.name, description=t.function.description,
                       parameters=t.function.parameters or {}, strict=t.function.strict)
                  for t in body.tools or ())
    choice = body.tool_choice
    stop = (body.stop,) if isinstance(body.stop, str) else tuple(body.stop or ())
    return ChatOptions(
        top_p=body.top_p, stop=stop, seed=body.seed, presence_penalty=body.presence_penalty,
        frequency_penalty=body.frequency_penalty,
        logit_bias=tuple(sorted((body.logit_bias or {}).items())), reasoning_effort=body.reasoning_effort,
        verbosity=body.verbosity, user=body.user, safety_identifier=body.safety_identifier, tools=tools,
        tool_choice=choice.function.name if isinstance(choice, NamedToolChoice) else choice,
        parallel_tool_calls=body.parallel_tool_calls, response_format=response_format_of(body),
        logprobs=bool(getattr(body, "logprobs", False)), top_logprobs=getattr(body, "top_logprobs", None))
