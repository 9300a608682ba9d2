"""The provider suite: subclass :class:`ProviderConformance` in a plugin's tests to run every
check of the kit against the plugin, with the carrier mocked by the subclass."""

from __future__ import annotations

import contextlib
import functools
import inspect
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import pytest

from .. import hookspecs
from ..errors import ProviderNotConfigured
from ..models import CallOptions, NumberRef, NumberSearch, VerificationResult, WebhookRequest
from ..plugins import HOOK_CAPABILITY
from . import malformed, results, static
from .common import ERROR_SCENARIOS, ConformanceError, fail
from .kit import Kit, load_entry_point

if TYPE_CHECKING:
    from ..plugins import PluginHost


class ProviderConformance:
    """Subclass as ``TestXxxConformance`` to run the kit against your plugin.

    Set the attributes, and override :meth:`mock_carrier`, :meth:`signed_webhook`,
    :meth:`forged_webhook` (and :meth:`valid_code` when your carrier's code is not fixed).
    Define :meth:`sign_webhook` too, to have signed but malformed bodies checked.
    While a test runs, ``self.host`` is the real host and ``self.plugin`` your plugin instance.
    """

    #: The plugin's entry-point name in the ``trunkline`` group.
    plugin_name: str = ""
    #: The provider name the plugin registers.
    provider: str = ""
    #: The plugin's ``[plugins.<name>]`` table, ``{ env = "NAME" }`` references allowed.
    settings: dict[str, Any] = {}
    #: Environment variables set while the plugin loads (its credentials).
    env: dict[str, str] = {}
    #: A number to verify, and the country asked for coverage and regulations.
    number: str = "+14155550100"
    country: str = "US"
    #: The code ``mock_carrier("verify_code_ok")`` accepts (``None``: the carrier confirms by
    #: itself, e.g. a call-style carrier seen as verified on the next call), and one it refuses.
    code: str | None = "123456"
    wrong_code: str = "000000"
    #: The operation run under the error scenarios.
    error_operation: str = "verify_cli"
    #: The carrier's reference of a bought number (what ``purchase_number`` returns), released
    #: under the ``release`` scenario.
    purchased_ref: str | None = None
    #: The carrier's reference of :attr:`number` as a number it hosts (``NumberRef.provider_ref``),
    #: for ``expected_attestation`` under the ``attestation`` scenario.
    hosted_ref: str | None = None
    #: The destination looked up under the ``lookup`` scenario.
    destination: str = "+14155550123"

    host: PluginHost
    plugin: Any
    trunkline_kit: Kit

    def mock_carrier(self, scenario: str) -> AbstractContextManager[Any]:
        """A context manager under which the carrier answers as ``scenario`` says.

        Scenarios: see :data:`SCENARIOS`. A respx router (``respx.mock(base_url=...)``) is one.
        """
        return contextlib.nullcontext()

    def valid_code(self, started: VerificationResult) -> str | None:
        """The code that completes the verification ``started`` (default: :attr:`code`)."""
        return self.code

    def invalid_code(self, started: VerificationResult) -> str:
        return self.wrong_code

    def signed_webhook(self) -> WebhookRequest:
        """A callback as the carrier sends it, correctly signed with the test settings."""
        raise NotImplementedError(f"{type(self).__name__} must define signed_webhook()")

    def forged_webhook(self) -> WebhookRequest:
        """The same callback with a signature that does not hold."""
        raise NotImplementedError(f"{type(self).__name__} must define forged_webhook()")

    def sign_webhook(self, body: bytes, content_type: str) -> WebhookRequest:
        """Optional: a callback carrying exactly ``body``, sent as ``content_type`` (the
        ``content-type`` header), correctly signed with the test settings as the carrier signs.

        Defined, ``test_webhook_signed_malformed_refused`` signs malformed bodies with it and
        checks ``parse_webhook``'s answers; not defined, that test is skipped.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define sign_webhook()")

    # -- plumbing --------------------------------------------------------------------------

    @pytest.fixture(name="trunkline_kit")
    def _trunkline_kit(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kit]:
        yield from self._start(monkeypatch, self.settings, self.env)

    def _start(
        self, monkeypatch: pytest.MonkeyPatch, settings: dict[str, Any], env: dict[str, str]
    ) -> Iterator[Kit]:
        if not self.plugin_name or not self.provider:
            fail(f"{type(self).__name__} must set plugin_name and provider")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        kit = Kit.start(self.plugin_name, settings)
        self.trunkline_kit, self.host, self.plugin = kit, kit.host, kit.plugin
        try:
            yield kit
        finally:
            kit.close()

    def number_ref(self, status: str = "none", ref: str | None = None, **fields: Any) -> NumberRef:
        """The stored number the kit verifies: one record (same ``id`` and ``workspace_id``)
        for the whole test, in the given state."""
        import phonenumbers

        if not hasattr(self, "_number_ids"):
            self._number_ids = (str(uuid.uuid4()), str(uuid.uuid4()))
        country = phonenumbers.region_code_for_number(phonenumbers.parse(self.number)) or "US"
        return NumberRef(
            id=self._number_ids[0],
            workspace_id=self._number_ids[1],
            phone_e164=self.number,
            country_code=country,
            provider=self.provider,
            verification_status=status,  # type: ignore[arg-type]
            verification_ref=ref,
            **fields,
        )

    def _example_args(self) -> dict[str, Any]:
        """A value for each parameter name the provider hooks take (hooks share their names,
        so a new hook needs an entry here only for a parameter name no hook used before)."""
        return {
            "number": self.number_ref(),
            "code": None,
            "country": self.country,
            "number_type": None,
            "end_user_type": None,
            "query": NumberSearch(country=self.country),
            "e164": self.number,
            "workspace": str(uuid.uuid4()),
            "from_e164": self.number,
            "to_e164": self.number,
            "options": CallOptions(),
            "fields": {"line_type"},
            "last_verified_date": None,
        }

    def _ask(self, kit: Kit, scenario: str | None, operation: str, **given: Any) -> Any:
        """The raw answer of ``operation`` while the carrier answers as ``scenario`` says (no
        mock when ``None``): the arguments its spec takes (``provider`` aside) are ``given``,
        or else the example arguments."""
        examples = {**self._example_args(), **given}
        params = inspect.signature(getattr(hookspecs, operation)).parameters
        args = {name: examples[name] for name in params if name != "provider"}
        with self.mock_carrier(scenario) if scenario else contextlib.nullcontext():
            return kit.call(operation, self.provider, **args)

    def _raised(self, kit: Kit, scenario: str, operation: str) -> BaseException | None:
        """What ``operation`` raised under ``scenario`` (``None``: it returned normally)."""
        try:
            self._ask(kit, scenario, operation)
        except Exception as exc:
            return exc
        return None

    def _capable(self, capability: str) -> None:
        if capability not in self.host.providers[self.provider].capabilities:
            pytest.skip(f"provider {self.provider!r} does not declare {capability!r}")

    def _start_verification(self, kit: Kit) -> VerificationResult:
        return results.check_verification_started(
            self._ask(kit, "verify_start", "verify_cli"), self.provider
        )

    # -- the checks --------------------------------------------------------------------------

    def test_hook_signatures(self) -> None:
        plugin = load_entry_point(self.plugin_name)
        static.check_hook_signatures(plugin, self.plugin_name)
        static.check_imports(plugin, self.plugin_name)

    def test_registration(self, trunkline_kit: Kit) -> None:
        static.check_registration(self.host, self.plugin_name, self.provider)
        static.check_capabilities(self.host, self.plugin_name, self.provider)

    def test_settings_model(self, trunkline_kit: Kit) -> None:
        static.check_settings_model(self.host, self.plugin_name)
        static.check_provider_status(self.host, self.plugin_name, self.provider, configured=True)

    def test_missing_credentials(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without its credentials the plugin loads, says so, and its operations refuse."""
        for key in self.env:
            monkeypatch.delenv(key, raising=False)
        with contextlib.ExitStack() as stack:
            try:
                kit = Kit.start(self.plugin_name, {})
            except ConformanceError as exc:
                fail(f"with an empty [plugins.{self.plugin_name}] table: {exc}")
            stack.callback(kit.close)
            self.host, self.plugin = kit.host, kit.plugin
            model = static.check_settings_model(kit.host, self.plugin_name)
            creds = static.credential_fields(model)
            static.check_provider_status(
                kit.host, self.plugin_name, self.provider, configured=not creds
            )
            if not creds:
                return
            operation = self.error_operation
            raised = self._raised(kit, "server_error", operation)  # no request reaches a carrier
            if not isinstance(raised, ProviderNotConfigured):
                got = "returned normally" if raised is None else f"raised {raised!r}"
                fail(
                    f"with {', '.join(creds)} unset, {operation} {got}; expected "
                    "ProviderNotConfigured"
                )

    def test_verify_start(self, trunkline_kit: Kit) -> None:
        self._capable("verify_cli")
        self._start_verification(trunkline_kit)

    def test_verify_code_ok(self, trunkline_kit: Kit) -> None:
        self._capable("verify_cli")
        started = self._start_verification(trunkline_kit)
        if started.status == "verified":
            return
        number = self.number_ref("pending", started.provider_ref)
        code = self.valid_code(started)
        raw = self._ask(trunkline_kit, "verify_code_ok", "verify_cli", number=number, code=code)
        results.check_verification_completed(raw, self.provider)

    def test_verify_code_wrong_then_restart(self, trunkline_kit: Kit) -> None:
        """A wrong code fails with a detail; a failed verification may start again."""
        self._capable("verify_cli")
        started = self._start_verification(trunkline_kit)
        ref = started.provider_ref
        if started.next_step == "submit_code":  # call-style carriers take no code
            number = self.number_ref("pending", ref)
            code = self.invalid_code(started)
            raw = self._ask(
                trunkline_kit, "verify_code_wrong", "verify_cli", number=number, code=code
            )
            ref = results.check_verification_refused(raw, self.provider).provider_ref or ref
        failed = self.number_ref("failed", ref)
        again = self._ask(trunkline_kit, "verify_start", "verify_cli", number=failed)
        try:
            results.check_verification_started(again, self.provider)
        except ConformanceError as exc:
            fail(f"after a failed verification, starting again: {exc}")

    def test_release_number(self, trunkline_kit: Kit) -> None:
        """A hosted number is given back: the hook answers None."""
        self._capable("release")
        number = self.number_ref(hosted=True, provider_ref=self.purchased_ref)
        results.check_released(self._ask(trunkline_kit, "release", "release_number", number=number))

    def test_coverage_shape(self, trunkline_kit: Kit) -> None:
        self._capable("coverage")
        raw = self._ask(trunkline_kit, "coverage", "list_coverage")
        results.check_coverage(raw, self.provider, self.country)

    def test_regulations_shape(self, trunkline_kit: Kit) -> None:
        self._capable("regulations")
        raw = self._ask(trunkline_kit, "regulations", "fetch_regulations")
        results.check_regulations(raw, self.provider, self.country)

    @pytest.mark.parametrize("scenario", list(ERROR_SCENARIOS))
    def test_error_mapping(self, trunkline_kit: Kit, scenario: str) -> None:
        operation = self.error_operation
        self._capable(HOOK_CAPABILITY[operation])
        results.check_error_mapping(
            scenario, operation, self._raised(trunkline_kit, scenario, operation)
        )

    def test_outbound_permissions_shape(self, trunkline_kit: Kit) -> None:
        """``fetch_outbound_permissions``, when implemented, answers well-formed permissions."""
        self._capable("dialing_permissions")
        raw = self._ask(trunkline_kit, "outbound_permissions", "fetch_outbound_permissions")
        results.check_outbound_permissions(raw, self.provider)

    def test_calling_windows_shape(self, trunkline_kit: Kit) -> None:
        """``calling_windows``, when implemented, is a pure answer of well-formed windows."""
        if "calling_windows" not in static.check_hook_signatures(self.plugin, self.plugin_name):
            return  # optional: the plugin adds no window
        impl = self.plugin.calling_windows
        for country, region in ((self.country, None), ("US", "FL"), ("FR", None)):
            args = {"country_code": country, "region": region}
            params = inspect.signature(impl).parameters
            first = impl(**{k: v for k, v in args.items() if k in params})
            again = impl(**{k: v for k, v in args.items() if k in params})
            windows = results.check_calling_windows(first, country)
            if windows != results.check_calling_windows(again, country):
                fail(f"calling_windows({country!r}, {region!r}) answered differently twice")

    def test_expected_attestation(self, trunkline_kit: Kit) -> None:
        """A hosted number and a verified caller ID each get a level with a basis; the
        verified one is never ``A``."""
        self._capable("attestation")
        hosted = self.number_ref(hosted=True, provider_ref=self.hosted_ref)
        verified = self.number_ref("verified", verified_cli=True)
        for number in (hosted, verified):
            raw = self._ask(trunkline_kit, "attestation", "expected_attestation", number=number)
            results.check_attestation(raw, number)

    def test_lookup_number(self, trunkline_kit: Kit) -> None:
        """The line type of :attr:`destination`, in the core's vocabulary."""
        self._capable("lookup")
        fields = {"line_type"}
        raw = self._ask(trunkline_kit, "lookup", "lookup_number", e164=self.destination)
        results.check_lookup(raw, self.provider, self.destination, fields)

    def test_webhook_signed_accepted(self, trunkline_kit: Kit) -> None:
        self._capable("webhooks")
        raw = self._ask(trunkline_kit, None, "parse_webhook", request=self.signed_webhook())
        results.check_webhook_accepted(raw, self.provider)

    def test_webhook_forged_refused(self, trunkline_kit: Kit) -> None:
        self._capable("webhooks")
        signed = self.signed_webhook()
        forged = self.forged_webhook()
        unsigned = signed.model_copy(
            update={"headers": {k: v for k, v in signed.headers.items() if k == "content-type"}}
        )
        tampered = signed.model_copy(update={"body": signed.body + b" "})
        for what, request in (
            ("a forged signature", forged),
            ("a request without any signature header", unsigned),
            ("a body changed after signing", tampered),
        ):
            results.check_webhook_refused(
                what,
                functools.partial(self._ask, trunkline_kit, None, "parse_webhook", request=request),
            )

    def _sign(self, body: bytes, content_type: str) -> WebhookRequest:
        request = self.sign_webhook(body, content_type)
        if not isinstance(request, WebhookRequest):
            fail(f"sign_webhook() returned {type(request).__name__}, expected a WebhookRequest")
        if request.body != body:
            fail("sign_webhook(body, content_type) returned a request that does not carry body")
        return request

    def test_webhook_signed_malformed_refused(self, trunkline_kit: Kit) -> None:
        """A correctly signed body that is not the carrier's callback raises
        ``WebhookMalformed`` (or, readable but naming nothing, answers well-formed events),
        never the parser's own error."""
        self._capable("webhooks")
        if type(self).sign_webhook is ProviderConformance.sign_webhook:
            pytest.skip(
                f"define {type(self).__name__}.sign_webhook(body, content_type) to check "
                "parse_webhook on signed but malformed bodies"
            )
        ask = functools.partial(self._ask, trunkline_kit, None, "parse_webhook")
        signed = self.signed_webhook()
        content_type = signed.headers.get("content-type") or malformed.JSON
        again = self._sign(signed.body, content_type)
        try:
            results.check_webhook_accepted(ask(request=again), self.provider)
        except Exception as exc:
            fail(
                f"sign_webhook(signed_webhook().body, {content_type!r}) is not accepted as "
                f"signed_webhook() is ({type(exc).__name__}: {exc}): it must sign as the "
                "carrier does"
            )
        for case in malformed.malformed_bodies(signed.body, content_type):
            request = self._sign(case.body, case.content_type)
            results.check_webhook_malformed(
                case.describe(), functools.partial(ask, request=request), self.provider
            )
