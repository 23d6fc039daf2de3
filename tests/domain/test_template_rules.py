"""What an administrator may type for a template: name, domain, organizational unit, join account."""
import pytest

from console.domain.errors import ValidationError
from console.domain.template_rules import (TEMPLATE_NAME_MAX, check_account,
                                           check_distinguished_name, check_domain_name,
                                           check_template_name, dn_domain)


# -- template name ---------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, clean", [
    ("Win11-Gold", "Win11-Gold"),
    ("  Win11 Gold 23H2  ", "Win11 Gold 23H2"),
    ("Sales 'Q3'; Remove-VM * -Force".replace("*", "x"), "Sales 'Q3'; Remove-VM x -Force"),
    ("$(Stop-Computer)", "$(Stop-Computer)"),
    ("back`tick", "back`tick"),
    ("Überwachung-Ärzte-東京", "Überwachung-Ärzte-東京"),
    ("x" * TEMPLATE_NAME_MAX, "x" * TEMPLATE_NAME_MAX),
])
def test_template_names_windows_accepts_are_kept(raw, clean):
    assert check_template_name(raw) == clean


@pytest.mark.parametrize("raw, words", [
    ("", "Enter a name"),
    ("   \t ", "Enter a name"),
    (None, "Enter a name"),
    ("x" * (TEMPLATE_NAME_MAX + 1), "at most 64"),
    ("x" * 100_000, "at most 64"),
    ('Gold "v2"', 'cannot contain "'),
    ("Gold;rm -rf /", "cannot contain /"),
    ("C:\\Gold", "cannot contain : \\"),
    ("Gold*", "cannot contain *"),
    ("a<b>c|d?", "cannot contain < > ? |"),
    ("Gold.", "end with a dot"),
    ("Gold\x00", "control"),
    ("Gold\nTwo", "control"),
    ("Gold\x1b[31m", "control"),
    ("Gold\u200bTwo", "invisible"),          # zero-width space
    ("Gold\u202eowt", "invisible"),          # right-to-left override
    ("Gold\u2028Two", "invisible"),          # line separator
])
def test_template_names_windows_refuses_are_refused_with_a_reason(raw, words):
    with pytest.raises(ValidationError) as info:
        check_template_name(raw)
    assert info.value.field == "name"
    assert words in info.value.message


def test_a_refused_name_says_which_characters_and_how_to_fix():
    with pytest.raises(ValidationError) as info:
        check_template_name("a/b")
    assert "folder name" in info.value.message and info.value.hint


# -- domain name -----------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, clean", [
    ("corp.example.com", "corp.example.com"),
    ("  CORP.Example.com. ", "CORP.Example.com"),
    ("a-b.c1.example", "a-b.c1.example"),
    ("", ""),
    ("   ", ""),
])
def test_domain_names_accepted(raw, clean):
    assert check_domain_name(raw) == clean


@pytest.mark.parametrize("raw, words", [
    ("corp", "single-label"),
    ("corp..example.com", "empty part"),
    (".corp.example.com", "empty part"),
    ("-corp.example.com", "letters, digits and hyphens"),
    ("corp_x.example.com", "letters, digits and hyphens"),
    ("corp.exämple.com", "letters, digits and hyphens"),
    ("corp example.com", "spaces"),
    ("corp.example.com;whoami", "letters, digits and hyphens"),
    ("'corp'.example.com", "letters, digits and hyphens"),
    ("corp\x00.example.com", "control"),
    ("CORP\\svc", "account"),
    ("svc@corp.example.com", "account"),
    ("10.0.0.1", "IP address"),
    ("a" * 64 + ".example.com", "longer than 63"),
    (".".join(["abcdefgh"] * 40), "longer than 253"),
])
def test_domain_names_refused(raw, words):
    with pytest.raises(ValidationError) as info:
        check_domain_name(raw)
    assert info.value.field == "domain"
    assert words in info.value.message


# -- distinguished name ----------------------------------------------------------------------------
@pytest.mark.parametrize("raw, clean", [
    ("", ""),
    ("OU=VDI,DC=corp,DC=example,DC=com", "OU=VDI,DC=corp,DC=example,DC=com"),
    (" ou = VDI , OU=Desktops, dc=corp ,dc=example,dc=com ",
     "OU=VDI,OU=Desktops,DC=corp,DC=example,DC=com"),
    ("OU=Sales\\, East,DC=corp,DC=example,DC=com", "OU=Sales\\, East,DC=corp,DC=example,DC=com"),
    ("CN=Computers,DC=corp,DC=example,DC=com", "CN=Computers,DC=corp,DC=example,DC=com"),
    ("OU=Ärzte Überwachung,DC=corp,DC=example,DC=com", "OU=Ärzte Überwachung,DC=corp,DC=example,DC=com"),
    ("OU=A\\2CB,DC=corp", "OU=A\\2CB,DC=corp"),
    ("DC=corp,DC=example,DC=com", "DC=corp,DC=example,DC=com"),
])
def test_distinguished_names_accepted(raw, clean):
    assert check_distinguished_name(raw) == clean


@pytest.mark.parametrize("raw, words", [
    ("OU=VDI", "no DC= parts"),
    ("OU=VDI,OU=Desktops", "no DC= parts"),
    ("VDI", "is not OU=..."),
    ("O=VDI,DC=corp", "is not OU=..."),
    ("OU=VDI,,DC=corp", "empty part"),
    ("OU=VDI,DC=corp,", "empty part"),
    ("OU=,DC=corp", "has no name"),
    ("OU=Sales, East,DC=corp", "is not OU=..."),
    ('OU="VDI",DC=corp', "without a backslash"),
    ("OU=VDI;DC=corp", "without a backslash"),
    ("OU=VDI+CN=x,DC=corp", "without a backslash"),
    ("OU=V\\DI,DC=corp", "escapes nothing"),
    ("DC=corp,OU=VDI", "must come last"),
    ("OU=VDI,DC=corp,OU=x,DC=com", "must come last"),
    ("OU=VDI,DC=co rp", "one label"),
    ("OU=VDI,DC=corp'; drop table", "';' without a backslash"),
    ("OU=VDI,DC=corp'x", "one label"),
    ("OU=VDI\x07,DC=corp", "control"),
    ("OU=" + "x" * 65 + ",DC=corp", "longer than 64"),
    ("OU=x," * 300 + "DC=corp", "longer than 1024"),
])
def test_distinguished_names_refused(raw, words):
    with pytest.raises(ValidationError) as info:
        check_distinguished_name(raw)
    assert info.value.field == "organizational_unit"
    assert words in info.value.message, info.value.message


def test_distinguished_name_must_be_in_the_domain_when_one_is_given():
    dn = "OU=VDI,DC=corp,DC=example,DC=com"
    assert check_distinguished_name(dn, domain="CORP.example.com") == dn
    with pytest.raises(ValidationError) as info:
        check_distinguished_name(dn, domain="lab.example.com")
    assert "corp.example.com" in info.value.message and "lab.example.com" in info.value.message
    assert dn_domain(dn) == "corp.example.com"


# -- join account ----------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [
    "CORP\\svc-join", "svc-join@corp.example.com", "svc-join", "  CORP\\svc join ", "",
    "CORP\\" + "u" * 20, "Überwacher",
])
def test_accounts_accepted(raw):
    assert check_account(raw) == raw.strip()


@pytest.mark.parametrize("raw, words", [
    ("CORP\\", "no user name"),
    ("\\svc", "not a NetBIOS domain"),
    ("CORP\\a\\b", "more than one backslash"),
    ("CORP\\svc@corp.example.com", "mixes"),
    ("svc@", "no domain after @"),
    ("@corp.example.com", "no user name"),
    ("svc@corp", "domain after @"),
    ("svc@a@b.com", "more than one @"),
    ("TOOLONGNETBIOSDOMAIN\\svc", "not a NetBIOS domain"),
    ("CO RP\\svc", "not a NetBIOS domain"),
    ("CORP\\" + "u" * 21, "longer than 20"),
    ("u" * 10_000, "longer than 20"),
    ("svc\"join", 'cannot contain "'),
    ("svc;join", "cannot contain ;"),
    ("CORP\\svc'; whoami", "cannot contain ;"),
    ("svc\tjoin", "control"),
    ("svc\u200bjoin", "invisible"),
    ("...", "no user name"),
])
def test_accounts_refused(raw, words):
    with pytest.raises(ValidationError) as info:
        check_account(raw)
    assert info.value.field == "join_account"
    assert words in info.value.message, info.value.message


def test_join_password_never_appears_in_a_repr():
    """Plans and wizard states end up in log lines and tracebacks: the password must not."""
    from console.domain.templates import TemplatePlan
    from console.ui.template_wizard.state import WizardState
    plan = TemplatePlan(1, "vm", "Gold", join_password="S3cret-Join!")
    state = WizardState()
    state.join_password = "S3cret-Join!"
    assert "S3cret-Join!" not in repr(plan) and "S3cret-Join!" not in repr(state)
