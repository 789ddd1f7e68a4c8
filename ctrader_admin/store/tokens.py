"""Manager tokens: in the system keyring when a secure one exists, else in memory only.

Never a silent plaintext fallback: the fail and null backends and everything from keyrings.alt
(plaintext or weakly encrypted files) count as "no secure keyring", and ``reason`` says so for the
UI. Keyring calls may block on D-Bus; callers run this class in an executor. The keyring package
is imported, and its backend detected, on first use: not while the app starts.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from ctrader_admin import APP_NAME
from ctrader_admin.redaction import register_secret

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from ctrader_admin.store.profiles import Profile

log = logging.getLogger(__name__)

SERVICE_NAME = APP_NAME
_MEMORY_ONLY = "the token is kept in memory for this session only."


def insecure_backend_detail(backend: Any) -> str | None:
    """Why ``backend`` must not hold tokens, or None when it is a real secure keyring."""
    from keyring.backends import chainer, fail, null

    if isinstance(backend, chainer.ChainerBackend):
        members = list(backend.backends)
        details = [insecure_backend_detail(member) for member in members]
        if all(details):
            inner = "; ".join(d for d in details if d) or "it chains no backend"
            return f"the keyring chain holds no secure backend: {inner}"
        return None
    if isinstance(backend, fail.Keyring):
        return "no keyring backend was found"
    if isinstance(backend, null.Keyring):
        return "the keyring is disabled (null backend)"
    module = type(backend).__module__
    if module == "keyrings.alt" or module.startswith("keyrings.alt."):
        name = type(backend).__name__
        return f"{name} from keyrings.alt keeps secrets in a plain or weakly encrypted file"
    return None


def _no_secure_keyring(detail: str) -> str:
    return f"No secure system keyring is available ({detail}); {_MEMORY_ONLY}"


class TokenStore:
    """Tokens keyed by (profile id, manager login). Thread-safe, synchronous."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        # The system keyring is detected on first use (detection imports every installed backend
        # and can take a noticeable part of a second), once per store: a test's
        # keyring.set_keyring() applies to stores not used yet.
        self._given = backend
        self._resolved: tuple[KeyringBackend, str | None] | None = None
        self._resolve_lock = threading.Lock()
        self._call_reason: str | None = None
        self._memory: dict[str, str] = {}
        self._lock = threading.Lock()

    def _resolve(self) -> tuple[KeyringBackend, str | None]:
        resolved = self._resolved
        if resolved is None:
            with self._resolve_lock:
                resolved = self._resolved
                if resolved is None:
                    if self._given is not None:
                        backend = self._given
                    else:
                        import keyring

                        backend = keyring.get_keyring()
                    detail = insecure_backend_detail(backend)
                    resolved = (backend, _no_secure_keyring(detail) if detail else None)
                    self._resolved = resolved
        return resolved

    @property
    def _backend(self) -> KeyringBackend:
        return self._resolve()[0]

    @property
    def _backend_reason(self) -> str | None:
        return self._resolve()[1]

    @property
    def persistent(self) -> bool:
        """True when tokens are saved across sessions (a secure keyring that answered)."""
        return self.reason is None

    @property
    def reason(self) -> str | None:
        """A sentence for the UI when tokens cannot be saved; None when they can."""
        return self._backend_reason or self._call_reason

    @property
    def backend_name(self) -> str:
        """The keyring that holds the tokens, in words (Help → About). May block on D-Bus."""
        backend = self._backend
        name = str(getattr(backend, "name", type(backend).__name__))
        if self.reason is not None:
            return f"none in use: {self.reason} (found: {name})"
        return name

    @staticmethod
    def _key(profile_id: str, manager_login: int) -> str:
        return f"{profile_id}/{manager_login}"

    @staticmethod
    def _proxy_key(profile_id: str) -> str:
        return f"{profile_id}/proxy"

    def get(self, profile_id: str, manager_login: int) -> str | None:
        return self._get(self._key(profile_id, manager_login))

    def get_proxy_password(self, profile_id: str) -> str | None:
        """The password of the profile's proxy; cached in memory after the first read, so the
        client factory can take it without a keyring call (Backoffice reads it off the loop)."""
        return self._get(self._proxy_key(profile_id))

    def set_proxy_password(self, profile_id: str, password: str | None) -> None:
        """Keep the proxy's password (always remembered: the app cannot ask at every start);
        None or empty removes it."""
        key = self._proxy_key(profile_id)
        if password:
            self._set(key, password, remember=True)
        else:
            self._forget(key)

    def get_team_password(self, keyring_key: str) -> str | None:
        """The password of a team database user (``TeamSettings.keyring_key``)."""
        return self._get(keyring_key)

    def set_team_password(self, keyring_key: str, password: str | None) -> None:
        """Keep a team database user's password (always remembered, like the proxy's); None or
        empty removes it."""
        if password:
            self._set(keyring_key, password, remember=True)
        else:
            self._forget(keyring_key)

    def _get(self, key: str) -> str | None:
        with self._lock:
            token = self._memory.get(key)
        if token is not None or self._backend_reason:
            return token
        import keyring.errors

        try:
            token = self._backend.get_password(SERVICE_NAME, key)
        except keyring.errors.KeyringError as exc:
            self._failed("read", exc)
            return None
        self._call_reason = None
        if token:
            register_secret(token)
            with self._lock:
                self._memory[key] = token
        return token or None

    def set(
        self, profile_id: str, manager_login: int, token: str, *, remember: bool = True
    ) -> None:
        """Keep ``token`` for this session; also in the keyring when ``remember`` and secure.

        ``remember=False`` also removes any copy saved earlier: "do not remember" must hold at the
        next start too.
        """
        self._set(self._key(profile_id, manager_login), token, remember=remember)

    def _set(self, key: str, token: str, *, remember: bool) -> None:
        register_secret(token)
        with self._lock:
            self._memory[key] = token
        if self._backend_reason:
            return
        if not remember:
            self._delete_saved(key)
            return
        import keyring.errors

        try:
            self._backend.set_password(SERVICE_NAME, key, token)
        except keyring.errors.KeyringError as exc:
            self._failed("save", exc)
            return
        self._call_reason = None

    def delete(self, profile_id: str, manager_login: int) -> None:
        self._forget(self._key(profile_id, manager_login))

    def _forget(self, key: str) -> None:
        with self._lock:
            self._memory.pop(key, None)
        if not self._backend_reason:
            self._delete_saved(key)

    def forget_stale(self, old: Profile, new: Profile) -> bool:
        """After ``old`` was edited into ``new``: a token saved for a manager login the profile
        no longer uses, or that it must no longer remember, leaves the keyring (the session in
        use keeps its own copy). True when there was one to forget."""
        if old.manager_login is None or self._backend_reason:
            return False
        login_changed = old.manager_login != new.manager_login
        if not login_changed and (new.remember_token or not old.remember_token):
            return False
        self._delete_saved(self._key(old.id, old.manager_login))
        return True

    def _delete_saved(self, key: str) -> None:
        import keyring.errors

        try:
            self._backend.delete_password(SERVICE_NAME, key)
        except keyring.errors.PasswordDeleteError:
            pass  # nothing was saved: the wanted end state
        except keyring.errors.KeyringError as exc:
            self._failed("delete", exc)
            return
        self._call_reason = None

    def _failed(self, action: str, exc: Exception) -> None:
        # The exception text can come from a D-Bus service; only its type is logged.
        log.warning(
            "Keyring %s failed (%s); keeping the token in memory", action, type(exc).__name__
        )
        self._call_reason = (
            f"The system keyring did not answer ({type(exc).__name__}); {_MEMORY_ONLY}"
        )
