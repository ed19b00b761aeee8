"""A template's property shapes and a service API's, converted both ways.

Creating a resource turns its template's properties into API requests; reading it back turns
the API's answers into the template's shapes, to compare. Where the two shapes differ by
names alone, one `FieldMap` says how, and serves both directions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


def as_list(value: Any) -> list[Any]:
    """A policy element that may be one value or a list of them, as a list."""
    return value if isinstance(value, list) else [value]


def as_json(value: Any) -> Any:
    """A policy or document an API returns as JSON text (or already parsed)."""
    return json.loads(value) if isinstance(value, str) else value


def subset(props: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """The properties named, those the template sets; spelled alike in the template and the API."""
    return {key: props[key] for key in keys if key in props}


def renamed(data: Mapping[str, Any], **names: str) -> dict[str, Any]:
    """API field -> template property, for the fields named; others dropped."""
    return {prop: data[field_] for field_, prop in names.items() if field_ in data}


def api_tags(props: Mapping[str, Any], key: str = "Key", value: str = "Value") -> list[Any]:
    """The template's `Tags` as an API's tag list, its key and value fields so named."""
    return [{key: tag["Key"], value: tag["Value"]} for tag in props.get("Tags", [])]


def template_tags(
    tags: Iterable[Mapping[str, Any]], key: str = "Key", value: str = "Value"
) -> list[Any]:
    """An API's tag list as the template's `Tags`."""
    return [{"Key": tag[key], "Value": tag[value]} for tag in tags]


def tag_map(props: Mapping[str, Any]) -> dict[str, str]:
    """The template's `Tags` as the name -> value map some APIs take."""
    return {tag["Key"]: tag["Value"] for tag in props.get("Tags", [])}


def tags_of_map(tags: Mapping[str, str]) -> list[Any]:
    """An API's name -> value tag map as the template's `Tags`."""
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def camel_keys(value: Any) -> Any:
    """CloudFormation spells some settings in PascalCase where the API has camelCase."""
    if isinstance(value, list):
        return [camel_keys(item) for item in value]
    if isinstance(value, dict):
        return {key[0].lower() + key[1:]: camel_keys(item) for key, item in value.items()}
    return value


def pascal_keys(value: Any) -> Any:
    """The API's camelCase settings in CloudFormation's PascalCase."""
    if isinstance(value, list):
        return [pascal_keys(item) for item in value]
    if isinstance(value, dict):
        return {key[0].upper() + key[1:]: pascal_keys(item) for key, item in value.items()}
    return value


_ABSENT = object()


@dataclass(frozen=True)
class FieldMap:
    """One shape as the template and as the API spell it: template key -> API key.

    A dotted API key is a field nested in the API's shape (`Filter.Prefix`). `items` converts
    what a field holds (a shape, or a list of them) by its own map; `others` passes the
    fields not named as they are, else they are dropped.
    """

    fields: Mapping[str, str]
    items: Mapping[str, FieldMap] = field(default_factory=dict)
    others: bool = False

    def to_api(self, template: Mapping[str, Any]) -> dict[str, Any]:
        return self._convert(template, to_api=True)

    def from_api(self, api: Mapping[str, Any]) -> dict[str, Any]:
        return self._convert(api, to_api=False)

    def _convert(self, shape: Mapping[str, Any], *, to_api: bool) -> dict[str, Any]:
        converted: dict[str, Any] = {}
        named = set()
        for template_key, api_key in self.fields.items():
            source, target = (template_key, api_key) if to_api else (api_key, template_key)
            named.add(source.split(".")[0])
            value = _get(shape, source)
            if value is _ABSENT:
                continue
            if (inner := self.items.get(template_key)) is not None:
                value = (
                    [inner._convert(item, to_api=to_api) for item in value]
                    if isinstance(value, list)
                    else inner._convert(value, to_api=to_api)
                )
            _put(converted, target, value)
        if self.others:
            converted |= {key: value for key, value in shape.items() if key not in named}
        return converted


def _get(shape: Mapping[str, Any], path: str) -> Any:
    value: Any = shape
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return _ABSENT
        value = value[key]
    return value


def _put(shape: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        shape = shape.setdefault(key, {})
    shape[last] = value


def covers(expected: Any, observed: Any) -> bool:
    """The API's value holds everything the template declares (APIs add defaults)."""
    if isinstance(expected, dict) and isinstance(observed, dict):
        return all(k in observed and covers(v, observed[k]) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(observed, list):
        if len(expected) != len(observed):
            return False
        remaining = list(observed)
        for item in expected:
            match = next((o for o in remaining if covers(item, o)), None)
            if match is None:
                return False
            remaining.remove(match)
        return True
    return _scalar(expected) == _scalar(observed)


def _scalar(value: Any) -> str:
    """A template's scalar as text: `true` and an API's `True` alike, `5.0` as `5`."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
