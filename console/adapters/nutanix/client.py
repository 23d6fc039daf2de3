"""One httpx.AsyncClient per Prism provider: TLS (system CAs or one pinned certificate), Basic auth,
timeouts, connection limits, the retry policy and the mapping of failures to typed errors."""
from __future__ import annotations

import asyncio
import ssl
from typing import Any, Callable

import httpx

from console.domain.errors import ConsoleError, ProtocolError

from .certificates import (
    CertificateInfo,
    fetch_certificate,
    fingerprint_of,
    pinned_ssl_context,
    same_fingerprint,
    system_ssl_context,
    untrusted_error,
)
from .decoding import decode_off_loop
from .errors import http_error, is_certificate_failure, is_connection_reset, transport_error

#: connect 5 s, read 30 s (a v3 list page of 500 VMs takes a few seconds on a busy Prism Central)
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
#: enough parallel requests for paging and task polling, few enough not to flood Prism's gateway
LIMITS = httpx.Limits(max_connections=16, max_keepalive_connections=16, keepalive_expiry=30.0)
#: waits before the 2nd, 3rd... try of a request answered 429/503 or dropped (doubled each time)
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)
#: bodies larger than this (a page of a few hundred VMs) are decoded in a worker thread
BIG_BODY = 64 * 1024
#: longest Retry-After honoured, so one busy answer cannot park a task for minutes
MAX_RETRY_AFTER = 30.0

RequestHook = Callable[[httpx.Request], Any]


class PrismClient:
    """HTTP to one Prism. ``request`` returns the decoded JSON body or raises a ConsoleError."""

    def __init__(self, base_url: str, username: str, password: str, *, where: str,
                 pinned_fingerprint: str = "", client: httpx.AsyncClient | None = None,
                 retry_delays: tuple[float, ...] = RETRY_DELAYS,
                 request_hooks: list[RequestHook] | None = None) -> None:
        self.base_url = base_url
        self.username = username
        self.where = where
        self.pinned_fingerprint = pinned_fingerprint
        self.retry_delays = tuple(retry_delays)
        self.request_count = 0               # every HTTP request sent, retries included
        self._password = password
        self._client = client
        self._owns_client = client is None
        self._hooks = list(request_hooks or [])
        self._lock = asyncio.Lock()
        self._pinned_der: bytes | None = None
        if client is not None:      # a client handed in (tests): count its requests too
            hooks = client.event_hooks
            hooks["request"] = [*hooks.get("request", []), self._count, *self._hooks]
            client.event_hooks = hooks

    # ------------------------------------------------------------------ connection
    async def _ensure_client(self) -> httpx.AsyncClient:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                self._client = httpx.AsyncClient(
                    base_url=self.base_url, auth=httpx.BasicAuth(self.username, self._password),
                    verify=await self._ssl_context(), timeout=TIMEOUT, limits=LIMITS,
                    headers={"Accept": "application/json"},
                    # no proxies or .netrc from the environment: the password goes to Prism only
                    trust_env=False,
                    event_hooks={"request": [self._count, *self._hooks]})
        return self._client

    async def _ssl_context(self) -> ssl.SSLContext:
        if not self.pinned_fingerprint:
            return system_ssl_context()
        # Read the certificate before any request carries the password; trust it only if it is the one
        # the administrator accepted.
        info = await fetch_certificate(self.base_url)
        if not same_fingerprint(info.fingerprint, self.pinned_fingerprint):
            raise untrusted_error(self.where, info, self.pinned_fingerprint)
        self._pinned_der = info.der
        return pinned_ssl_context(info.der)

    async def _count(self, request: httpx.Request) -> None:
        self.request_count += 1

    def _check_peer(self, response: httpx.Response) -> None:
        """With a pin, the certificate of the connection that answered must be the pinned one (the
        context already trusts nothing else; this also refuses a certificate the pinned one signed)."""
        if self._pinned_der is None:
            return
        stream = response.extensions.get("network_stream")
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der is None or not same_fingerprint(fingerprint_of(der), self.pinned_fingerprint):
            raise ProtocolError(f"{self.where} answered over a connection whose certificate is not the "
                                "pinned one.", "Test the connection again to see the certificate.")

    async def certificate_error(self, exc: BaseException) -> ConsoleError:
        """The CertificateNotTrustedError for a failed handshake, with what the server presents."""
        try:
            info: CertificateInfo = await fetch_certificate(self.base_url)
        except ConsoleError as fetch_failure:
            return fetch_failure
        failure = is_certificate_failure(exc)
        reason = str(getattr(failure, "verify_message", "") or "")
        error = untrusted_error(self.where, info, self.pinned_fingerprint, reason)
        error.details = f"{error.details}; {exc}"
        return error

    # ------------------------------------------------------------------ requests
    async def request(self, method: str, path: str, *, what: str, json: Any = None,
                      params: dict[str, Any] | None = None, idempotent: bool | None = None,
                      entity: Callable[[dict], Any] | None = None) -> Any:
        """Send one request with the retry policy and return its JSON body (None when empty).

        ``entity``: a list answer's ``entities`` are converted one by one as they are decoded (in a
        worker thread), so the big decoded dicts never pile up (see decoding.py)."""
        response = await self.send(method, path, what=what, json=json, params=params, idempotent=idempotent)
        if not response.content:
            return None
        try:
            if entity is not None or len(response.content) > BIG_BODY:
                return await decode_off_loop(response.content, entity)
            return response.json()
        except ValueError:
            raise ProtocolError(f"{self.where} answered {what} with something that is not JSON.",
                                "Check that the address is a Prism web console.",
                                details=response.text[:2000]) from None

    async def send(self, method: str, path: str, *, what: str, json: Any = None,
                   params: dict[str, Any] | None = None, idempotent: bool | None = None,
                   accept: tuple[int, ...] = ()) -> httpx.Response:
        """The response itself (for its headers). Statuses in ``accept`` are returned, not raised.

        Retried with back-off: 429 and 503 (Prism did not take the request), and a dropped connection
        when the request is idempotent (GET/PUT/DELETE and list POSTs). Nothing else is retried."""
        client = await self._ensure_client()
        if idempotent is None:
            idempotent = method.upper() in ("GET", "PUT", "DELETE", "HEAD")
        attempt = 0
        while True:
            try:
                response = await self._fetch(client, method, path, json, params)
            except httpx.TransportError as exc:
                if is_certificate_failure(exc):
                    raise await self.certificate_error(exc) from None
                if idempotent and is_connection_reset(exc) and attempt < len(self.retry_delays):
                    await asyncio.sleep(self.retry_delays[attempt])
                    attempt += 1
                    continue
                raise transport_error(exc, self.where, what) from None
            if response.status_code in (429, 503) and attempt < len(self.retry_delays):
                await asyncio.sleep(self._delay(response, attempt))
                attempt += 1
                continue
            if response.is_error and response.status_code not in accept:
                raise http_error(response, self.where, what, self.username)
            return response

    async def _fetch(self, client: httpx.AsyncClient, method: str, path: str, json: Any,
                     params: dict[str, Any] | None) -> httpx.Response:
        """One request, its body read in steps: a 2 MB page otherwise arrives in one long step of
        the loop (the UI thread), as anyio returns buffered data without yielding."""
        request = client.build_request(method, path, json=json, params=params)
        streamed = await client.send(request, stream=True)
        try:
            self._check_peer(streamed)
            parts = []
            async for part in streamed.aiter_bytes():
                parts.append(part)
                await asyncio.sleep(0)
        finally:
            await streamed.aclose()
        # the body is decoded already (gzip): the headers must not ask for it again
        headers = [(k, v) for k, v in streamed.headers.raw
                   if k.lower() not in (b"content-encoding", b"content-length", b"transfer-encoding")]
        return httpx.Response(streamed.status_code, headers=headers, content=b"".join(parts),
                              request=request)

    def _delay(self, response: httpx.Response, attempt: int) -> float:
        delay = self.retry_delays[attempt]
        retry_after = response.headers.get("retry-after", "")
        if retry_after.replace(".", "", 1).isdigit():
            delay = max(delay, min(float(retry_after), MAX_RETRY_AFTER))
        return delay

    def error_for(self, response: httpx.Response, what: str) -> ConsoleError:
        return http_error(response, self.where, what, self.username)

    async def close(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
        self._client = None if self._owns_client else self._client

