"""The calculator tool: right answers, readable results, and every guard refusing at once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from access.policy import AllowAll
from galaxy_chat.settings import load_settings
from galaxy_chat.vocabulary.users import User
from galaxy_chat.vocabulary.widgets import Markdown
from tools.base import ToolContext, ToolResult
from tools.calculator import BasicMathTool


async def calc(expression: str, tmp_path: Path) -> ToolResult:
    settings = load_settings(env_file=None, data_dir=tmp_path)
    context = ToolContext(User("tester@example.com"), "session-1", settings, AllowAll())
    tool = BasicMathTool(settings)
    return await tool.run(tool.Params(**tool.command_arguments(expression)), context)


GOOD = [
    ("2*(3+4)", "2*(3+4) = 14"),
    ("10/2", "10/2 = 5"),
    ("7/2", "7/2 = 3.5"),
    ("0.1+0.2", "0.1+0.2 = 0.3"),
    ("-7 // 2", "-7 // 2 = -4"),
    ("7 % 3", "7 % 3 = 1"),
    ("2**10", "2**10 = 1024"),
    ("2**3**2", "2**3**2 = 512"),
    ("2**-2", "2**-2 = 0.25"),
    ("-(3) + +4", "-(3) + +4 = 1"),
    ("sqrt(16) + abs(-2)", "sqrt(16) + abs(-2) = 6"),
    ("log(8, 2)", "log(8, 2) = 3"),
    ("log(e)", "log(e) = 1"),
    ("log10(1000) * floor(2.7) * ceil(0.2)", "log10(1000) * floor(2.7) * ceil(0.2) = 6"),
    ("exp(1)", "exp(1) = 2.71828182846"),
    ("sin(pi/2) + cos(0) + tan(0)", "sin(pi/2) + cos(0) + tan(0) = 2"),
    ("round(2/3, 3)", "round(2/3, 3) = 0.667"),
    ("round(2.6)", "round(2.6) = 3"),
    ("1/3", "1/3 = 0.333333333333"),
    ("1e20 * 3", "1e20 * 3 = 3e+20"),
    ("2**100", "2**100 = 1267650600228229401496703205376"),
    ("factorial(20)", "factorial(20) = 2432902008176640000"),
    ("  1 +\n 2 ", "1 + 2 = 3"),
]


@pytest.mark.parametrize(("expression", "text"), GOOD)
async def test_arithmetic_gives_the_right_answer(expression: str, text: str, tmp_path: Path) -> None:
    result = await calc(expression, tmp_path)
    assert not result.is_error
    assert result.text == text
    left, right = text.split(" = ")
    assert result.widgets == [Markdown(text=f"`{left}` = **{right}**")]


def test_the_model_sees_a_described_schema_and_the_command(tmp_path: Path) -> None:
    tool = BasicMathTool(load_settings(env_file=None, data_dir=tmp_path))
    spec = tool.spec()
    assert spec.name == "calculator" and tool.command == "calc"
    assert "sqrt" in spec.parameters["properties"]["expression"]["description"]
    assert spec.parameters["required"] == ["expression"]


REFUSED = [
    ("2**10**10", "The exponent 10000000000 is too large (limit 10,000)."),
    ("9**9**9", "The exponent 387420489 is too large"),
    ("10**5000", "The result would have about 5,001 digits (limit about 1,000)."),
    ("(10**900) * (10**900)", "more than about 1,000 digits"),
    ("factorial(100000)", "factorial(100000) is too large"),
    ("round(5, 10**9)", "round() takes a whole number of digits"),
    ("10.0**400", "too large for a floating-point number"),
    ("1e308 * 10", "too large for a floating-point number"),
    ("exp(1000)", "too large for a floating-point number"),
    ("1/0", "Division by zero."),
    ("5 // 0", "Division by zero."),
    ("5 % 0", "Modulo by zero."),
    ("1 / (2 - 2.0)", "Division by zero."),
    ("0**-1", "Zero cannot be raised to a negative power"),
    ("sqrt(-1)", "sqrt(-1) is undefined"),
    ("log(0)", "log(0) is undefined"),
    ("(-8)**(1/3)", "is not a real number"),
    ("x + 1", "Unknown name 'x'. Known constants: pi, e, tau."),
    ("sqrt", "Unknown name 'sqrt' (it is a function: add parentheses)"),
    ("foo(2)", "Unknown function 'foo'. Known functions: sqrt,"),
    ("__import__('os').system('ls')", "Unknown function"),
    ("math.sqrt(4)", "Unknown function 'math.sqrt'"),
    ("(1).__class__", "is not supported"),
    ("[1, 2]", "is not supported"),
    ("'a' * 3", "'a' is not a number."),
    ("True + 1", "True is not a number."),
    ("2 ^ 3", "Use ** for powers."),
    ("log()", "log() takes 1 to 2 arguments, got 0."),
    ("sqrt(1, 2)", "sqrt() takes 1 argument, got 2."),
    ("round(1.5, ndigits=1)", "takes plain arguments"),
    ("2*(3+", "Syntax error at character 3 ('(' was never closed):\n2*(3+\n  ^"),
    ("2 3", "Syntax error at character 3"),
    ("(" * 60 + "1" + ")" * 60, "nested too deeply (limit 50 levels)"),
    ("-" * 80 + "1", "nested too deeply (limit 50 levels)"),
    ("1+" * 300 + "1", "601 characters long (limit 500)"),
    ("   ", "The expression is empty."),
]


@pytest.mark.parametrize(("expression", "message"), REFUSED, ids=[e[:25] for e, _ in REFUSED])
async def test_guards_refuse_at_once_with_a_clear_message(expression: str, message: str, tmp_path: Path) -> None:
    started = time.monotonic()
    result = await calc(expression, tmp_path)
    assert time.monotonic() - started < 0.5  # refused before any expensive work
    assert result.is_error
    assert message in result.text
    assert result.widgets == []


async def test_long_flat_sums_are_fine(tmp_path: Path) -> None:
    result = await calc("1+" * 249 + "1", tmp_path)  # 499 characters, a left-leaning chain
    assert result.text.endswith(" = 250")


async def test_big_integers_up_to_about_a_thousand_digits_are_exact(tmp_path: Path) -> None:
    result = await calc("10**999 + 1", tmp_path)
    assert result.text == "10**999 + 1 = 1" + "0" * 998 + "1"
