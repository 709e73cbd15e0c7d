"""Workspace room: recipients and payment instructions, per consortium.

``admin:workspace-recipients`` lists the consortia the user may read; a consortium's page
(``admin:workspace-recipients-consortium``) shows:

- **Payment instructions**: the instruction in force (printed on every capital call
  notice), the proposals awaiting a second person, each field beside the one in force
  with the changes highlighted, and the decisions made. A deal-team member proposes new
  instructions; *another* person of the deal team or finance approves or rejects them
  (bank details are treasury's to check too): the proposer sees no
  button (the service refuses them anyway, and so does the database).
- **Partner recipients**: who at each partner receives its statements and notices; a
  deal-team member adds, changes and deactivates them (never deletes: deliveries name the
  address they went to).

Readers (finance, auditor) see everything and change nothing. Every change goes through
``consortium.reports.instructions``; a refusal is shown on the form with its reason.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from unfold import widgets as unfold

from consortium import roles
from consortium.admin.journal import readable_consortia
from consortium.models import PartnerRecipient, PaymentInstruction
from consortium.reports import instructions as i
from consortium.streams import load_consortium


def urls() -> list[URLPattern]:
    return [
        path("recipients/", index, name="workspace-recipients"),
        path("recipients/<slug:slug>/", consortium_page, name="workspace-recipients-consortium"),
        path("recipients/<slug:slug>/add/", recipient_add, name="workspace-recipient-add"),
        path(
            "recipients/<slug:slug>/<int:recipient_id>/change/",
            recipient_change,
            name="workspace-recipient-change",
        ),
        path(
            "recipients/<slug:slug>/<int:recipient_id>/deactivate/",
            recipient_deactivate,
            name="workspace-recipient-deactivate",
        ),
        path(
            "recipients/<slug:slug>/payment-instructions/propose/",
            instruction_propose,
            name="workspace-instruction-propose",
        ),
        path(
            "recipients/<slug:slug>/payment-instructions/<int:instruction_id>/decide/",
            instruction_decide,
            name="workspace-instruction-decide",
        ),
    ]


# --- who may ------------------------------------------------------------------------------


def _readable(request: HttpRequest, slug: str) -> str:
    """The consortium's name; 404 when unknown, 403 when the user may not read it."""
    state = load_consortium(slug).state
    if not state.is_formed:
        raise Http404(f"There is no consortium {slug!r}.")
    if slug not in readable_consortia(request.user, [slug]):
        raise PermissionDenied("Your role does not allow you to see this consortium.")
    return state.name


def may_change(user: Any, slug: str) -> bool:
    """Deal-team members change recipients and propose payment instructions."""
    return roles.has_capability(user, roles.WRITE, slug)


def may_decide(user: Any, slug: str) -> bool:
    """Deal team and finance approve or reject payment instructions (never their own:
    the service and the database refuse the proposer)."""
    return roles.has_capability(user, roles.FINANCE_WRITE, slug)


def _writable(request: HttpRequest, slug: str) -> str:
    name = _readable(request, slug)
    if not may_change(request.user, slug):
        raise PermissionDenied(
            f"Only the deal team changes recipients and payment instructions in {name}."
        )
    return name


def pending_for(user: Any) -> int:
    """Proposals this user may decide (deal team or finance, not the proposer): the
    sidebar's badge."""
    if not getattr(user, "is_authenticated", False):
        return 0
    pending = PaymentInstruction.objects.filter(status="proposed").exclude(proposed_by=user)
    slugs = set(pending.values_list("consortium", flat=True))
    mine = [slug for slug in slugs if may_decide(user, slug)]
    return pending.filter(consortium__in=mine).count()


# --- pages --------------------------------------------------------------------------------


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    rows = []
    for slug in readable_consortia(request.user):
        rows.append(
            {
                "slug": slug,
                "name": load_consortium(slug).state.name,
                "in_force": i.payment_instruction_in_force(slug),
                "pending": PaymentInstruction.objects.filter(
                    consortium=slug, status="proposed"
                ).count(),
                "recipients": PartnerRecipient.objects.filter(consortium=slug, active=True).count(),
                "link": reverse("admin:workspace-recipients-consortium", args=[slug]),
            }
        )
    context = {
        **admin.site.each_context(request),
        "title": "Recipients and payment instructions",
        "crumbs": [("Recipients and payment instructions", None)],
        "rows": rows,
    }
    return render(request, "workspace/recipients/index.html", context)


@require_GET
def consortium_page(request: HttpRequest, slug: str) -> HttpResponse:
    name = _readable(request, slug)
    user, writer = request.user, may_change(request.user, slug)
    decider = may_decide(user, slug)
    in_force = i.payment_instruction_in_force(slug)
    instructions = PaymentInstruction.objects.filter(consortium=slug).select_related(
        "proposed_by", "decided_by"
    )
    proposals = [
        {
            "instruction": proposal,
            "differences": i.differences(proposal, in_force),
            "may_decide": decider and proposal.proposed_by_id != user.pk,
            "own": proposal.proposed_by_id == user.pk,
            "decide": reverse("admin:workspace-instruction-decide", args=[slug, proposal.pk]),
        }
        for proposal in instructions.filter(status="proposed").order_by("proposed_at", "id")
    ]
    decided = instructions.exclude(status="proposed").order_by("-decided_at", "-id")
    partners = i.partners_of(slug)
    recipients = PartnerRecipient.objects.filter(consortium=slug)
    by_partner = [
        {
            "organisation_id": org,
            "name": partner_name,
            "recipients": [r for r in recipients if r.organisation_id == org],
        }
        for org, partner_name in partners.items()
    ]
    context = {
        **admin.site.each_context(request),
        "title": f"Recipients and payment instructions: {name}",
        "crumbs": _crumbs(slug, name),
        "slug": slug,
        "consortium": name,
        "writer": writer,
        "in_force": in_force,
        "proposals": proposals,
        "decided": decided,
        "partners": by_partner,
        "propose": reverse("admin:workspace-instruction-propose", args=[slug]),
        "add": reverse("admin:workspace-recipient-add", args=[slug]),
    }
    return render(request, "workspace/recipients/consortium.html", context)


def _crumbs(slug: str, name: str, *more: str) -> list[tuple[str, str | None]]:
    crumbs: list[tuple[str, str | None]] = [
        ("Recipients and payment instructions", reverse("admin:workspace-recipients")),
        (name, reverse("admin:workspace-recipients-consortium", args=[slug]) if more else None),
    ]
    crumbs.extend((title, None) for title in more)
    return crumbs


def _back(slug: str, anchor: str) -> HttpResponseRedirect:
    url = reverse("admin:workspace-recipients-consortium", args=[slug])
    return HttpResponseRedirect(f"{url}#{anchor}")


# --- forms --------------------------------------------------------------------------------


def _text(label: str, *, required: bool = True, help_text: str = "", **kw: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        widget=unfold.UnfoldAdminTextInputWidget(),
        **kw,
    )


def _switch(label: str) -> forms.BooleanField:
    return forms.BooleanField(
        label=label, required=False, initial=True, widget=unfold.UnfoldBooleanSwitchWidget()
    )


class RecipientForm(forms.Form):
    """Someone at a partner (the partner is chosen only when adding)."""

    organisation_id = forms.ChoiceField(label="Partner", widget=unfold.UnfoldAdminSelectWidget())
    email = _text("E-mail address", max_length=254)
    name = _text("Name", required=False, max_length=200, help_text="Optional: a person or desk.")
    receives_statements = _switch("Receives partner statements")
    receives_notices = _switch("Receives capital call notices")
    active = _switch("Active")

    def __init__(self, *args: Any, partners: dict[str, str], adding: bool, **kw: Any) -> None:
        super().__init__(*args, **kw)
        field = self.fields["organisation_id"]
        assert isinstance(field, forms.ChoiceField)
        named = [(org, f"{name} ({org})") for org, name in partners.items()]
        field.choices = [("", "Choose a partner"), *named]
        if adding:
            del self.fields["active"]
        else:
            del self.fields["organisation_id"]


class InstructionForm(forms.Form):
    beneficiary = _text("Beneficiary", max_length=200, help_text="The account holder's name.")
    bank = _text("Bank", max_length=200)
    account = _text("Account (IBAN or account number)", max_length=64)
    bic = _text("BIC (SWIFT)", max_length=11, help_text="8 or 11 characters, such as CHASUS33.")
    reference = _text(
        "Reference",
        required=False,
        max_length=200,
        help_text="What payers quote; each notice adds the call id.",
    )


def _refused(form: forms.Form, refusal: i.InstructionError) -> None:
    form.add_error(refusal.field if refusal.field in form.fields else None, str(refusal))


def _form_page(
    request: HttpRequest, form: forms.Form, *, title: str, records: str, crumbs: list[Any]
) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": title,
        "records": records,
        "crumbs": crumbs,
        "form": form,
        "submit_label": title,
        "cancel": crumbs[1][1] if len(crumbs) > 1 else None,
    }
    return render(request, "workspace/recipients/form.html", context)


@require_http_methods(["GET", "POST"])
def recipient_add(request: HttpRequest, slug: str) -> HttpResponse:
    name = _writable(request, slug)
    form = RecipientForm(
        request.POST if request.method == "POST" else None,
        partners=i.partners_of(slug),
        adding=True,
        initial={"organisation_id": request.GET.get("partner", "")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            added = i.partner_recipient_add(consortium=slug, **form.cleaned_data)
        except i.InstructionError as refusal:
            _refused(form, refusal)
        else:
            said = f"{added.email} now receives {added.organisation_id}'s reports."
            messages.success(request, said)
            return _back(slug, f"partner-{added.organisation_id}")
    return _form_page(
        request,
        form,
        title="Add a recipient",
        records=f"Someone at a partner of {name} who receives its statements or notices.",
        crumbs=_crumbs(slug, name, "Add a recipient"),
    )


@require_http_methods(["GET", "POST"])
def recipient_change(request: HttpRequest, slug: str, recipient_id: int) -> HttpResponse:
    name = _writable(request, slug)
    recipient = _recipient(slug, recipient_id)
    initial = {
        field: getattr(recipient, field)
        for field in ("email", "name", "receives_statements", "receives_notices", "active")
    }
    form = RecipientForm(
        request.POST if request.method == "POST" else None,
        partners=i.partners_of(slug),
        adding=False,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            i.partner_recipient_change(recipient_id=recipient.pk, **form.cleaned_data)
        except i.InstructionError as refusal:
            _refused(form, refusal)
        else:
            messages.success(request, f"Recipient {form.cleaned_data['email']} changed.")
            return _back(slug, f"partner-{recipient.organisation_id}")
    return _form_page(
        request,
        form,
        title="Change the recipient",
        records=f"{recipient.email}, at {recipient.organisation_id} in {name}.",
        crumbs=_crumbs(slug, name, f"Change {recipient.email}"),
    )


@require_POST
def recipient_deactivate(request: HttpRequest, slug: str, recipient_id: int) -> HttpResponse:
    _writable(request, slug)
    recipient = i.partner_recipient_deactivate(recipient_id=_recipient(slug, recipient_id).pk)
    messages.success(request, f"{recipient.email} receives nothing more (kept in the record).")
    return _back(slug, f"partner-{recipient.organisation_id}")


def _recipient(slug: str, recipient_id: int) -> PartnerRecipient:
    found = PartnerRecipient.objects.filter(consortium=slug, pk=recipient_id).first()
    if found is None:
        raise Http404(f"There is no recipient {recipient_id} in {slug}.")
    return found


@require_http_methods(["GET", "POST"])
def instruction_propose(request: HttpRequest, slug: str) -> HttpResponse:
    name = _writable(request, slug)
    in_force = i.payment_instruction_in_force(slug)
    form = InstructionForm(
        request.POST if request.method == "POST" else None,
        initial=i.details_of(in_force) if in_force else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            i.payment_instruction_propose(consortium=slug, by=request.user, **form.cleaned_data)
        except i.InstructionError as refusal:
            _refused(form, refusal)
        else:
            messages.success(
                request,
                "Payment instructions proposed: they take effect once another deal-team "
                "member approves them.",
            )
            return _back(slug, "payment-instructions")
    return _form_page(
        request,
        form,
        title="Propose payment instructions",
        records=(
            f"Where partners pay {name}'s capital calls, printed on every notice. They take "
            "effect only when another person of the deal team or finance approves them."
        ),
        crumbs=_crumbs(slug, name, "Propose payment instructions"),
    )


@require_POST
def instruction_decide(request: HttpRequest, slug: str, instruction_id: int) -> HttpResponse:
    name = _readable(request, slug)
    if not may_decide(request.user, slug):
        raise PermissionDenied(
            f"Only the deal team and finance approve payment instructions in {name}."
        )
    if not PaymentInstruction.objects.filter(consortium=slug, pk=instruction_id).exists():
        raise Http404(f"There are no payment instructions {instruction_id} in {slug}.")
    decision = request.POST.get("decision")
    decide = {
        "approve": i.payment_instruction_approve,
        "reject": i.payment_instruction_reject,
    }.get(decision or "")
    if decide is None:
        messages.error(request, "Choose approve or reject.")
        return _back(slug, "payment-instructions")
    try:
        decided = decide(instruction_id=instruction_id, by=request.user)
    except i.InstructionError as refusal:
        messages.error(request, str(refusal))
    else:
        if decided.status == "approved":
            messages.success(request, "Approved: these payment instructions are now in force.")
        else:
            messages.success(request, "Rejected: the instructions in force stay.")
    return _back(slug, "payment-instructions")
