"""Argo ``when`` expressions (govaluate) as CEL trigger conditions.

The kfp 1.x compiler writes ``dsl.Condition(a == b)`` as ``"{{a}}" == "{{b}}"``
(quoted: compared as text) and the ordering operators unquoted, e.g.
``{{tasks.t.outputs.parameters.n}} > {{inputs.parameters.threshold}}``, which Argo
evaluates on numbers. Every value is text in a v1 workflow, so unquoted operands of an
ordering, or compared with a number literal, become ``double(...)`` in CEL.

Supported: comparisons (``== != < <= > >=``) of quoted strings, tags, numbers and
``true``/``false``, joined by ``&&`` / ``||``, with ``!`` and parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pipeyard.errors import SpecError
from pipeyard.ir.argo.refs import Ref, split

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<tag>\{\{[^{}]+\}\})"""
    r"""|(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<op>==|!=|>=|<=|&&|\|\||[<>!()])"""
    r"""|(?P<word>[A-Za-z_][A-Za-z0-9_.-]*))"""
)
_ORDERING = {"<", "<=", ">", ">="}
_COMPARE = _ORDERING | {"==", "!="}


@dataclass(frozen=True)
class _Operand:
    kind: str  # "str" | "tag" | "num" | "bool"
    cel: str


def when_to_cel(expr: str, bind: Callable[[Ref], str], where: str) -> str:
    """CEL for ``expr``; ``bind`` names the task input that carries a reference's value."""
    tokens = _tokenize(expr, where)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "op" and text in ("&&", "||", "!", "(", ")"):
            out.append(text)
            i += 1
            continue
        left = _operand(kind, text, bind, where, expr)
        if i + 2 < len(tokens) and tokens[i + 1] == ("op", tokens[i + 1][1]) and tokens[i + 1][1] in _COMPARE:
            op = tokens[i + 1][1]
            right = _operand(*tokens[i + 2], bind, where, expr)
            out.append(_comparison(left, op, right))
            i += 3
        else:
            if left.kind == "bool":
                out.append(left.cel)
            elif left.kind == "tag":
                out.append(f"(string({left.cel}) == 'true')")
            else:
                raise SpecError(f"cannot read condition {expr!r} near {text!r}", where=where)
            i += 1
    return " ".join(out)


def _tokenize(expr: str, where: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = expr.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise SpecError(f"cannot read condition {expr!r} at {text[pos:pos + 20]!r}", where=where)
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind).strip()))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def _operand(kind: str, text: str, bind: Callable[[Ref], str], where: str, expr: str) -> _Operand:
    if kind == "str":
        pieces: list[str] = []
        for part in split(text[1:-1], where):
            pieces.append(f"string({_param(bind(part))})" if isinstance(part, Ref) else _cel_string(part))
        if len(pieces) > 1:
            # string(): cel-python's "+" of two strings gives a plain str, which the
            # evaluator's equality does not take for a CEL string.
            return _Operand("str", f"string({' + '.join(pieces)})")
        return _Operand("str", pieces[0] if pieces else "''")
    if kind == "tag":
        parts = split(text, where)
        assert isinstance(parts[0], Ref)
        return _Operand("tag", _param(bind(parts[0])))
    if kind == "num":
        return _Operand("num", repr(float(text)))
    if kind == "word" and text.lower() in ("true", "false"):
        return _Operand("bool", text.lower())
    raise SpecError(f"cannot read condition {expr!r} near {text!r}", where=where)


def _comparison(left: _Operand, op: str, right: _Operand) -> str:
    kinds = {left.kind, right.kind}
    if op in _ORDERING:
        if kinds == {"str"}:
            return f"({left.cel} {op} {right.cel})"
        return f"({_number(left)} {op} {_number(right)})"
    if "str" in kinds or kinds == {"tag"}:
        return f"({_text(left)} {op} {_text(right)})"
    if "bool" in kinds:
        return f"({_text(left)} {op} {_text(right)})"
    return f"({_number(left)} {op} {_number(right)})"


def _number(o: _Operand) -> str:
    if o.kind == "num":
        return o.cel
    if o.kind == "str":
        return f"double({o.cel})"
    return f"double({o.cel})"


def _text(o: _Operand) -> str:
    if o.kind == "bool":
        return f"'{o.cel}'"
    if o.kind == "num":
        return _cel_string(o.cel)
    if o.kind == "tag":
        return f"string({o.cel})"
    return o.cel


def _param(name: str) -> str:
    return f"inputs.parameter_values['{name}']"


def _cel_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
