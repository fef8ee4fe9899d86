"""The OpenAPI document, completed from route declarations (contract §2), and the offline docs page.

quart-schema documents request/response models. `MuseOpenAPIProvider` completes every
operation from what the route already declares for the runtime, so a new route is documented
by the same decorators that make it work:

- `@public` / `@require_role` (middlewares/access.py) → `security` (bearer, or none) and 401/403;
- `@idempotent` → the `Idempotency-Key` header and 409/422; `@required_headers` → required header
  parameters (a webhook's signature headers);
- request bodies (middlewares/body.py: `@validate_request`, `@request_body`) → every media type
  (JSON, multipart) with its schema, and 413/415/422;
- path parameters → 404; a querystring model, or any API route (an unknown query parameter,
  middlewares/query.py) → 422; rate limiting → 429 with `Retry-After` (unless the path is exempt);
  maintenance → 503 (unless the path stays open); 500 everywhere;
- `@answers(status, Model, headers=...)` → other success answers (201/202/204/303…),
  `@event_stream` → a `text/event-stream` 200, `@problems(402, 502, ...)` → the route's own
  problem statuses. A DELETE without a declared answer answers 204.

Every problem is `application/problem+json` with the `Problem` schema; every operation takes
`X-Request-ID`, and every answer carries it. `/docs` loads Swagger UI from Muse itself
(`/docs/assets/…`, the files of the pinned `swagger-ui-py` package): no CDN.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from quart import Blueprint, Quart, request
from quart_schema import hide
from quart_schema.openapi import OpenAPIProvider
from quart_schema.validation import QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, DataSource
from werkzeug.routing import Rule

from app.openapi_components import (
    EVENT_STREAM,
    HEADERS,
    OPENAI_ERROR_DETAIL_SCHEMA,
    OPENAI_ERROR_SCHEMA,
    PARAMETERS,
    PROBLEM_JSON,
    PROBLEM_SCHEMA,
    PROBLEM_STATUSES,
    SSE_EVENT,
    UPLOAD_TYPES,
)
from middlewares.access import policy_of, public
from middlewares.body import FORM, JSON, MULTIPART, declared_body, signed_model
from middlewares.idempotency import IDEMPOTENT_ATTR
from middlewares.policy import DEFAULT, policy_declared
from middlewares.query import FOREIGN_ATTR, is_api_path
from services.platform.errors import InvalidWebhook

if TYPE_CHECKING:
    from app.wiring import Container

F = TypeVar("F", bound=Callable[..., Any])

ANSWERS_ATTR = "_muse_answers"
HEADERS_ATTR = "_muse_required_headers"
PROBLEMS_ATTR = "_muse_problems"


def _merge_attr(fn: F, name: str, update: dict[Any, Any]) -> F:
    setattr(fn, name, {**getattr(fn, name, {}), **update})
    return fn


def answers(status: int, model: type | None = None, *, description: str = "",
            headers: Iterable[str] = (), media: str | tuple[str, ...] = JSON) -> Callable[[F], F]:
    """Document a success answer the view returns itself (201/202/204/303…); stackable."""
    entry = {"model": model, "description": description, "headers": tuple(headers), "media": media}
    return lambda fn: _merge_attr(fn, ANSWERS_ATTR, {status: entry})


def event_stream(description: str) -> Callable[[F], F]:
    """Document that the view may answer 200 as `text/event-stream`."""
    return answers(200, None, description=description, media=EVENT_STREAM)


def problems(*statuses: int) -> Callable[[F], F]:
    """Document the problem statuses a view raises beyond those its declarations imply; stackable."""
    return lambda fn: _merge_attr(fn, PROBLEMS_ATTR, dict.fromkeys(statuses, True))


def required_headers(*headers: tuple[str, str]) -> Callable[[F], F]:
    """Headers (name, description) a webhook delivery cannot go without (its signature): documented as
    `required: true` header parameters, so a generated client asks for them, and checked by the same
    declaration: a delivery missing one answers 400 `invalid_webhook` naming it, before anything else
    (whether or not the processor is configured here)."""
    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        async def view(*args: Any, **kwargs: Any) -> Any:
            missing = [name for name, _ in headers if not request.headers.get(name)]
            if missing:
                raise InvalidWebhook(f"Missing header{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
                                     "this is not a signed delivery.")
            return await fn(*args, **kwargs)

        setattr(view, HEADERS_ATTR, [*getattr(fn, HEADERS_ATTR, []), *headers])
        return view  # type: ignore[return-value]
    return decorate


# Choices known only at run time (configured models), marked `x-muse-choices` in request models.
DYNAMIC_CHOICES: dict[str, Callable[[Container], list[str]]] = {
    "chat_models": lambda container: [m.name for m in container.platform.catalog.models],
    "image_models": lambda container: ["default", *(p.name for p in container.media.image_providers)],
    "video_models": lambda container: ["default", *(p.name for p in container.media.video_providers)],
    "plans": lambda container: [p.name for p in container.platform.catalog.plans],
    "subscription_plans": lambda container: [  # plans an enabled payment processor sells
        p.name for p in container.platform.catalog.plans
        if any(processor.external_plan_id(p.name) for processor in container.payments.providers)],
    "credit_packs": lambda container: [p.name for p in container.platform.catalog.credit_packs],
    "gift_tiers": lambda container: [t.name for t in container.platform.catalog.gift_tiers],
    "providers": lambda container: list(dict.fromkeys(
        [*container.settings.chat_providers, *container.settings.image_providers])),
}


def _choices(name: str, container: Container) -> list[str]:
    try:
        return DYNAMIC_CHOICES[name](container)
    except AttributeError:  # a container not started yet (documents generated outside serving)
        return []


def _resolve_choices(node: Any, container: Container) -> None:
    if isinstance(node, dict):
        name = node.get("x-muse-choices")
        if isinstance(name, str) and name in DYNAMIC_CHOICES:
            values = _choices(name, container)
            if values:  # none configured: the route answers 503/422 whatever is sent
                node["enum"] = values
        keys = node.get("x-muse-key-choices")  # an object whose property names are the choices
        if isinstance(keys, str) and keys in DYNAMIC_CHOICES:
            value_schema = node.get("additionalProperties") or {}
            names = _choices(keys, container)
            if names:
                node["properties"] = {k: value_schema for k in names}
                node["additionalProperties"] = False
        for value in node.values():
            _resolve_choices(value, container)
    elif isinstance(node, list):
        for value in node:
            _resolve_choices(value, container)


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _problem_statuses(view: Callable[..., Any], rule: Rule, method: str, path: str) -> set[int]:
    is_public, _ = policy_of(view)
    found = {500, 503}  # 503 `service_unavailable`: a store that does not answer in time (contract §16)
    if not is_public:
        found |= {401, 403}
    declared = policy_declared(view) or DEFAULT
    if declared.rate_limited:
        found.add(429)
    if not declared.open_in_maintenance or declared.feature:
        found.add(503)
    if rule.arguments:
        found.add(404)
    if declared_body(view) and method in ("POST", "PUT", "PATCH"):
        found |= {413, 415, 422}
    if signed_model(view) is not None:
        found.add(413)  # MAX_CONTENT_LENGTH bounds every body; a webhook's other refusals are its 400
    if getattr(view, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, None) is not None or (
            is_api_path(path) and not getattr(view, FOREIGN_ATTR, False)):  # an unknown query parameter
        found.add(422)
    if getattr(view, IDEMPOTENT_ATTR, False):
        found |= {409, 422}
    found |= set(getattr(view, PROBLEMS_ATTR, {}))
    return found


_SOURCE = {JSON: DataSource.JSON, MULTIPART: DataSource.FORM_MULTIPART, FORM: DataSource.FORM}


class MuseOpenAPIProvider(OpenAPIProvider):
    """quart-schema's generator plus a pass that completes each operation from its route's declarations
    (and the choices the running configuration offers, read from `container`)."""

    container: Container

    def build_path_parameter(self, name: str, converter: Any) -> dict[str, Any]:
        parameter = super().build_path_parameter(name, converter)
        regex = getattr(converter, "regex", "[^/]+")
        if regex != "[^/]+" and parameter["schema"] == {"type": "string"}:
            parameter["schema"]["pattern"] = f"^{regex}$"
        return parameter

    def build_response_object(self, model: type[Any], headers_model: type[Any] | None
                              ) -> tuple[dict[str, Any], dict[str, Any]]:
        """quart-schema's answer, its object schema named in components (a `$ref`), not inlined.

        Inlined, the same model under two statuses (201 and 202 of `POST /api/v1/images`) or two
        operations is two anonymous schemas to a client generator: duplicate or invalid models."""
        response, definitions = super().build_response_object(model, headers_model)
        media = response["content"][JSON]
        schema = media["schema"]
        if schema.get("type") == "object" and "properties" in schema and isinstance(model, type):
            name = model.__name__
            definitions[name] = schema
            media["schema"] = _ref("schemas", name)
        return response, definitions

    def build_paths(self, rule: Rule) -> tuple[dict, dict]:
        paths, components = super().build_paths(rule)
        view = self._app.view_functions[rule.endpoint]
        for path, operations in paths.items():
            for method in list(operations):
                operations[method] = self._complete(copy.deepcopy(operations[method]), view, rule,
                                                    method.upper(), path, components)
        return paths, components

    def _complete(self, op: dict[str, Any], view: Callable[..., Any], rule: Rule, method: str,
                  path: str, components: dict[str, Any]) -> dict[str, Any]:
        is_public, role = policy_of(view)
        op["security"] = [] if is_public else [{"bearer": []}]
        if role is not None:
            op["x-muse-min-role"] = role.name
            note = f"Requires role {role.name} or above."
            op["description"] = f"{op.get('description', '')}\n\n{note}".strip()
        op["parameters"] = [*op.get("parameters", []), _ref("parameters", "XRequestID")]
        if getattr(view, IDEMPOTENT_ATTR, False):
            op["parameters"].append(_ref("parameters", "IdempotencyKey"))
        for name, description in getattr(view, HEADERS_ATTR, []):
            op["parameters"].append({"name": name, "in": "header", "required": True,
                                     "description": description,
                                     "schema": {"type": "string", "minLength": 1}})

        declared = declared_body(view) if method in ("POST", "PUT", "PATCH", "DELETE") else {}
        if declared:
            content: dict[str, Any] = {}
            for media, model in declared.items():
                body, defs = self.build_request_body(model, _SOURCE[media])
                components.update(defs)
                if media == MULTIPART:  # uploads: the image types Muse decodes
                    props = body["content"][media]["schema"].get("properties", {})
                    body["content"][media]["encoding"] = {
                        name: {"contentType": UPLOAD_TYPES} for name, prop in props.items()
                        if prop.get("format") == "binary" or any(
                            p.get("format") == "binary" for p in prop.get("anyOf", []))}
                content.update(body["content"])
            op["requestBody"] = {"required": method != "DELETE", "content": content}  # a DELETE's is optional
        elif (event := signed_model(view)) is not None:  # a webhook: the event its sender signs
            body, defs = self.build_request_body(event, DataSource.JSON)
            components.update(defs)
            op["requestBody"] = {"required": True, "content": body["content"]}

        responses: dict[Any, Any] = {str(k): v for k, v in op.get("responses", {}).items()}
        for status, entry in getattr(view, ANSWERS_ATTR, {}).items():
            responses[str(status)] = self._answer(responses.get(str(status)), entry, components)
        if not any(k.startswith("2") or k.startswith("3") for k in responses):
            if method == "DELETE":
                responses["204"] = {"description": "Done; no content."}
            else:
                responses["200"] = {"description": "OK", "content": {JSON: {"schema": {"type": "object"}}}}
        for response in responses.values():
            response.setdefault("headers", {})["X-Request-ID"] = _ref("headers", "XRequestID")
        kind = "OpenAIError" if path.startswith("/v1/") else "Problem"  # /v1 answers OpenAI's envelope
        for status in sorted(_problem_statuses(view, rule, method, path)):
            responses.setdefault(str(status), _ref("responses", f"{kind}{status}"))
        op["responses"] = dict(sorted(responses.items()))
        return op

    def _answer(self, existing: dict[str, Any] | None, entry: dict[str, Any],
                components: dict[str, Any]) -> dict[str, Any]:
        response = existing or {"description": entry["description"] or "OK"}
        if entry["description"] and not existing:
            response["description"] = entry["description"]
        if entry["model"] is not None:
            built, defs = self.build_response_object(entry["model"], None)
            components.update(defs)
            response.setdefault("content", {})[entry["media"]] = built["content"][JSON]
        elif entry["media"] == EVENT_STREAM:
            response.setdefault("content", {})[EVENT_STREAM] = {"schema": SSE_EVENT}
            if entry["description"]:
                before = response.get("description") or ""
                response["description"] = f"{before} {entry['description']}".strip()
        elif entry["media"] == JSON:
            response.setdefault("content", {})[JSON] = {"schema": {"type": "object"}}
        elif isinstance(entry["media"], tuple):  # one of several types (e.g. an export's formats)
            for media in entry["media"]:
                response.setdefault("content", {})[media] = {"schema": {"type": "object"}} if media == JSON \
                    else {"schema": {"type": "string", "format": "binary"}}
        elif entry["media"]:
            response.setdefault("content", {})[entry["media"]] = {"schema": {"type": "string",
                                                                             "format": "binary"}}
        for header in entry["headers"]:
            response.setdefault("headers", {})[header] = _ref("headers", re.sub(r"[^A-Za-z]", "", header))
        return response

    def schema(self) -> dict[str, Any]:
        schema = super().schema()
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        components["headers"] = HEADERS
        components["parameters"] = PARAMETERS
        components["responses"] = {
            f"Problem{status}": {
                "description": meaning,
                "headers": {"X-Request-ID": _ref("headers", "XRequestID"),
                            **({"Retry-After": _ref("headers", "RetryAfter")} if status == 429 else {})},
                "content": {PROBLEM_JSON: {"schema": _ref("schemas", "Problem")}},
            }
            for status, meaning in PROBLEM_STATUSES.items()
        }
        components["schemas"]["OpenAIError"] = OPENAI_ERROR_SCHEMA
        components["schemas"]["OpenAIErrorDetail"] = OPENAI_ERROR_DETAIL_SCHEMA
        components["responses"].update({
            f"OpenAIError{status}": {
                "description": f"{meaning} (OpenAI's error envelope, contract section 12)",
                "headers": {"X-Request-ID": _ref("headers", "XRequestID"),
                            **({"Retry-After": _ref("headers", "RetryAfter")} if status == 429 else {})},
                "content": {JSON: {"schema": _ref("schemas", "OpenAIError")}},
            }
            for status, meaning in PROBLEM_STATUSES.items()
        })
        _resolve_choices(schema, self.container)
        components.setdefault("securitySchemes", {})["bearer"] = {
            "type": "http", "scheme": "bearer",
            "description": "A Clerk session JWT or a Muse API key (`mk_live_…`).",
        }
        return schema


def _swagger_assets() -> Path:
    import swagger_ui  # type: ignore[import-untyped]

    return Path(swagger_ui.__file__).parent / "static"


DOCS_ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js",
               "favicon-32x32.png", "favicon-16x16.png")

docs_bp = Blueprint("docs_assets", __name__)


@docs_bp.get("/docs/assets/<name>")
@public
@hide
async def docs_asset(name: str):  # type: ignore[no-untyped-def]
    """A file of the Swagger UI page (served by Muse: the docs work offline)."""
    from quart import send_from_directory

    from services.platform.errors import NotFound

    if name not in DOCS_ASSETS:
        raise NotFound()
    response = await send_from_directory(_swagger_assets(), name)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def openapi_provider(container: Container) -> type[MuseOpenAPIProvider]:
    """The document generator for an app over `container` (quart-schema builds it per app)."""
    return type("MuseOpenAPIProvider", (MuseOpenAPIProvider,), {"container": container})


def install_docs(app: Quart) -> None:
    """Serve the docs page's assets from Muse itself instead of a CDN (call before QuartSchema)."""
    app.config["QUART_SCHEMA_SWAGGER_JS_URL"] = "/docs/assets/swagger-ui-bundle.js"
    app.config["QUART_SCHEMA_SWAGGER_CSS_URL"] = "/docs/assets/swagger-ui.css"
    app.register_blueprint(docs_bp)
