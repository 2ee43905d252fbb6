"""`calculator`: arithmetic evaluated by walking Python's `ast`, never `eval`, with every size checked first.

A model (or a person) can ask for `9**9**9` or `factorial(10**6)`; each operation estimates the size of
its result before computing it, so a hopeless request is refused at once instead of freezing the server.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from galaxy_chat.vocabulary.widgets import Markdown
from tools.base import Tool, ToolContext, ToolResult

MAX_LENGTH = 500  # characters of expression
MAX_DEPTH = 50  # nested operations/parentheses
MAX_BITS = 3_400  # integers up to about 1,000 digits
MAX_EXPONENT = 10_000
MAX_FACTORIAL = 400  # 400! has 869 digits
MAX_ROUND_DIGITS = 100

Number = int | float


class CalcError(Exception):
    """A refusal or failure, with the sentence the person sees."""


CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _log(x: Number, base: Number | None = None) -> float:
    return math.log(x) if base is None else math.log(x, base)


def _round(x: Number, digits: int | None = None) -> Number:
    if digits is None:
        return round(x)
    if not isinstance(digits, int) or abs(digits) > MAX_ROUND_DIGITS:
        raise CalcError(f"round() takes a whole number of digits between -{MAX_ROUND_DIGITS} and {MAX_ROUND_DIGITS}.")
    return round(x, digits)


def _factorial(n: Number) -> int:
    if not isinstance(n, int) or n < 0:
        raise CalcError("factorial() needs a whole number ≥ 0.")
    if n > MAX_FACTORIAL:
        raise CalcError(f"factorial({n}) is too large (limit: factorial({MAX_FACTORIAL})).")
    return math.factorial(n)


# name -> (function, fewest arguments, most arguments)
FUNCTIONS: dict[str, tuple[Callable[..., Number], int, int]] = {
    "sqrt": (math.sqrt, 1, 1), "exp": (math.exp, 1, 1), "log": (_log, 1, 2), "ln": (math.log, 1, 1),
    "log10": (math.log10, 1, 1), "log2": (math.log2, 1, 1),
    "sin": (math.sin, 1, 1), "cos": (math.cos, 1, 1), "tan": (math.tan, 1, 1),
    "asin": (math.asin, 1, 1), "acos": (math.acos, 1, 1), "atan": (math.atan, 1, 1), "atan2": (math.atan2, 2, 2),
    "degrees": (math.degrees, 1, 1), "radians": (math.radians, 1, 1), "hypot": (math.hypot, 2, 2),
    "abs": (abs, 1, 1), "round": (_round, 1, 2), "floor": (math.floor, 1, 1), "ceil": (math.ceil, 1, 1),
    "min": (min, 2, 10), "max": (max, 2, 10), "factorial": (_factorial, 1, 1),
}
OPERATORS: dict[type[ast.operator], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
}
BINARY: dict[str, Callable[[Any, Any], Number]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
}


def _bits(value: Number) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


def _check_size(symbol: str, left: Number, right: Number) -> None:
    """Refuse before computing when the result would be a gigantic integer."""
    if symbol == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        if right > MAX_EXPONENT:
            raise CalcError(f"The exponent {_short(right)} is too large (limit {MAX_EXPONENT:,}).")
        digits = right * math.log10(abs(left))
        if digits * math.log2(10) > MAX_BITS:
            raise CalcError(f"The result would have about {int(digits) + 1:,} digits (limit about 1,000).")
    elif symbol == "*" and _bits(left) + _bits(right) - 1 > MAX_BITS:
        raise CalcError("The result would have more than about 1,000 digits.")


def _short(value: Number) -> str:
    text = str(value)
    return text if len(text) <= 30 else text[:12] + "…" + text[-6:]


def _paren_depth(text: str) -> int:
    depth = deepest = 0
    for char in text:
        depth += (char == "(") - (char == ")")
        deepest = max(deepest, depth)
    return deepest


def _depth(node: ast.AST) -> int:
    """Nesting depth; a left-leaning chain like 1+2+3+4 counts once, since people write sums that way."""
    if isinstance(node, ast.BinOp):
        return max(_depth(node.left), _depth(node.right) + 1)
    children = list(ast.iter_child_nodes(node))
    return 1 + max((_depth(child) for child in children), default=0)


class Evaluator:
    def evaluate(self, node: ast.AST) -> Number:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise CalcError(f"'{ast.unparse(node)}' is not supported: use numbers, + - * / // % **, "
                            "parentheses and the listed functions.")
        result: Number = method(node)
        if isinstance(result, float) and not math.isfinite(result):
            raise CalcError("The result is too large for a floating-point number.")
        if isinstance(result, int) and result.bit_length() > MAX_BITS:
            raise CalcError("The result would have more than about 1,000 digits.")
        return result

    def _Expression(self, node: ast.Expression) -> Number:
        return self.evaluate(node.body)

    def _Constant(self, node: ast.Constant) -> Number:
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise CalcError(f"{node.value!r} is not a number.")
        return node.value

    def _Name(self, node: ast.Name) -> Number:
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        hint = " (it is a function: add parentheses)" if node.id in FUNCTIONS else ""
        raise CalcError(f"Unknown name '{node.id}'{hint}. Known constants: {', '.join(CONSTANTS)}.")

    def _UnaryOp(self, node: ast.UnaryOp) -> Number:
        value = self.evaluate(node.operand)
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return +value
        raise CalcError(f"The operator in '{ast.unparse(node)}' is not supported.")

    def _BinOp(self, node: ast.BinOp) -> Number:
        symbol = OPERATORS.get(type(node.op))
        if symbol is None:
            hint = " Use ** for powers." if isinstance(node.op, ast.BitXor) else ""
            raise CalcError(f"The operator in '{ast.unparse(node)}' is not supported.{hint}")
        left, right = self.evaluate(node.left), self.evaluate(node.right)
        if symbol in ("/", "//", "%") and right == 0:
            raise CalcError("Division by zero." if symbol != "%" else "Modulo by zero.")
        if symbol == "**" and left == 0 and right < 0:
            raise CalcError("Zero cannot be raised to a negative power (division by zero).")
        _check_size(symbol, left, right)
        result = BINARY[symbol](left, right)
        if isinstance(result, complex):
            raise CalcError(f"'{ast.unparse(node)}' is not a real number.")
        return result

    def _Call(self, node: ast.Call) -> Number:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = ast.unparse(node.func)
            raise CalcError(f"Unknown function '{name}'. Known functions: {', '.join(FUNCTIONS)}.")
        if node.keywords:
            raise CalcError(f"{node.func.id}() takes plain arguments, not name=value.")
        function, fewest, most = FUNCTIONS[node.func.id]
        if not fewest <= len(node.args) <= most:
            wanted = str(fewest) if fewest == most else f"{fewest} to {most}"
            raise CalcError(f"{node.func.id}() takes {wanted} argument{'s' if most > 1 else ''}, "
                            f"got {len(node.args)}.")
        args = [self.evaluate(arg) for arg in node.args]
        try:
            return function(*args)
        except ValueError:
            raise CalcError(f"{ast.unparse(node)} is undefined (outside the domain of {node.func.id}).") from None


def format_number(value: Number) -> str:
    """Integers exactly; floats to 12 significant digits, so 0.1+0.2 shows as 0.3 and 10/2 as 5."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.12g}"


def calculate(expression: str) -> tuple[str, Number]:
    """(the expression as given, its value) or CalcError with the reason."""
    text = " ".join(expression.split())
    if not text:
        raise CalcError("The expression is empty.")
    if len(text) > MAX_LENGTH:
        raise CalcError(f"The expression is {len(text)} characters long (limit {MAX_LENGTH}).")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        column = min(exc.offset or 1, len(text) + 1)
        raise CalcError(f"Syntax error at character {column} ({exc.msg}):\n{text}\n{' ' * (column - 1)}^") from None
    except (RecursionError, MemoryError):
        raise CalcError(f"The expression is nested too deeply (limit {MAX_DEPTH} levels).") from None
    if max(_paren_depth(text), _depth(tree.body)) > MAX_DEPTH:
        raise CalcError(f"The expression is nested too deeply (limit {MAX_DEPTH} levels).")
    try:
        return text, Evaluator().evaluate(tree)
    except ZeroDivisionError:
        raise CalcError("Division by zero.") from None
    except OverflowError:
        raise CalcError("The result is too large for a floating-point number.") from None


class CalcParams(BaseModel):
    expression: str = Field(
        min_length=1,
        max_length=4 * MAX_LENGTH,  # a hard stop only; calculate() explains the real limit in words
        description="Arithmetic such as '2*(3+4)' or 'sqrt(2)/log(10, 2)': numbers, + - * / // % ** and "
        "parentheses, constants pi, e, tau and functions " + ", ".join(FUNCTIONS) + ".",
    )


class BasicMathTool(Tool):
    name = "calculator"
    description = (
        "Evaluate an arithmetic expression exactly (big integers, floats) and return the result. Use it "
        "instead of doing arithmetic in your head."
    )
    Params = CalcParams
    command = "calc"
    command_help = "/calc <expression> — e.g. /calc 2*(3+4) or /calc sqrt(2)"
    timeout_s = 5.0

    async def run(self, args: CalcParams, context: ToolContext) -> ToolResult:
        try:
            text, value = calculate(args.expression)
        except CalcError as exc:
            return ToolResult.error(str(exc))
        result = format_number(value)
        return ToolResult(text=f"{text} = {result}", widgets=[Markdown(text=f"`{text}` = **{result}**")])
