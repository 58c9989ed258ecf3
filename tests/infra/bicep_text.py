"""Just enough Bicep to read infra/*.bicep without a compiler (none runs on a developer
machine or in CI here): comments dropped, strings and interpolations skipped, brackets
matched, and top-level params, vars and resources found by name.

It reads the subset of Bicep the templates use. Something it cannot read (a resource
nested inside another, an expression where a literal is expected) shows up as a missing
declaration, so an unusual template fails the drift tests rather than slipping past them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {close: open_ for open_, close in _OPENERS.items()}
_STATEMENT = re.compile(r"^(?:param|var|resource|module|output|targetScope|type|func|import|metadata)\b", re.M)
_RESOURCE = re.compile(r"^resource\s+(\w+)\s+'([^'@]+)@([^']+)'(\s+existing)?\s*=\s*", re.M)
_VAR = re.compile(r"^var\s+(\w+)\s*=\s*", re.M)
_PARAM = re.compile(r"^param\s+(\w+)\s+(\w+)(?:[ \t]*=[ \t]*(.+))?$", re.M)
_LOOP = re.compile(r"\[\s*for\s+(\w+)\s+in\s+(\w+)\s*:\s*")
_STRING_LITERAL = re.compile(r"'((?:[^'\\$]|\\.|\$(?!\{))*)'")


class BicepSyntaxError(ValueError):
    """The text is not Bicep this reader understands (an unterminated string, unbalanced brackets)."""


def _string_end(text: str, start: int) -> int:
    """Index just past the string literal opening at ``start``, interpolations included."""
    if text.startswith("'''", start):  # multi-line string: no escapes, no interpolation
        end = text.find("'''", start + 3)
        if end < 0:
            raise BicepSyntaxError(f"unterminated multi-line string at offset {start}")
        return end + 3
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == "'":
            return i + 1
        elif text.startswith("${", i):
            i = _interpolation_end(text, i + 2)
        elif text[i] == "\n":
            break
        else:
            i += 1
    raise BicepSyntaxError(f"unterminated string at offset {start}")


def _interpolation_end(text: str, start: int) -> int:
    """Index just past the ``}`` closing an interpolation whose expression starts at ``start``."""
    depth, i = 0, start
    while i < len(text):
        char = text[i]
        if char == "'":
            i = _string_end(text, i)
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return i + 1
            depth -= 1
        i += 1
    raise BicepSyntaxError(f"unterminated interpolation at offset {start}")


def _spans(text: str) -> Iterator[tuple[str, int, int]]:
    """Comments and strings, as (kind, start, end), in order."""
    i = 0
    while i < len(text):
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            yield "comment", i, end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise BicepSyntaxError(f"unterminated comment at offset {i}")
            end += 2
            yield "comment", i, end
        elif text[i] == "'":
            end = _string_end(text, i)
            yield "string", i, end
        else:
            i += 1
            continue
        i = end


def _blank(text: str, start: int, end: int) -> str:
    """Spaces of the same length, newlines kept, so offsets and line numbers still agree."""
    return re.sub(r"[^\n]", " ", text[start:end])


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: str | None
    description: str | None
    secure: bool


@dataclass(frozen=True)
class Resource:
    symbol: str
    type: str  # e.g. "Microsoft.ServiceBus/namespaces/queues"
    api_version: str
    body: str  # from the opening bracket to its match: "{...}", or "[for x in xs: {...}]"
    loop_item: str | None  # "queueName" in "[for queueName in serviceBusQueueNames: ...]"
    loop_source: str | None  # "serviceBusQueueNames"

    def property(self, key: str) -> str | None:
        """The expression after the first ``key:`` in the body (one line), or None."""
        found = re.search(rf"(?<![\w.]){re.escape(key)}:[ \t]*(.+?)[ \t]*$", self.body, re.M)
        return found.group(1) if found else None


class BicepText:
    def __init__(self, text: str) -> None:
        code, masked, last = [], [], 0
        for kind, start, end in _spans(text):
            code.append(text[last:start])
            masked.append(text[last:start])
            if kind == "comment":
                code.append(_blank(text, start, end))
                masked.append(_blank(text, start, end))
            else:
                code.append(text[start:end])
                masked.append("'" + _blank(text, start + 1, end - 1) + "'")
            last = end
        code.append(text[last:])
        masked.append(text[last:])
        self.code = "".join(code)  # comments blanked, strings kept
        self._masked = "".join(masked)  # comments and string contents blanked: for bracket matching
        self._check_balanced()

    # --- structure -----------------------------------------------------------------------

    def _check_balanced(self) -> None:
        stack: list[tuple[str, int]] = []
        for i, char in enumerate(self._masked):
            if char in _OPENERS:
                stack.append((char, i))
            elif char in _CLOSERS:
                if not stack or stack[-1][0] != _CLOSERS[char]:
                    raise BicepSyntaxError(f"unbalanced {char!r} on line {self._line(i)}")
                stack.pop()
        if stack:
            raise BicepSyntaxError(f"unclosed {stack[-1][0]!r} from line {self._line(stack[-1][1])}")

    def _line(self, offset: int) -> int:
        return self.code.count("\n", 0, offset) + 1

    def _block_end(self, start: int) -> int:
        """Index just past the bracket matching the one at ``start``."""
        depth = 0
        for i in range(start, len(self._masked)):
            char = self._masked[i]
            if char in _OPENERS:
                depth += 1
            elif char in _CLOSERS:
                depth -= 1
                if depth == 0:
                    return i + 1
        raise BicepSyntaxError(f"unclosed bracket from line {self._line(start)}")

    def _expression_at(self, start: int) -> str:
        """A bracketed block starting at ``start``, or the rest of the line."""
        if self.code[start] in _OPENERS:
            return self.code[start : self._block_end(start)]
        end = self.code.find("\n", start)
        return self.code[start : len(self.code) if end < 0 else end].strip()

    def block_after(self, pattern: str) -> str | None:
        """The bracketed block opened by the last character of the first match of ``pattern``."""
        match = re.search(pattern, self.code)
        if match is None or self.code[match.end() - 1] not in _OPENERS:
            return None
        return self._expression_at(match.end() - 1)

    # --- declarations --------------------------------------------------------------------

    def resources(self, type_: str | None = None) -> list[Resource]:
        found = []
        for match in _RESOURCE.finditer(self.code):
            if type_ is not None and match.group(2) != type_:
                continue
            body = self._expression_at(match.end())
            loop = _LOOP.match(body)
            found.append(
                Resource(
                    symbol=match.group(1),
                    type=match.group(2),
                    api_version=match.group(3),
                    body=body,
                    loop_item=loop.group(1) if loop else None,
                    loop_source=loop.group(2) if loop else None,
                )
            )
        return found

    def variable(self, name: str) -> str | None:
        for match in _VAR.finditer(self.code):
            if match.group(1) == name:
                return self._expression_at(match.end())
        return None

    def params(self) -> list[Param]:
        starts = [match.start() for match in _STATEMENT.finditer(self.code)]
        params = []
        for match in _PARAM.finditer(self.code):
            previous = max((s for s in starts if s < match.start()), default=0)
            decorators = self.code[previous : match.start()]
            descriptions = re.findall(r"@description\(\s*'((?:[^'\\]|\\.)*)'\s*\)", decorators)
            params.append(
                Param(
                    name=match.group(1),
                    type=match.group(2),
                    default=match.group(3).strip() if match.group(3) else None,
                    description=descriptions[-1] if descriptions else None,
                    secure="@secure()" in decorators,
                )
            )
        return params

    # --- values --------------------------------------------------------------------------

    def literal(self, expression: str | None) -> str | None:
        """The value of a plain string literal, or of a variable holding one; else None."""
        if expression is None:
            return None
        expression = expression.strip()
        if re.fullmatch(r"\w+", expression):
            return self.literal(self.variable(expression))
        return _literal_value(expression)

    def string_array(self, expression: str | None) -> list[str]:
        """The plain string literals of an array literal, or of the variable holding one."""
        if expression is None:
            return []
        expression = expression.strip()
        if re.fullmatch(r"\w+", expression):
            return self.string_array(self.variable(expression))
        if not expression.startswith("["):
            return []
        strings = (_literal_value(expression[start:end]) for kind, start, end in _spans(expression) if kind == "string")
        return [value for value in strings if value is not None]

    def object_array(self, expression: str | None) -> list[dict[str, str]]:
        """Flat objects of an array literal (or the variable holding one), string properties only."""
        if expression is None:
            return []
        expression = expression.strip()
        if re.fullmatch(r"\w+", expression):
            return self.object_array(self.variable(expression))
        objects = []
        for item in top_level_objects(expression):
            pairs = re.findall(r"(?<![\w.])(\w+):[ \t]*(.+?)[ \t]*$", item, re.M)
            values = {key: _literal_value(value) for key, value in pairs}
            objects.append({key: value for key, value in values.items() if value is not None})
        return objects


def _literal_value(expression: str) -> str | None:
    """The value of a plain string literal (no interpolation), or None for anything else."""
    match = _STRING_LITERAL.fullmatch(expression.strip())
    return None if match is None else re.sub(r"\\(.)", r"\1", match.group(1))


def top_level_objects(array_text: str) -> list[str]:
    """The ``{...}`` items directly inside an array's brackets."""
    masked = BicepText(array_text)._masked
    items, depth, start = [], 0, 0
    for i, char in enumerate(masked):
        if char in _OPENERS:
            depth += 1
            if char == "{" and depth == 2:
                start = i
        elif char in _CLOSERS:
            if char == "}" and depth == 2:
                items.append(array_text[start : i + 1])
            depth -= 1
    return items
