"""Objects against the Kubernetes JSON schema of one pinned Kubernetes version.

The schemas come with the `kubernetes-validate` package (strict variants: unknown fields are
errors). Custom resources we create (monitoring.coreos.com: ServiceMonitor, PrometheusRule) have
no schema there; they are checked against the small schemas below, which cover the fields we set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import jsonschema
import referencing
import referencing.jsonschema
from kubernetes_validate.utils import schema_contents

KUBERNETES_VERSION = "1.34.0"  # the oldest Kubernetes the stacks support; its API must accept every object

_LABEL_SELECTOR = {
    "type": "object",
    "properties": {
        "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
        "matchExpressions": {"type": "array"},
    },
    "additionalProperties": False,
}
_METADATA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}
_DURATION = {
    "type": "string",
    "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
}
_SERVICE_MONITOR_SPEC = {
    "type": "object",
    "required": ["selector", "endpoints"],
    "properties": {
        "selector": _LABEL_SELECTOR,
        "namespaceSelector": {
            "type": "object",
            "properties": {
                "any": {"type": "boolean"},
                "matchNames": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": False,
        },
        "jobLabel": {"type": "string"},
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "port": {"type": "string"},
                    "targetPort": {"type": ["string", "integer"]},
                    "path": {"type": "string", "pattern": "^/"},
                    "scheme": {"enum": ["http", "https"]},
                    "interval": _DURATION,
                    "scrapeTimeout": _DURATION,
                },
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}
_PROMETHEUS_RULE_SPEC = {
    "type": "object",
    "required": ["groups"],
    "properties": {
        "groups": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "rules"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "interval": _DURATION,
                    "rules": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["expr"],
                            "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
                            "properties": {
                                "alert": {"type": "string"},
                                "record": {"type": "string"},
                                "expr": {"type": ["string", "integer"]},
                                "for": _DURATION,
                                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                "annotations": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                },
                            },
                            "additionalProperties": False,
                        },
                    },
                },
                "additionalProperties": False,
            },
        }
    },
    "additionalProperties": False,
}


def _custom_resource(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The schema of a custom resource object: exactly apiVersion, kind, metadata and this spec."""
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": _METADATA,
            "spec": spec,
        },
        "additionalProperties": False,
    }


CUSTOM_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    (api_version, kind): _custom_resource(api_version, kind, spec)
    for api_version, kind, spec in (
        ("monitoring.coreos.com/v1", "ServiceMonitor", _SERVICE_MONITOR_SPEC),
        ("monitoring.coreos.com/v1", "PrometheusRule", _PROMETHEUS_RULE_SPEC),
    )
}


class NoSchema(LookupError):
    pass


def _schema_dir(version: str) -> str:
    return f"v{version}-local-strict"


@cache
def _registry(version: str) -> referencing.Registry:
    definitions = schema_contents(f"kubernetes-json-schema/{_schema_dir(version)}/_definitions.json", version)
    return (
        referencing.Resource.from_contents(definitions, default_specification=referencing.jsonschema.DRAFT202012)
        @ referencing.Registry()
    )


@cache
def _validator(version: str, api_version: str, kind: str) -> jsonschema.protocols.Validator:
    custom = CUSTOM_SCHEMAS.get((api_version, kind))
    if custom is not None:
        return jsonschema.Draft202012Validator(custom)
    # apps/v1 -> apps-v1, networking.k8s.io/v1 -> networking-v1, v1 -> v1
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = schema_contents(f"kubernetes-json-schema/{_schema_dir(version)}/{kind.lower()}-{api}.json", version)
    except FileNotFoundError:
        raise NoSchema(f"no schema for {api_version} {kind} in Kubernetes {version}") from None
    return jsonschema.Draft202012Validator(schema, registry=_registry(version))


def schema_errors(obj: dict[str, Any], version: str = KUBERNETES_VERSION) -> Iterator[tuple[str, str]]:
    """(field path, message) for every schema violation of one object."""
    validator = _validator(version, str(obj.get("apiVersion")), str(obj.get("kind")))
    for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(str(p) for p in error.absolute_path) or "(object)"
        message = error.message if len(error.message) < 300 else error.message[:300] + "..."
        yield path, message
