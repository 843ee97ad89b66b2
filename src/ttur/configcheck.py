"""Validate a workflow config against its JSON schema and report the first problem as one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ttur.errors import UserError


def _key_path(path: list[str | int]) -> str:
    parts = []
    for item in path:
        parts.append(f"[{item}]" if isinstance(item, int) else f".{item}" if parts else str(item))
    return "".join(parts) or "(top level)"


def _allowed_keys(fragment: dict[str, Any], root: dict[str, Any]) -> list[str]:
    """Property names a schema fragment accepts, following its allOf references into $defs."""
    keys = set(fragment.get("properties", {}))
    for part in fragment.get("allOf", []):
        ref = part.get("$ref", "")
        target = root["$defs"][ref.rsplit("/", 1)[-1]] if ref.startswith("#/$defs/") else part
        keys.update(_allowed_keys(target, root))
    return sorted(keys)


def _describe(error: jsonschema.ValidationError, root: dict[str, Any]) -> str:
    """One sentence: which key, what was given, what is allowed."""
    key = _key_path(list(error.absolute_path))
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        allowed = _allowed_keys(error.schema, root)
        extra = error.message.split("(")[-1].rstrip(")") if "(" in error.message else error.message
        where = "at the top level" if key == "(top level)" else f"under '{key}'"
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return f"unknown config key {where}: {extra}{hint}"
    if error.validator == "enum":
        allowed = ", ".join(str(value) for value in error.validator_value)
        return f"config key '{key}' is {error.instance!r}; allowed values: {allowed}"
    if error.validator == "required":
        where = "at the top level" if key == "(top level)" else f"under '{key}'"
        return f"config is missing a required key {where}: {error.message}"
    return f"config key '{key}' = {error.instance!r} is invalid: {error.message}"


def validate_config(config: dict[str, Any], schema_path: str | Path) -> None:
    """Raise UserError naming the first invalid key (most specific error first); return None if valid."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(config))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        while best.context:  # oneOf/anyOf: descend to the branch that got furthest
            best = jsonschema.exceptions.best_match(best.context)
        raise UserError(_describe(best, schema))
    _check_datasets_fit_models(config)


def _check_datasets_fit_models(config: dict[str, Any]) -> None:
    """The language model trains on text datasets, the image models on image datasets."""
    from ttur.data.registry import DATASETS

    for index, experiment in enumerate(config["experiments"]):
        want = "text" if experiment["model"] == "lang" else "images"
        kind = DATASETS[experiment["dataset"]].kind
        if kind != want:
            allowed = ", ".join(name for name, spec in DATASETS.items() if spec.kind == want)
            raise UserError(
                f"config key 'experiments[{index}].dataset' is {experiment['dataset']!r}, a dataset of {kind}, but "
                f"model {experiment['model']!r} trains on {want}; allowed values: {allowed}"
            )
