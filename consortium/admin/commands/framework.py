"""The small declarative form framework every command form is written in.

A command form is a Django form whose class says everything the workspace needs to
offer it: ``command`` (the service's name, dashed: its URL), ``title``, ``records`` (the
help line: what submitting it records), ``group`` (where the list of forms shows it),
``capability`` (``consortium.roles``, as the API's write view requires), ``stream``
(what it writes: the consortium's stream, an asset's, or a new stream), and
``error_fields`` (a service's field name -> this form's field, where they differ). It
fills its pickers in ``setup`` from ``self.page`` (the current folded state) and makes
its one service call in ``record``.

Every form carries two hidden fields: ``version``, the version of the stream it writes
as rendered (the service is called with it as ``expected_version``: a stream that moved
on is ``StaleVersion``, and the user is asked to confirm), and ``token``, random per
rendering, the idempotency key of the submit (``Actor.keyed``): a double submit records
once and answers the same.
"""

import dataclasses
import secrets
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django import forms
from django.core.validators import RegexValidator
from unfold import widgets as unfold

from consortium import services as s
from consortium.domain import vocabulary
from consortium.domain.errors import DomainError
from consortium.domain.state import AssetState, ConsortiumState
from consortium.domain.values import Holder
from consortium.roles import WRITE

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"  # noqa: S105 (a form token, not a secret)


def new_token() -> str:
    return secrets.token_urlsafe(18)


@dataclasses.dataclass(frozen=True)
class Page:
    """What a form is rendered against: who, where, and the current state it writes."""

    user: Any
    slug: str | None
    state: ConsortiumState | None  # the consortium's current state (None: forming one)
    stream: str | None  # the stream the form writes (None for a new one)
    version: int  # that stream's version now (0 for a new one)
    asset_id: str | None = None
    asset: AssetState | None = None

    @property
    def consortium(self) -> ConsortiumState:
        if self.state is None:
            raise LookupError("This form is not about a consortium.")
        return self.state


# --- fields ------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    """A date typed as ISO (``2025-03-14``), as every page writes dates; a browser's own
    date picker would show it in the browser's locale."""

    def __init__(self) -> None:
        super().__init__(
            attrs={
                "class": " ".join(unfold.INPUT_CLASSES),
                "placeholder": "YYYY-MM-DD",
                "inputmode": "numeric",
                "style": "max-width: 14rem",
            },
            format="%Y-%m-%d",
        )


def date_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=["%Y-%m-%d"],
        widget=DateInput(),
        help_text=help_text,
        error_messages={"invalid": "Enter a date as YYYY-MM-DD, such as 2025-03-14."},
    )


def effective_on(label: str = "Effective date") -> forms.DateField:
    return date_field(label, required=False, help_text="The business date; blank is today.")


def text_field(
    label: str, *, required: bool = True, help_text: str = "", multiline: bool = False
) -> forms.CharField:
    widget = unfold.UnfoldAdminTextareaWidget(attrs={"rows": 3}) if multiline else None
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        strip=True,
        widget=widget or unfold.UnfoldAdminTextInputWidget(),
    )


def id_field(label: str, help_text: str = "Suggested; change it if you like.") -> forms.CharField:
    return text_field(label, help_text=help_text)


class NumberField(forms.CharField):
    """An exact decimal as people write it: ``1,250,000.00`` or ``1250000`` (never a
    float). Beyond ``LIMIT`` digits either side of the point it is no amount anyone
    means; the service's own limits (a currency's minor digits, its largest amount) are
    the service's to state."""

    LIMIT = 24

    def __init__(self, *, example: str = "1,250,000.00", **kwargs: Any) -> None:
        kwargs.setdefault("widget", unfold.UnfoldAdminTextInputWidget())
        super().__init__(**kwargs)
        self.example = example

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        text = str(super().to_python(value) or "").replace(",", "").replace(" ", "")
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise forms.ValidationError(f"Enter a number, such as {self.example}.")
        exponent = number.as_tuple().exponent
        assert isinstance(exponent, int)
        if number.adjusted() >= self.LIMIT or exponent < -self.LIMIT:
            raise forms.ValidationError(
                f"Enter a number of at most {self.LIMIT} digits before and after the "
                f"decimal point, such as {self.example}."
            )
        return number


def amount_field(label: str = "Amount", help_text: str = "") -> NumberField:
    return NumberField(label=label, help_text=help_text)


class Picker(forms.ChoiceField):
    """A choice among what the current state offers. The service is the judge of the
    value (an approved call offered to "approve" is refused in its words, not as "select
    a valid choice"), so any posted value passes here; one not offered is shown as is."""

    def __init__(self, label: str, *, required: bool = True, help_text: str = "") -> None:
        super().__init__(
            label=label,
            required=required,
            help_text=help_text,
            widget=unfold.UnfoldAdminSelectWidget(),
        )

    def valid_value(self, value: Any) -> bool:
        return True


class HolderPicker(Picker):
    """A stake holder, posted as ``consortium:<slug>`` or ``organisation:<id>``."""

    def clean(self, value: Any) -> Holder | None:
        text = super().clean(value)
        if not text:
            return None
        kind, _, identifier = str(text).partition(":")
        try:
            return Holder(kind, identifier)  # type: ignore[arg-type]
        except DomainError as error:
            raise forms.ValidationError(error.message) from None


def choice_field(label: str, choices: list[tuple[str, str]], **kwargs: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, choices=choices, widget=unfold.UnfoldAdminSelectWidget(), **kwargs
    )


def words(values: tuple[str, ...]) -> list[tuple[str, str]]:
    """Vocabulary words as choices: ``soft_circled`` shown as "Soft circled"."""
    return [(value, vocabulary.label(value).capitalize()) for value in values]


# --- the form ----------------------------------------------------------------------------


class CommandForm(forms.Form):
    """One command of ``consortium.services``, as a form (see the module docstring)."""

    command: ClassVar[str]
    title: ClassVar[str]
    records: ClassVar[str]
    group: ClassVar[str]
    capability: ClassVar[str] = WRITE
    stream: ClassVar[str] = "consortium"  # "consortium", "asset" or "new"
    error_fields: ClassVar[Mapping[str, str]] = {}

    token = forms.CharField(widget=forms.HiddenInput, validators=[RegexValidator(TOKEN_PATTERN)])
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        page: Page,
        initial: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            data, initial={**(initial or {}), "token": new_token(), "version": page.version}
        )
        self.page = page
        self.setup()
        if data is not None:
            self._offer_posted_values(data)

    def setup(self) -> None:
        """Fill the pickers and suggest ids from ``self.page``."""

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        """The one service call, with the cleaned data."""
        raise NotImplementedError

    # helpers for setup()
    def offer(
        self, name: str, choices: list[tuple[str, str]], empty: str | None = "Choose…"
    ) -> None:
        """Offer ``choices`` in picker ``name`` (after an empty choice, unless None)."""
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices if empty is None else [("", empty), *choices]

    def suggest(self, name: str, value: Any) -> None:
        self.initial.setdefault(name, value)

    def _offer_posted_values(self, data: Mapping[str, Any]) -> None:
        for name, field in self.fields.items():
            if isinstance(field, Picker):
                posted = data.get(name)
                choices = list(field.choices)  # type: ignore[arg-type]
                if posted and posted not in {str(value) for value, _ in choices}:
                    field.choices = [*choices, (posted, f"{posted} (not offered now)")]

    def refuse(self, error: DomainError) -> None:
        """Show a service's refusal next to the field it concerns, or at the top."""
        self.add_error(self.field_for(error.field or ""), error.message)

    def field_for(self, service_field: str) -> str | None:
        name = self.error_fields.get(service_field, service_field)
        field = self.fields.get(name)
        if field is None or field.widget.is_hidden:
            return None
        return name

    rows: ClassVar[tuple[tuple[str, ...], ...]] = ()  # fields shown side by side

    def layout(self) -> list[list[forms.BoundField]]:
        """The visible fields, one per line except those ``rows`` puts side by side."""
        paired = {name: row for row in self.rows for name in row}
        lines: list[list[forms.BoundField]] = []
        for field in self.visible_fields():
            row = paired.get(field.name)
            if row is None:
                lines.append([field])
            elif field.name == row[0]:
                lines.append([self[name] for name in row])
        return lines

    @property
    def top_errors(self) -> list[str]:
        """Errors not shown beside a visible field: refusals at the top, hidden fields'."""
        found = [str(error) for error in self.non_field_errors()]
        for field in self.hidden_fields():
            found.extend(str(error) for error in field.errors)
        return found
