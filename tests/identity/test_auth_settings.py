"""AUTH_* settings: one way of verifying tokens, chosen on purpose, or one clear line."""

from __future__ import annotations

import pytest

from schema.identity.settings import AuthSettings
from schema.invalid_setting import InvalidSetting

SECRET = "a shared secret of the settings tests, 32+ bytes"
NAMES = ("AUTH", "AUTH_JWT_SECRET", "AUTH_JWKS_URL", "AUTH_ISSUER", "AUTH_AUDIENCE")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The process environment without any AUTH_* setting of the machine running the tests."""
    for name in (*NAMES, "AUTH_ROLES_CLAIM"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def refusal(environment: pytest.MonkeyPatch, **settings: str) -> str:
    for name, value in settings.items():
        environment.setenv(name, value)
    with pytest.raises(InvalidSetting) as refused:
        AuthSettings.from_environment()
    message = str(refused.value)
    assert len(message.splitlines()) == 1
    return message


def test_nothing_set_is_unconfigured(environment: pytest.MonkeyPatch) -> None:
    settings = AuthSettings.from_environment()

    assert settings.mode == "unconfigured"
    assert settings.roles_claim == "roles"


def test_empty_values_count_as_unset(environment: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        environment.setenv(name, "")

    assert AuthSettings.from_environment() == AuthSettings()


def test_a_secret_verifies_hs256_and_stays_out_of_the_repr(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("AUTH_JWT_SECRET", SECRET)
    environment.setenv("AUTH_ISSUER", " https://login.example.com/ ")
    environment.setenv("AUTH_AUDIENCE", "orders")
    environment.setenv("AUTH_ROLES_CLAIM", "https://shop.example/roles")

    settings = AuthSettings.from_environment()

    assert settings.mode == "hs256"
    assert settings.jwt_secret == SECRET
    assert (settings.issuer, settings.audience) == ("https://login.example.com/", "orders")
    assert settings.roles_claim == "https://shop.example/roles"
    assert SECRET not in repr(settings)


def test_a_key_set_url_verifies_with_the_jwks(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("AUTH_JWKS_URL", "https://login.example.com/.well-known/jwks.json")

    settings = AuthSettings.from_environment()

    assert settings.mode == "jwks"
    assert settings.jwks_url == "https://login.example.com/.well-known/jwks.json"


@pytest.mark.parametrize("value", ["off", "OFF", " Off "])
def test_auth_off_serves_open_on_purpose(environment: pytest.MonkeyPatch, value: str) -> None:
    environment.setenv("AUTH", value)

    assert AuthSettings.from_environment().mode == "off"
    assert AuthSettings.off().mode == "off"


@pytest.mark.parametrize("value", ["on", "false", "0", "none", "disabled"])
def test_auth_takes_off_or_nothing(environment: pytest.MonkeyPatch, value: str) -> None:
    message = refusal(environment, AUTH=value)

    assert message == f"AUTH must be off or unset, not {value!r}"


def test_a_secret_and_a_key_set_together_are_refused(environment: pytest.MonkeyPatch) -> None:
    message = refusal(
        environment, AUTH_JWT_SECRET=SECRET, AUTH_JWKS_URL="https://login.example.com/jwks"
    )

    assert "AUTH_JWT_SECRET" in message and "AUTH_JWKS_URL" in message
    assert SECRET not in message


def test_a_short_secret_is_refused_and_says_why(environment: pytest.MonkeyPatch) -> None:
    short = "thirty-one bytes of a secret..."
    assert len(short.encode()) == 31

    message = refusal(environment, AUTH_JWT_SECRET=short)

    assert "32 bytes" in message and "HS256" in message
    assert short not in message


def test_a_secret_is_measured_in_bytes() -> None:
    # 16 characters, 32 bytes in UTF-8
    assert AuthSettings(jwt_secret="é" * 16).mode == "hs256"
    with pytest.raises(InvalidSetting):
        AuthSettings(jwt_secret="e" * 31)


@pytest.mark.parametrize(
    "credential",
    [{"AUTH_JWT_SECRET": SECRET}, {"AUTH_JWKS_URL": "https://login.example.com/jwks"}],
)
def test_auth_off_with_a_credential_is_ambiguous(
    environment: pytest.MonkeyPatch, credential: dict[str, str]
) -> None:
    message = refusal(environment, AUTH="off", **credential)

    (name,) = credential
    assert "AUTH=off" in message and name in message
    assert SECRET not in message


@pytest.mark.parametrize(
    "url", ["jwks.json", "ftp://login.example.com/jwks", "file:///etc/jwks.json", "https://"]
)
def test_a_key_set_url_must_be_http(environment: pytest.MonkeyPatch, url: str) -> None:
    message = refusal(environment, AUTH_JWKS_URL=url)

    assert message == f"AUTH_JWKS_URL must be an http(s) URL, not {url!r}"


def test_settings_built_in_code_are_validated_the_same_way() -> None:
    with pytest.raises(InvalidSetting, match="not both"):
        AuthSettings(jwt_secret=SECRET, jwks_url="https://login.example.com/jwks")
    with pytest.raises(InvalidSetting, match="AUTH=off"):
        AuthSettings(jwt_secret=SECRET, disabled=True)
    with pytest.raises(InvalidSetting, match="AUTH_ROLES_CLAIM"):
        AuthSettings(jwt_secret=SECRET, roles_claim="")
