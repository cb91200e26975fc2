"""What the command line prints of an error: the scrubbed message, literally, never markup."""

from __future__ import annotations

import httpx
import pytest
import typer
from typer.testing import CliRunner

from iris3d.cli.common import EXIT_USER_ERROR, friendly_errors
from iris3d.cli.remote_client import RemoteError, _check
from iris3d.errors import IrisError


def _failing(message: str) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    @friendly_errors
    def fail() -> None:
        raise IrisError(message)

    return app


def test_a_message_with_markup_is_printed_as_it_is() -> None:
    # As rich markup, "[/]" with nothing open would crash the printing of the error itself.
    result = CliRunner().invoke(_failing("[/] scan [bold]x[/bold].nii: not a volume"))
    assert result.exit_code == EXIT_USER_ERROR
    assert "[/] scan [bold]x[/bold].nii: not a volume" in result.output


def test_a_message_is_scrubbed_before_it_reaches_the_terminal() -> None:
    result = CliRunner().invoke(_failing("/home/ann/ct.nii\x1b]0;pwned\x07\x1b[2J: bad\nFAKE"))
    assert result.exit_code == EXIT_USER_ERROR
    # The user's own paths stay: they are what the command was given.
    assert "/home/ann/ct.nii: bad FAKE" in result.output.replace("\n", "")
    assert "\x1b" not in result.output and "pwned" not in result.output


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(502, text="\x1b[2J<html>" + "x" * 10_000),
        httpx.Response(400, json={"detail": "bad\r\nfake: line\x00" + "y" * 10_000}),
    ],
)
def test_a_servers_refusal_is_one_short_printable_line(response: httpx.Response) -> None:
    with pytest.raises(RemoteError) as caught:
        _check(response)
    message = str(caught.value)
    assert message.startswith(f"{response.status_code}: ")
    assert message.isprintable() and len(message) < 520
