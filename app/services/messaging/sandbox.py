"""The Jinja2 sandbox message templates run in, with the rendering budget built in.

An immutable ``SandboxedEnvironment`` keeps templates away from Python internals. On top of
it, this environment checks the budget (``app/services/messaging/render_budget.py``) wherever a
template can make work or text grow, because a check inside the render is the only way to
stop a render running in a worker thread:

- the compiler wraps every ``for`` loop's items in ``Rounds`` (each round counted and timed);
- macros and ``{% set %}`` / ``{% filter %}`` blocks write into a ``TextBuffer``, ``~`` checks
  its parts, and each field's text is collected with its limit (``concat``);
- every call (str methods, macros) and every filter is timed and its result checked; the str
  methods and filters whose growth a template chooses (a width, a separator, ``replace``,
  ``join``, ``indent``…) are predicted and refused before they run;
- ``+ * % **`` are intercepted, ``format`` and ``%`` check their widths and precisions, and
  ``range`` counts 10,000 numbers at most.
"""

from __future__ import annotations

import operator
import re
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from functools import lru_cache, update_wrapper, wraps
from typing import Any

from jinja2 import ChainableUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import (
    ImmutableSandboxedEnvironment,
    SandboxedEscapeFormatter,
    SandboxedFormatter,
)
from jinja2.utils import Namespace, pass_context
from markupsafe import Markup

from app.services.messaging.render_budget import (
    MAX_VALUE,
    MAX_WIDTH,
    NUMBER_TOO_LARGE,
    TOO_MANY_LISTS,
    WORDS_TOO_LONG,
    Budget,
    OverBudget,
    Rounds,
    TextBuffer,
    active,
    budget_range,
    budgeted,
    charged,
    check_size,
    check_value,
    check_width,
    current,
    measure,
    too_wide,
)

MAX_POWER_DIGITS = 100
MAX_POWER_BITS = 100_000
MAX_WRAP_WORK = 500_000_000  # about a tenth of a second of textwrap cutting long words
MAX_SUM_WORK = 20_000_000  # list items copied while lists are added up
MAX_LISTS_SUMMED = 1_000
ROUNDS_FILTER = "loop_rounds"  # what the compiler wraps loops in (not meant for templates)


def _is_missing(value: Any) -> bool:
    return value is None or isinstance(value, ChainableUndefined) or value == ""


def _default(value: Any, default_value: Any = "", boolean: bool = False) -> Any:
    """Like Jinja's ``default``, but an empty or missing value counts as missing too."""
    if _is_missing(value) or (boolean and not value):
        return default_value
    return value


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if not isinstance(value, str):
        check_value(value)  # before it is turned into text
    return value


@pass_context
def _rounds(context: Context, items: Any) -> Rounds:
    # pass_context keeps the compiler from running it on constant lists at compile time.
    return Rounds(items)


def _collect(chunks: Iterable[str]) -> str:
    budget = active()
    if budget is not None:
        return budget.collect(chunks)
    with budgeted(Budget()) as fresh:  # a render outside render_field keeps the limits too
        return fresh.collect(chunks)


def _produced(result: Any, budget: Budget) -> Any:
    """Checks what a call or a filter returned, and counts the text it built."""
    kind = type(result)
    if kind is str or kind is Markup:
        if len(result) > MAX_VALUE:
            check_size(len(result))
        budget.charge(len(result))
        return result
    if isinstance(result, str | bytes):
        check_size(len(result))
        budget.charge(len(result))
        return result
    if isinstance(result, Iterator):
        return charged(result)
    check_value(result)
    return result


# --- widths and formats ----------------------------------------------------------------

_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?.", re.DOTALL)
_DIGITS = re.compile(r"\d+")


def _check_number_text(digits: str) -> None:
    if len(digits) > 6 or int(digits) > MAX_WIDTH:
        raise too_wide()


@lru_cache(maxsize=512)
def _printf_takes_widths(template: str) -> bool:
    """Refuses the widths and precisions written in a ``%`` format; True when some come
    from the values (``%*s``). Cached: a message uses the same few formats again and again."""
    star = False
    for width, precision in _PRINTF.findall(template):
        for number in (width, precision):
            if number == "*":
                star = True
            elif number:
                _check_number_text(number)
    return star


def check_printf(template: Any, values: Any) -> None:
    """``'%10s' % x`` and the ``format`` filter: widths, precisions and values within budget."""
    if not isinstance(template, str):
        return
    star = _printf_takes_widths(str(template))
    items = values if isinstance(values, tuple) else (values,)
    for item in items:
        if star:
            check_width(item)
        check_value(item)


class _Formatter(SandboxedFormatter):
    """``str.format``: the spec's widths and precisions, and each value, within budget."""

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        check_value(value)  # before !r or !s turn it into text
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> Any:
        for digits in _DIGITS.findall(format_spec):
            _check_number_text(digits)
        check_value(value)
        return super().format_field(value, format_spec)


class _EscapeFormatter(_Formatter, SandboxedEscapeFormatter):
    pass


# --- calls: str methods whose growth the template chooses -------------------------------

_WIDTH_METHODS = frozenset({"ljust", "rjust", "center", "zfill"})


def _length_of(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes) else measure(value)[0]


def _check_method(obj: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
    if not isinstance(getattr(obj, "__self__", None), str | bytes):
        return args
    owner: Any = obj.__self__  # str or bytes: their methods take the same arguments
    name = getattr(obj, "__name__", "")
    if name in _WIDTH_METHODS and args:
        check_width(args[0])
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        check_width(size)
        if isinstance(size, int):
            tabs = owner.count("\t" if isinstance(owner, str) else b"\t")
            check_size(len(owner) + tabs * size)
    elif name == "replace" and len(args) >= 2:
        old, new = args[0], args[1]
        count = args[2] if len(args) > 2 else kwargs.get("count", -1)
        if isinstance(old, type(owner)) and isinstance(new, type(owner)):
            found = owner.count(old)
            if isinstance(count, int) and count >= 0:
                found = min(found, count)
            check_size(len(owner) + found * max(0, len(new) - len(old)))
    elif name == "join" and args:
        items = args[0] if isinstance(args[0], Sized) else list(args[0])
        check_size(_length_of(items) + max(0, len(items) - 1) * len(owner))
        return (items, *args[1:])
    return args


# --- filters: predictions for those whose growth the template chooses ------------------


def _arg(params: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str) -> Any:
    if len(params) > index:
        return params[index]
    return kwargs.get(name)


def _lines(value: Any) -> int:
    return value.count("\n") + 1 if isinstance(value, str) else _length_of(value) + 1


def _predict_indent(value: Any, params: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    width = _arg(params, kwargs, 0, "width")
    step = len(width) if isinstance(width, str) else width if isinstance(width, int) else 4
    check_width(step)
    check_size(_length_of(value) + _lines(value) * step)


def _predict_wordwrap(value: Any, params: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    width = _arg(params, kwargs, 0, "width")
    breaks = _arg(params, kwargs, 1, "break_long_words")
    wrap = _arg(params, kwargs, 2, "wrapstring") or "\n"
    size = _length_of(value)
    if not (isinstance(width, int) and width > 0 and isinstance(value, str)):
        width = 1
    # Two lines in a row hold more than a line's width, so there are at most 2·size/width.
    check_size(size + (2 * size // width + 1) * len(str(wrap)))
    if breaks is not False and isinstance(value, str) and size > width:
        # Python's textwrap cuts a long word one line at a time: time grows with its square.
        longest = max(map(len, value.split()), default=0)
        if longest * longest // width > MAX_WRAP_WORK:
            raise OverBudget(*WORDS_TOO_LONG)


def _predict_sum(value: Any, params: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    # Lists are added up by copying the total so far each time: time grows with the square.
    start = _arg(params, kwargs, 1, "start")
    if isinstance(start, list | tuple) and isinstance(value, list | tuple):
        total: int
        if _arg(params, kwargs, 0, "attribute") is not None:
            total = len(value) * MAX_LISTS_SUMMED  # the lists come from each item: unknown
        else:
            total = sum(len(item) for item in value if isinstance(item, Sized))
        if len(value) * total > MAX_SUM_WORK:
            raise OverBudget(*TOO_MANY_LISTS)


def _predict_urlize(value: Any, params: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    # Each link may repeat target and rel; the link markup itself is checked afterwards.
    extra = sum(len(str(_arg(params, kwargs, i, n) or "")) for i, n in ((2, "target"), (3, "rel")))
    words = value.count(" ") + value.count("\n") + 1 if isinstance(value, str) else 1
    check_size(_length_of(value) + words * extra)


def _predict_join(value: Any, params: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    separator = str(_arg(params, kwargs, 0, "d") or "")
    count = len(value) if isinstance(value, Sized) else 1
    check_size(_length_of(value) + max(0, count - 1) * len(separator))


def _predict_replace(value: Any, params: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    old = str(_arg(params, kwargs, 0, "old") or "")
    new = str(_arg(params, kwargs, 1, "new") or "")
    count = _arg(params, kwargs, 2, "count")
    found = value.count(old) if isinstance(value, str) else _length_of(value) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    check_size(_length_of(value) + found * max(0, len(new) - len(old)))


def _predict_tojson(value: Any, params: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    indent = _arg(params, kwargs, 0, "indent")
    if isinstance(indent, int) and indent > 0:
        check_width(indent)
        size, depth = measure(value)
        check_size(size * (1 + indent * depth))


def _predict_pprint(value: Any, params: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    size, depth = measure(value)
    check_size(size * (1 + depth))


def _first_width(value: Any, params: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    for name in ("width", "linecount", "slices"):
        check_width(_arg(params, kwargs, 0, name))


def _predict_format(value: Any, params: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    check_printf(value, dict(kwargs) if kwargs else params)


_Prediction = Callable[[Any, tuple[Any, ...], Mapping[str, Any]], None]
_PREDICTIONS: dict[str, _Prediction] = {
    "center": _first_width,
    "batch": _first_width,
    "slice": _first_width,
    "indent": _predict_indent,
    "wordwrap": _predict_wordwrap,
    "urlize": _predict_urlize,
    "join": _predict_join,
    "replace": _predict_replace,
    "tojson": _predict_tojson,
    "pprint": _predict_pprint,
    "format": _predict_format,
    "sum": _predict_sum,
}


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    # A filter marked pass_context / pass_eval_context / pass_environment gets that first.
    first = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
    predict = _PREDICTIONS.get(name)

    if predict is None:

        @wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            # The common case (default, upper, float…), kept lean: it runs for every filter.
            budget = current()
            budget.tick()
            for item in args[first:]:
                if type(item) not in _FLAT:
                    check_value(item)
            for item in kwargs.values():
                if type(item) not in _FLAT:
                    check_value(item)
            return _produced(func(*args, **kwargs), budget)

        return guarded

    @wraps(func)
    def predicted(*args: Any, **kwargs: Any) -> Any:
        budget = current()
        budget.tick()
        lead, rest = args[:first], args[first:]
        if rest:
            value, params = rest[0], rest[1:]
            if name == "join" and isinstance(value, Iterator):
                value = list(value)  # its length decides how often the separator repeats
            for item in (value, *params, *kwargs.values()):
                if type(item) not in _FLAT:
                    check_value(item)
            predict(value, params, kwargs)
            args = (*lead, value, *params)
        return _produced(func(*args, **kwargs), budget)

    return predicted


# Values whose text is short or already capped where it was built: not measured again.
_FLAT = frozenset({str, Markup, int, float, bool, type(None), ChainableUndefined})


# --- the compiler and the environment --------------------------------------------------


class _BudgetedCode(CodeGenerator):
    """Jinja's compiler, with loops, buffers and ``~`` going through the budget."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        for loop in list(node.find_all(nodes.For)):
            already = isinstance(loop.iter, nodes.Filter) and loop.iter.name == ROUNDS_FILTER
            if not already:
                loop.iter = nodes.Filter(
                    loop.iter, ROUNDS_FILTER, [], [], None, None, lineno=loop.iter.lineno
                )
        super().visit_Template(node, frame)

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.text_buffer()")

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"{func_name}(environment.joined((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


class Sandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _BudgetedCode
    intercepted_binops = frozenset({"+", "*", "**", "%"})
    concat = staticmethod(_collect)

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Data wins over dict methods: ``event.properties.items`` is the "items" property.
        if isinstance(obj, Mapping) and not attribute.startswith("_") and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def text_buffer(self) -> TextBuffer:
        return TextBuffer()

    def joined(self, parts: tuple[Any, ...]) -> tuple[Any, ...]:
        total = sum(check_value(part) for part in parts)
        check_size(total)
        current().charge(total)
        return parts

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        budget = current()
        budget.tick()
        if isinstance(obj, LoopContext) and args:
            # ``loop(children)`` in a recursive loop: its rounds count like any loop's.
            args = (Rounds(args[0]), *args[1:])
        args = _check_method(obj, args, kwargs)
        return _produced(super().call(context, obj, *args, **kwargs), budget)

    def call_binop(self, context: Context, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            return _power(left, right)
        if operator_name == "%":
            if isinstance(left, str):
                check_printf(left, right)
                return _made(operator.mod(left, right))
            return operator.mod(left, right)
        if operator_name == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
                check_size(_length_of(left) + _length_of(right))
            return _made(operator.add(left, right))
        for a, b in ((left, right), (right, left)):
            if isinstance(a, str | list | tuple) and isinstance(b, int):
                check_size(_length_of(a) * b)
        both_ints = isinstance(left, int) and isinstance(right, int)
        if both_ints and left.bit_length() + right.bit_length() > MAX_POWER_BITS:
            raise OverBudget(*NUMBER_TOO_LARGE)
        return _made(operator.mul(left, right))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        # Jinja's own, with formatters that check widths and values.
        if not isinstance(
            value, types.MethodType | types.BuiltinMethodType
        ) or value.__name__ not in ("format", "format_map"):
            return None
        f_self: Any = value.__self__
        if not isinstance(f_self, str):
            return None
        str_type: type[str] = type(f_self)
        is_format_map = value.__name__ == "format_map"
        formatter: _Formatter
        if isinstance(f_self, Markup):
            formatter = _EscapeFormatter(self, escape=f_self.escape)
        else:
            formatter = _Formatter(self)
        vformat = formatter.vformat

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs:
                    raise TypeError("format_map() takes no keyword arguments")
                if len(args) != 1:
                    raise TypeError(f"format_map() takes exactly one argument ({len(args)} given)")
                kwargs = args[0]
                args = ()
            return str_type(vformat(f_self, args, kwargs))

        return update_wrapper(wrapper, value)


def _made(result: Any) -> Any:
    if isinstance(result, str):
        current().charge(len(result))
    return result


def _power(left: Any, right: Any) -> Any:
    too_big = isinstance(right, int | float) and abs(right) > MAX_POWER_DIGITS
    if isinstance(left, int) and isinstance(right, int) and right > 0:
        too_big = too_big or left.bit_length() * right > MAX_POWER_BITS
    if too_big:
        raise OverBudget(*NUMBER_TOO_LARGE)
    return operator.pow(left, right)


def environment(*, html: bool) -> Sandbox:
    env = Sandbox(autoescape=html, undefined=ChainableUndefined, finalize=_finalize)
    env.filters["default"] = _default
    env.filters["d"] = _default
    env.filters = {name: _guard_filter(name, f) for name, f in env.filters.items()}
    env.filters[ROUNDS_FILTER] = _rounds
    # Only what a message needs: no lipsum, cycler or joiner.
    env.globals = {"range": budget_range, "dict": dict, "namespace": Namespace}
    return env


HTML_ENV = environment(html=True)
TEXT_ENV = environment(html=False)
