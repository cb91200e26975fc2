"""The ``iris`` command. Each command lives in its own module with a ``register(app)``."""

from __future__ import annotations

import importlib

import typer

# Modules under iris3d.cli that add commands; each defines ``register(app: typer.Typer)``.
_COMMAND_MODULES: tuple[str, ...] = (
    "info", "segment", "process", "compare", "models", "serve", "remote", "db", "backup", "openapi",
    "pacs", "receiver",
)


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="iris",
        help="Iris: turn a CT scan into an explorable 3D model of the patient's anatomy.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    # A callback keeps ``iris`` a group of commands even while it has only one.
    app.callback()(_root)
    for module_name in _COMMAND_MODULES:
        importlib.import_module(f"iris3d.cli.{module_name}").register(app)
    return app


def _root() -> None:
    """Iris: turn a CT scan into an explorable 3D model of the patient's anatomy."""


def main() -> None:
    build_app()()
