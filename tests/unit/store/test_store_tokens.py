from __future__ import annotations

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from store_fakes import MemoryKeyring

from ctrader_admin.redaction import redact
from ctrader_admin.store.tokens import SERVICE_NAME, TokenStore, insecure_backend_detail

TOKEN = "tok-0123456789abcdef"


class BrokenKeyring(MemoryKeyring):
    """Answers like a locked or vanished Secret Service."""

    def __init__(self) -> None:
        super().__init__()
        self.broken = True

    def get_password(self, service: str, username: str) -> str | None:
        if self.broken:
            raise keyring.errors.KeyringLocked("locked")
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.broken:
            raise keyring.errors.PasswordSetError("dbus went away")
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        if self.broken:
            raise keyring.errors.KeyringError("dbus went away")
        super().delete_password(service, username)


def chainer_of(*members: KeyringBackend) -> chainer.ChainerBackend:
    class Chain(chainer.ChainerBackend):
        backends = tuple(members)  # type: ignore[assignment]

    return Chain()


class PlaintextKeyring(MemoryKeyring):
    pass


# Pretend to come from keyrings.alt without installing it.
PlaintextKeyring.__module__ = "keyrings.alt.file"


def test_uses_the_installed_keyring_by_default(memory_keyring: MemoryKeyring) -> None:
    store = TokenStore()
    assert store.persistent
    assert store.reason is None
    store.set("acme-live", 1234, TOKEN)
    assert memory_keyring.passwords == {(SERVICE_NAME, "acme-live/1234"): TOKEN}
    assert TokenStore().get("acme-live", 1234) == TOKEN


def test_keys_are_per_profile_and_login(memory_keyring: MemoryKeyring) -> None:
    store = TokenStore(memory_keyring)
    store.set("a", 1, "token-a-1")
    store.set("a", 2, "token-a-2")
    store.set("b", 1, "token-b-1")
    fresh = TokenStore(memory_keyring)
    assert fresh.get("a", 1) == "token-a-1"
    assert fresh.get("a", 2) == "token-a-2"
    assert fresh.get("b", 1) == "token-b-1"
    assert fresh.get("b", 2) is None


def test_delete_removes_memory_and_saved_copy(memory_keyring: MemoryKeyring) -> None:
    store = TokenStore(memory_keyring)
    store.set("a", 1, TOKEN)
    store.delete("a", 1)
    assert store.get("a", 1) is None
    assert memory_keyring.passwords == {}
    store.delete("a", 1)  # deleting nothing is fine
    assert store.persistent


def test_remember_false_keeps_memory_only_and_forgets_saved_copy(
    memory_keyring: MemoryKeyring,
) -> None:
    store = TokenStore(memory_keyring)
    store.set("a", 1, "older-token-value")
    store.set("a", 1, TOKEN, remember=False)
    assert store.get("a", 1) == TOKEN
    assert memory_keyring.passwords == {}
    assert TokenStore(memory_keyring).get("a", 1) is None


def test_an_edited_profile_leaves_no_stale_token_in_the_keyring(
    memory_keyring: MemoryKeyring,
) -> None:
    from ctrader_admin.store.profiles import Profile

    old = Profile(
        id="acme-live",
        name="Acme live",
        kind="remote",
        base_url="https://live-acme.webapi.example:8443",
        broker_names=["acme"],
        broker_crm_name="acme_crm",
        manager_login=1234,
    )
    store = TokenStore(memory_keyring)
    store.set(old.id, 1234, TOKEN)
    renamed = old.model_copy(update={"name": "Acme production"})
    assert not store.forget_stale(old, renamed)  # same login, still remembered: kept
    assert TokenStore(memory_keyring).get(old.id, 1234) == TOKEN

    assert store.forget_stale(old, old.model_copy(update={"manager_login": 5678}))
    assert TokenStore(memory_keyring).get(old.id, 1234) is None
    assert store.get(old.id, 1234) == TOKEN  # the session in use keeps its copy

    store.set(old.id, 1234, TOKEN)
    assert store.forget_stale(old, old.model_copy(update={"remember_token": False}))
    assert memory_keyring.passwords == {}


def test_tokens_are_registered_for_redaction(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.passwords[(SERVICE_NAME, "a/1")] = "saved-token-xyz-123"
    TokenStore(memory_keyring).get("a", 1)
    TokenStore(memory_keyring).set("a", 2, "typed-token-abc-456", remember=False)
    assert redact("saved-token-xyz-123 typed-token-abc-456") == "*** ***"


@pytest.mark.parametrize(
    ("backend", "detail"),
    [
        (fail.Keyring(), "no keyring backend was found"),
        (null.Keyring(), "null backend"),
        (PlaintextKeyring(), "keyrings.alt"),
        (chainer_of(), "chains no backend"),
        (chainer_of(fail.Keyring(), null.Keyring(), PlaintextKeyring()), "holds no secure"),
    ],
)
def test_insecure_backends_keep_tokens_in_memory(backend: KeyringBackend, detail: str) -> None:
    assert detail in (insecure_backend_detail(backend) or "")
    store = TokenStore(backend)
    assert not store.persistent
    assert store.reason is not None
    assert store.reason.startswith("No secure system keyring is available (")
    assert store.reason.endswith("the token is kept in memory for this session only.")

    store.set("a", 1, TOKEN)  # fail.Keyring would raise if it were called
    assert store.get("a", 1) == TOKEN
    store.delete("a", 1)
    assert store.get("a", 1) is None
    if isinstance(backend, MemoryKeyring):
        assert backend.passwords == {}  # nothing written to the plaintext file


def test_insecure_default_backend_is_detected() -> None:
    keyring.set_keyring(null.Keyring())  # the conftest fixture restores the previous one
    assert not TokenStore().persistent


def test_chainer_with_a_secure_member_is_secure(memory_keyring: MemoryKeyring) -> None:
    assert insecure_backend_detail(chainer_of(fail.Keyring(), memory_keyring)) is None
    assert insecure_backend_detail(memory_keyring) is None


def test_keyring_errors_degrade_to_memory_and_recover() -> None:
    backend = BrokenKeyring()
    store = TokenStore(backend)
    assert store.persistent  # nothing has failed yet

    store.set("a", 1, TOKEN)
    assert not store.persistent
    assert store.reason is not None
    assert "PasswordSetError" in store.reason
    assert "memory for this session only" in store.reason
    assert store.get("a", 1) == TOKEN  # served from memory
    assert backend.passwords == {}

    assert store.get("b", 2) is None  # reading fails too, without raising
    assert "KeyringLocked" in (store.reason or "")
    store.delete("a", 1)
    assert store.get("a", 1) is None

    backend.broken = False
    store.set("a", 1, TOKEN)
    assert store.persistent
    assert backend.passwords == {(SERVICE_NAME, "a/1"): TOKEN}


def test_the_keyring_is_detected_on_first_use_not_at_start(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = keyring.get_keyring

    def counting() -> KeyringBackend:
        calls.append(1)
        return real()

    monkeypatch.setattr(keyring, "get_keyring", counting)
    store = TokenStore()
    assert calls == []
    assert store.persistent
    assert store.get("a", 1) is None
    store.set("a", 1, TOKEN)
    assert calls == [1]
    assert memory_keyring.passwords == {(SERVICE_NAME, "a/1"): TOKEN}
