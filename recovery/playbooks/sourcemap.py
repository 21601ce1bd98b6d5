"""Line numbers for a rules file: tomllib gives values without positions, so the loader finds
each `[[rule]]`, `[[rule.action]]` and key in the source to point every problem at a line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.\-]+)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*)\s*=")


@dataclass
class TableLines:
    """Where a table starts, where its keys are, and the last line before the next table."""

    line: int
    keys: dict[str, int] = field(default_factory=dict)
    end: int = 0


@dataclass
class RuleLines(TableLines):
    actions: list[TableLines] = field(default_factory=list)


@dataclass
class SourceMap:
    lines: list[str]
    top_keys: dict[str, int] = field(default_factory=dict)
    rules: list[RuleLines] = field(default_factory=list)
    sections: dict[str, list[TableLines]] = field(default_factory=dict)

    def rule_line(self, index: int) -> int | None:
        return self.rules[index].line if index < len(self.rules) else None

    def key_line(self, rule: int, key: str, action: int | None = None) -> int | None:
        """Line of `key` in rule `rule` (or its action `action`), else the table's own line."""
        if rule >= len(self.rules):
            return None
        table: TableLines = self.rules[rule]
        if action is not None:
            actions = self.rules[rule].actions
            if action >= len(actions):
                return table.line
            table = actions[action]
        return table.keys.get(key, table.line)

    def find_in_rule(self, rule: int, needle: str, *, after_key: str) -> int | None:
        """Line of the first occurrence of `needle` in a rule (a condition's text)."""
        if rule >= len(self.rules):
            return None
        table = self.rules[rule]
        start = table.keys.get(after_key, table.line)
        for number in range(start, table.end + 1):
            if needle and needle in self.lines[number - 1]:
                return number
        return start


def build_source_map(text: str) -> SourceMap:
    """Scan the source once, skipping the insides of multi-line strings."""
    lines = text.splitlines()
    source = SourceMap(lines=lines)
    current: TableLines | None = None
    in_string: str | None = None
    for number, line in enumerate(lines, start=1):
        if in_string is not None:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        stripped = line.split("#", 1)[0] if '"' not in line and "'" not in line else line
        header = _ARRAY_HEADER.match(stripped) or _TABLE_HEADER.match(stripped)
        if header is not None:
            name = header.group(1).replace(" ", "")
            if current is not None:
                current.end = number - 1
            current = _open_table(source, name, number)
            continue
        key = _KEY.match(line)
        if key:
            name = re.sub(r"\s+", "", key.group(1))
            target = current.keys if current is not None else source.top_keys
            target.setdefault(name, number)
        for quote in ('"""', "'''"):
            if line.count(quote) % 2 == 1:
                in_string = quote
                break
    if current is not None:
        current.end = len(lines)
    for rule in source.rules:
        rule.end = max([rule.end, *(a.end for a in rule.actions)])
    return source


def _open_table(source: SourceMap, name: str, number: int) -> TableLines:
    if name == "rule":
        rule = RuleLines(line=number)
        source.rules.append(rule)
        return rule
    if name.startswith("rule.") and source.rules:
        table = TableLines(line=number)
        if name in ("rule.action", "rule.actions"):
            source.rules[-1].actions.append(table)
        return table
    table = TableLines(line=number)
    source.sections.setdefault(name, []).append(table)
    return table
