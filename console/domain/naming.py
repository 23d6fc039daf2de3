"""The clone naming pattern: ``VDI-%ID:3%`` (3 digits from 1), ``%ID:N:S%`` (N digits from S)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ValidationError

_TOKEN = re.compile(r"%ID(?::(\d+))?(?::(\d+))?%")
# NetBIOS computer names: at most 15 characters, no spaces or punctuation Windows refuses.
_NETBIOS_FORBIDDEN = set('\\/:*?"<>|,~!@#$%^&\'(){}_ .')
NETBIOS_MAX = 15


@dataclass(frozen=True)
class NamingPattern:
    prefix: str
    digits: int
    start: int
    suffix: str

    @classmethod
    def parse(cls, text: str) -> "NamingPattern":
        matches = list(_TOKEN.finditer(text))
        if len(matches) != 1:
            raise ValidationError("The naming pattern must contain exactly one %ID% token.",
                                  "For example VDI-%ID:3% gives VDI-001, VDI-002, ...", field="pattern")
        m = matches[0]
        digits = int(m.group(1) or 1)
        start = int(m.group(2) or 1)
        if not 1 <= digits <= 6:
            raise ValidationError("The number of digits in %ID:N% must be between 1 and 6.", field="pattern")
        prefix, suffix = text[:m.start()], text[m.end():]
        bad = sorted({c for c in prefix + suffix if c in _NETBIOS_FORBIDDEN or not c.isprintable()})
        if bad:
            raise ValidationError(f"The naming pattern contains characters a computer name cannot have: "
                                  f"{' '.join(bad)}", "Use letters, digits and hyphens.", field="pattern")
        if len(prefix) + digits + len(suffix) > NETBIOS_MAX:
            raise ValidationError(f"Names from this pattern would be longer than {NETBIOS_MAX} characters.",
                                  "Shorten the prefix or use fewer digits.", field="pattern")
        return cls(prefix, digits, start, suffix)

    def name(self, index: int) -> str:
        """The name of the ``index``-th clone, counting from 0."""
        number = self.start + index
        if number >= 10 ** self.digits:
            raise ValidationError(f"The pattern has room for {10 ** self.digits - self.start} names only.",
                                  field="pattern")
        return f"{self.prefix}{number:0{self.digits}d}{self.suffix}"
