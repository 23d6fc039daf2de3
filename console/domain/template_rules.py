"""Checks of what an administrator types for a template: its name, the domain to join, the
organizational unit (a distinguished name) and the join account.

Each check returns the cleaned text or raises ValidationError with the field the UI marks. The rules
are the ones Windows and Active Directory apply, so a value refused later by the guest or the domain
controller is refused here first, with a sentence that says what to change.
"""
from __future__ import annotations

import re
import unicodedata

from .errors import ValidationError

#: a Hyper-V VM name may have 100 characters; 64 leaves room for " (v123)" and the folder suffix
TEMPLATE_NAME_MAX = 64
#: characters Windows refuses in a folder name (the template's folder on every target)
FOLDER_FORBIDDEN = '\\/:*?"<>|'
#: Active Directory keeps an OU or CN name to 64 characters; we keep a whole DN reasonable
DN_VALUE_MAX = 64
DN_MAX = 1024
DNS_LABEL_MAX = 63
DNS_NAME_MAX = 253
SAM_ACCOUNT_MAX = 20      # sAMAccountName of a user
NETBIOS_DOMAIN_MAX = 15
UPN_PREFIX_MAX = 64
#: characters an sAMAccountName cannot contain (Microsoft's list)
ACCOUNT_FORBIDDEN = '"/\\[]:;|=,+*?<>@'
#: characters a NetBIOS domain name cannot contain
NETBIOS_FORBIDDEN = '\\/:*?"<>|'

_DNS_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_DN_KEYS = ("OU", "CN", "DC")
# RFC 4514 and Microsoft's DN rules: these must be escaped with a backslash inside a value.
_DN_SPECIAL = ',\\#+<>;"= '


def _invisible(text: str) -> list[str]:
    """Control, format (zero-width, bidi overrides), surrogate and line-separator characters: they
    cannot be typed on purpose and make a name look like another one."""
    return [c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")]


def _shown(chars: str | list[str]) -> str:
    return " ".join(sorted({c if c.isprintable() and not c.isspace() else f"U+{ord(c):04X}"
                            for c in chars}))


def check_folder_name(name: str, what: str, limit: int, too_long_hint: str) -> str:
    """A name that becomes a folder name on every host (a template's, a pool's), stripped: Windows'
    folder-name rules. ``what`` is "template" or "pool", for the sentences."""
    text = (name or "").strip()
    if not text:
        raise ValidationError(f"Enter a name for the {what}.", field="name")
    if len(text) > limit:
        raise ValidationError(f"The {what} name has {len(text)} characters; at most {limit} are allowed.",
                              too_long_hint, field="name")
    hidden = _invisible(text)
    if hidden:
        raise ValidationError(f"The {what} name contains control or invisible characters "
                              f"({_shown(hidden)}).", "Type the name again without them.", field="name")
    bad = [c for c in text if c in FOLDER_FORBIDDEN]
    if bad:
        raise ValidationError(f"The {what} name cannot contain {_shown(bad)}: Windows refuses these "
                              "characters in a folder name.",
                              f"Remove them (not allowed: {' '.join(FOLDER_FORBIDDEN)}).", field="name")
    if text.endswith("."):
        raise ValidationError(f"The {what} name cannot end with a dot: Windows drops it from folder "
                              "names.", "Remove the trailing dot.", field="name")
    return text


def check_template_name(name: str) -> str:
    """The template's name, stripped. It becomes a folder name and part of a VM name on every
    target, so it follows Windows' folder-name rules."""
    return check_folder_name(name, "template", TEMPLATE_NAME_MAX,
                             "Shorten the name: the version is added to it on every host.")


def check_domain_name(text: str) -> str:
    """A DNS domain name (corp.example.com), stripped and without a trailing dot; "" means the
    clones stay in a workgroup."""
    value = (text or "").strip()
    if value.endswith(".") and not value.endswith(".."):
        value = value[:-1]
    if not value:
        return ""
    hint = "Type the domain's DNS name, for example corp.example.com."
    if _invisible(value) or any(c.isspace() for c in value):
        raise ValidationError("The domain name contains spaces or control characters.", hint,
                              field="domain")
    if "\\" in value or "@" in value:
        raise ValidationError(f"'{value}' looks like an account, not a domain name.", hint,
                              field="domain")
    if len(value) > DNS_NAME_MAX:
        raise ValidationError(f"The domain name is longer than {DNS_NAME_MAX} characters.", hint,
                              field="domain")
    labels = value.split(".")
    if len(labels) < 2:
        raise ValidationError(f"'{value}' is a single-label name; Active Directory domains to join "
                              "need a full DNS name.", hint, field="domain")
    for label in labels:
        if not label:
            raise ValidationError(f"The domain name '{value}' has an empty part (two dots in a row, "
                                  "or a leading dot).", hint, field="domain")
        if len(label) > DNS_LABEL_MAX:
            raise ValidationError(f"The part '{label[:20]}…' of the domain name is longer than "
                                  f"{DNS_LABEL_MAX} characters.", hint, field="domain")
        if not _DNS_LABEL.match(label):
            raise ValidationError(f"The part '{label}' of the domain name may only hold letters, "
                                  "digits and hyphens (not at its start or end).", hint,
                                  field="domain")
    if labels[-1].isdigit():
        raise ValidationError(f"'{value}' looks like an IP address, not a domain name.", hint,
                              field="domain")
    return value


def _split_dn(text: str) -> list[str]:
    """Split at commas that are not escaped with a backslash (``OU=Sales\\, East`` is one RDN)."""
    parts, current, i = [], [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            current.append(text[i:i + 2])
            i += 2
            continue
        if c == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    parts.append("".join(current))
    return parts


def _check_dn_value(key: str, value: str, rdn: str) -> str:
    """A value with its escapes resolved; refuses special characters left unescaped."""
    hint = "Escape , + \" \\ < > ; = with a backslash, for example OU=Sales\\, East."
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\":
            nxt = value[i + 1:i + 2]
            pair = value[i + 1:i + 3]
            if nxt and nxt in _DN_SPECIAL:
                out.append(nxt)
                i += 2
                continue
            if len(pair) == 2 and all(h in "0123456789abcdefABCDEF" for h in pair):
                out.append(chr(int(pair, 16)))
                i += 3
                continue
            raise ValidationError(f"'{rdn}' has a backslash that escapes nothing.", hint,
                                  field="organizational_unit")
        if c in '+<>;"=':
            raise ValidationError(f"'{rdn}' contains '{c}' without a backslash before it.", hint,
                                  field="organizational_unit")
        out.append(c)
        i += 1
    resolved = "".join(out)
    if not resolved.strip():
        raise ValidationError(f"'{rdn}' has no name after '{key}='.",
                              "For example OU=VDI,DC=corp,DC=example,DC=com.",
                              field="organizational_unit")
    if key == "DC":
        if not _DNS_LABEL.match(resolved):
            raise ValidationError(f"'{rdn}': a DC part is one label of the domain's DNS name "
                                  "(letters, digits and hyphens).",
                                  "For example DC=corp,DC=example,DC=com.",
                                  field="organizational_unit")
    elif len(resolved) > DN_VALUE_MAX:
        raise ValidationError(f"The name in '{rdn[:30]}…' is longer than {DN_VALUE_MAX} characters, "
                              "the longest Active Directory allows.", field="organizational_unit")
    return resolved


def check_distinguished_name(text: str, domain: str = "") -> str:
    """An organizational unit's distinguished name, e.g. ``OU=VDI,DC=corp,DC=example,DC=com``,
    returned with the spaces around its parts removed and the keys upper-case. "" is allowed: the
    domain's default Computers container. With ``domain`` given, the DC parts must name it."""
    value = (text or "").strip()
    if not value:
        return ""
    example = "For example OU=VDI,OU=Desktops,DC=corp,DC=example,DC=com."
    if len(value) > DN_MAX:
        raise ValidationError(f"The organizational unit is longer than {DN_MAX} characters.",
                              example, field="organizational_unit")
    hidden = _invisible(value)
    if hidden:
        raise ValidationError("The organizational unit contains control or invisible characters "
                              f"({_shown(hidden)}).", "Type it again without them.",
                              field="organizational_unit")
    rdns, keys, labels = [], [], []
    for raw in _split_dn(value):
        rdn = raw.strip()
        if not rdn:
            raise ValidationError(f"'{value[:60]}' has an empty part (two commas in a row, or a "
                                  "comma at an end).", example, field="organizational_unit")
        key, sep, rest = rdn.partition("=")
        key = key.strip().upper()
        if not sep or key not in _DN_KEYS:
            raise ValidationError(f"'{rdn[:40]}' is not OU=..., CN=... or DC=....", example,
                                  field="organizational_unit")
        rest = rest.strip()
        resolved = _check_dn_value(key, rest, rdn)
        keys.append(key)
        if key == "DC":
            labels.append(resolved)
        rdns.append(f"{key}={rest}")
    if "DC" not in keys:
        raise ValidationError("The organizational unit has no DC= parts: the domain is missing.",
                              example, field="organizational_unit")
    first_dc = keys.index("DC")
    if any(k != "DC" for k in keys[first_dc:]):
        raise ValidationError("The DC= parts must come last, after the OU= and CN= parts "
                              "(a distinguished name goes from the unit up to the domain).",
                              example, field="organizational_unit")
    if domain:
        dn_domain = ".".join(labels)
        if dn_domain.lower() != domain.strip().rstrip(".").lower():
            raise ValidationError(f"The organizational unit is in the domain {dn_domain}, not in "
                                  f"{domain}.", "Use an OU of the domain the clones join.",
                                  field="organizational_unit")
    return ",".join(rdns)


def dn_domain(dn: str) -> str:
    """The DNS domain a checked distinguished name belongs to (its DC parts): corp.example.com."""
    return ".".join(p.strip()[3:] for p in _split_dn(dn) if p.strip().upper().startswith("DC="))


def _check_user(user: str, limit: int, text: str) -> None:
    hint = "Use DOMAIN\\user, user@domain.fqdn or user."
    if not user or not user.strip(". "):
        raise ValidationError(f"'{text}' has no user name.", hint, field="join_account")
    if user != user.strip():
        raise ValidationError("The user name cannot start or end with a space.", hint,
                              field="join_account")
    bad = [c for c in user if c in ACCOUNT_FORBIDDEN]
    if bad:
        raise ValidationError(f"A user name cannot contain {_shown(bad)}.", hint,
                              field="join_account")
    if len(user) > limit:
        raise ValidationError(f"The user name '{user[:24]}…' is longer than {limit} characters.",
                              hint, field="join_account")


def check_account(text: str) -> str:
    """The account that joins clones to the domain: DOMAIN\\user, user@domain.fqdn or user;
    "" when no domain is joined."""
    value = (text or "").strip()
    if not value:
        return ""
    hint = "Use DOMAIN\\user, user@domain.fqdn or user."
    hidden = _invisible(value)
    if hidden:
        raise ValidationError(f"The join account contains control or invisible characters "
                              f"({_shown(hidden)}).", hint, field="join_account")
    if "\\" in value and "@" in value:
        raise ValidationError(f"'{value}' mixes DOMAIN\\user and user@domain.", hint,
                              field="join_account")
    if "\\" in value:
        domain, _, user = value.partition("\\")
        if "\\" in user:
            raise ValidationError(f"'{value}' has more than one backslash.", hint,
                                  field="join_account")
        if not domain or domain.startswith(".") or len(domain) > NETBIOS_DOMAIN_MAX \
                or any(c in NETBIOS_FORBIDDEN or c.isspace() for c in domain):
            raise ValidationError(f"'{domain}' is not a NetBIOS domain name (at most "
                                  f"{NETBIOS_DOMAIN_MAX} characters, no spaces or \\ / : * ? \" "
                                  "< > |).", hint, field="join_account")
        _check_user(user, SAM_ACCOUNT_MAX, value)
        return value
    if "@" in value:
        user, _, domain = value.partition("@")
        if "@" in domain:
            raise ValidationError(f"'{value}' has more than one @.", hint, field="join_account")
        _check_user(user, UPN_PREFIX_MAX, value)
        try:
            check_domain_name(domain)
        except ValidationError as exc:
            raise ValidationError(f"The domain after @ is not valid: {exc.message}", hint,
                                  field="join_account") from exc
        if not domain.strip():
            raise ValidationError(f"'{value}' has no domain after @.", hint, field="join_account")
        return value
    _check_user(value, SAM_ACCOUNT_MAX, value)
    return value
