"""A command's settings as one dataclass: its fields are the command's options, stated once.

A field is an option when it was declared with :func:`setting` (a help text); fields without one
are settings for library callers only. The option is ``--field-name`` (or ``flag``), its value
lands in the field of the same name, and its help ends with the field's default, so that the
default is written in one place: the dataclass (cc_net's ``mine.Config`` style).
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Callable
from typing import Any

T = typing.TypeVar("T")


def setting(default: Any = dataclasses.MISSING, help_text: str = "", *, flag: str | None = None,
            default_text: str | None = None, **argparse_kwargs: Any) -> Any:
    """A dataclass field that is also a command-line option. ``default_text`` says what the
    default means when its value alone would not (e.g. None: "from the input size");
    ``argparse_kwargs`` (type, metavar, choices, nargs, action, required) go to ``add_argument``,
    a ``type``'s ValueError becoming argparse's one-line usage error."""
    metadata = {"help": help_text, "flag": flag, "default_text": default_text,
                "argparse": argparse_kwargs}
    if isinstance(default, list):
        return dataclasses.field(default_factory=default.copy, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """Add an option to ``parser`` for every :func:`setting` field of ``cls``."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if "help" not in field.metadata:
            continue
        meta, default, hint = field.metadata, _default(field), hints[field.name]
        flag = meta["flag"] or "--" + field.name.replace("_", "-")
        kwargs: dict[str, Any] = dict(meta["argparse"])
        note = ""
        if hint is bool:
            kwargs.update(action="store_false" if default else "store_true", default=default)
        else:
            if "type" in kwargs:
                kwargs["type"] = _argument_type(kwargs["type"])
            elif "action" not in kwargs:
                kwargs["type"] = _scalar(hint)
            if default is dataclasses.MISSING:
                kwargs.setdefault("required", True)
            else:
                kwargs["default"] = default
            if not kwargs.get("required"):
                note = _default_note(default, meta["default_text"])
        if flag.startswith("-"):
            kwargs["dest"] = field.name
        else:  # a positional: argparse names its dest itself, and it has no "required"
            kwargs.pop("required", None)
        # argparse %-formats help texts: a literal "%" (e.g. "20%") must reach it as "%%"
        kwargs["help"] = (meta["help"] + note).replace("%", "%%")
        parser.add_argument(flag, **kwargs)


def from_args(cls: type[T], args: argparse.Namespace, **changes: Any) -> T:
    """An instance of ``cls`` from parsed options (the fields they do not name keep their
    defaults), with ``changes`` on top."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)
              if f.init and hasattr(args, f.name)}
    return cls(**{**values, **changes})


def _default(field: dataclasses.Field) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return field.default


def _default_note(default: Any, text: str | None) -> str:
    if text is None:
        if default is None or default is dataclasses.MISSING:
            return ""
        text = ",".join(map(str, default)) if isinstance(default, list | tuple) else str(default)
    return f" (default: {text})"


def _scalar(hint: Any) -> type:
    """``int`` for ``int`` and ``int | None``, ``float`` likewise; else ``str``."""
    options = [t for t in typing.get_args(hint) if t is not type(None)] or [hint]
    return options[0] if len(options) == 1 and options[0] in (int, float) else str


def _argument_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from e

    convert.__name__ = getattr(parse, "__name__", "value")
    return convert
