"""Workspace room: people. Users, their role grants and API clients, for superusers only.

Every other user, staff or not, gets nothing of it: no sidebar entry
(``navigation.ROOMS``), no app on the index, and 403 on its URLs (every permission below
asks ``is_superuser``; Django's model permissions are not consulted). Every change goes
through ``consortium.access_log``, which records it in the ledger (stream ``access``) in
the same transaction, with the acting superuser and ``source: "admin"``:

- a user is created or changed (``changed`` names the fields, ``password`` for a new one);
  users are deactivated, never deleted (events name them);
- a grant is made or revoked, never edited (revoke it and grant the new one): a partner
  grant names its organisation and no other does; a consortium is one the ledger knows,
  or empty for every consortium. A grant never makes anyone staff;
- an API client is created for a user and its key shown once, on the page that answers
  the creation (only its digest is stored); a client is revoked (an action), never
  edited or deleted.

Registered on the workspace by ``consortium.apps`` (the admin's autodiscovery imports
only ``consortium.admin``, which the site's own module is part of).
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, reverse
from django.utils import timezone
from unfold.admin import ModelAdmin, TabularInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from consortium import access_log, formatting
from consortium.models import ApiClient, RoleGrant
from consortium.projections import selectors


def urls() -> list[URLPattern]:
    return []  # the room's pages are the ModelAdmins' below


def _superuser(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and getattr(user, "is_superuser", False))


class SuperusersOnly:
    """Every permission of a ModelAdmin (or inline) answered by ``is_superuser``."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _superuser(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return _superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _superuser(request)


# --- role grants -------------------------------------------------------------------------

ALL_CONSORTIA = "All consortia"


def _consortium_choices() -> list[tuple[str, str]]:
    return [("", ALL_CONSORTIA), *((slug, slug) for slug in selectors.consortia())]


def _organisation_choices() -> list[tuple[str, str]]:
    known = selectors.organisations()
    return [("", "None (not a partner grant)"), *((o, f"{n} ({o})") for o, n in known.items())]


class RoleGrantForm(forms.ModelForm[RoleGrant]):
    """A grant, checked by ``access_log`` (the command line's rules)."""

    organisation_id = forms.ChoiceField(
        choices=_organisation_choices,
        required=False,
        label="Organisation",
        help_text="Only for a partner grant: whose positions and calls the user may read.",
    )
    consortium = forms.ChoiceField(
        choices=_consortium_choices,
        required=False,
        help_text="Where the role applies; empty for every consortium.",
    )

    class Meta:
        model = RoleGrant
        fields = ["user", "role", "organisation_id", "consortium"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            access_log.check_grant(data.get("role") or "", data.get("organisation_id") or "")
        except access_log.GrantRefused as refused:
            field = refused.field if refused.field in self.fields else None
            self.add_error(field, str(refused))
        consortium = data.get("consortium") or ""
        if consortium and not access_log.consortium_known(consortium):
            self.add_error(
                "consortium",
                f"The ledger has no consortium {consortium!r}: choose one, or leave it empty "
                "for every consortium.",
            )
        return data


class RoleGrantInline(SuperusersOnly, TabularInline):  # type: ignore[misc]
    """The user's grants: add or revoke (tick "delete"); existing ones are read-only."""

    model = RoleGrant
    form = RoleGrantForm
    fields = ["role", "organisation_id", "consortium"]
    extra = 0
    verbose_name = "role grant"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a grant is revoked and granted anew, never edited


def _save_grant_changes(request: HttpRequest, formset: Any) -> None:
    """Save a grants formset: each revoked grant and each new one recorded."""
    acting = access_log.Acting.admin(request.user)
    formset.save(commit=False)
    access_log.revoke_grants(acting, formset.deleted_objects)
    for grant in formset.new_objects:
        grant.save()
        access_log.role_granted(acting, grant)


@admin.register(RoleGrant)
class RoleGrantAdmin(SuperusersOnly, ModelAdmin):  # type: ignore[misc]
    form = RoleGrantForm
    list_display = ["user", "role", "organisation", "scope"]
    list_filter = ["role", "consortium"]
    search_fields = ["user__username", "organisation_id", "consortium"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    ordering = ["user__username", "role", "organisation_id", "consortium"]

    @admin.display(description="organisation", ordering="organisation_id")
    def organisation(self, grant: RoleGrant) -> str:
        return grant.organisation_id or "—"

    @admin.display(description="consortium", ordering="consortium")
    def scope(self, grant: RoleGrant) -> str:
        return grant.consortium or ALL_CONSORTIA

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke and grant anew

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.save()
        access_log.role_granted(access_log.Acting.admin(request.user), obj)

    def delete_model(self, request: HttpRequest, obj: RoleGrant) -> None:
        access_log.revoke_grants(access_log.Acting.admin(request.user), [obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RoleGrant]) -> None:
        acting = access_log.Acting.admin(request.user)
        access_log.revoke_grants(acting, queryset.select_related("user"))


# --- users -------------------------------------------------------------------------------

# A form's fields as the event names them: the creation form's password fields are one.
_PASSWORD_FIELDS = {"password1", "password2", "usable_password"}


def _changed_fields(form: Any) -> list[str]:
    names = {"password" if n in _PASSWORD_FIELDS else n for n in form.changed_data}
    return sorted(names)


admin.site.unregister(User)
admin.site.unregister(Group)  # roles are grants, not groups or model permissions


@admin.register(User)
class UserAdmin(SuperusersOnly, DjangoUserAdmin[User], ModelAdmin):  # type: ignore[misc]
    """Django's user admin in the workspace's theme, with the user's role grants."""

    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    inlines = [RoleGrantInline]
    list_display = [
        "username",
        "full_name",
        "email",
        "roles",
        "is_active",
        "is_staff",
        "is_superuser",
        "last_signed_in",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser", "role_grants__role"]
    search_fields = ["username", "first_name", "last_name", "email"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "email"]}),
        (
            "Access",
            {
                "fields": ["is_active", "is_staff", "is_superuser"],
                "description": "Staff with a deal_team, finance or auditor grant may use the "
                "workspace; superusers also manage users, grants and API clients. A partner "
                "user is not staff: it signs in to the partner view (/partner/).",
            },
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("role_grants")

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list[Any]:
        return list(self.inlines) if obj is not None else []  # grants once the user exists

    @admin.display(description="last sign-in", ordering="last_login")
    def last_signed_in(self, user: User) -> str:
        return formatting.iso(user.last_login) if user.last_login else "never"

    @admin.display(description="name")
    def full_name(self, user: User) -> str:
        return user.get_full_name()

    @admin.display(description="roles")
    def roles(self, user: User) -> str:
        return ", ".join(g.describe() for g in user.role_grants.all()) or "—"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: the history names people

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        acting = access_log.Acting.admin(request.user)
        if change:
            access_log.user_changed(acting, obj, _changed_fields(form))
        else:
            set_fields = [name for name in _changed_fields(form) if name != "username"]
            access_log.user_created(acting, obj, set_fields)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is RoleGrant:
            _save_grant_changes(request, formset)
        else:
            super().save_formset(request, form, formset, change)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """Django's password page, its change recorded in the same transaction."""
        with transaction.atomic():
            before = User.objects.filter(pk=id).values_list("password", flat=True).first()
            response = super().user_change_password(request, id, form_url)
            user = User.objects.filter(pk=id).first()
            if user is not None and before is not None and user.password != before:
                access_log.user_changed(access_log.Acting.admin(request.user), user, ["password"])
        return response


# --- API clients -------------------------------------------------------------------------


class ApiClientForm(forms.ModelForm[ApiClient]):
    class Meta:
        model = ApiClient
        fields = ["name", "user", "expires_at"]
        help_texts = {
            "name": "Names the system that uses the key, e.g. treasury-erp.",
            "user": "The key acts as this user, with its role grants.",
            "expires_at": "Optional: the key stops working then.",
        }


@admin.register(ApiClient)
class ApiClientAdmin(SuperusersOnly, ModelAdmin):  # type: ignore[misc]
    form = ApiClientForm
    list_display = ["name", "user", "key_prefix", "state", "created", "expires"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username", "key_prefix"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    readonly_fields = ["key_prefix", "created_at", "revoked_at"]
    ordering = ["name"]
    actions = ["revoke"]

    @admin.display(description="created", ordering="created_at")
    def created(self, client: ApiClient) -> str:
        return formatting.iso(client.created_at)

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, client: ApiClient) -> str:
        return formatting.iso(client.expires_at) if client.expires_at else "never"

    @admin.display(description="state")
    def state(self, client: ApiClient) -> str:
        if client.revoked_at is not None:
            return f"revoked {formatting.iso(client.revoked_at)}"
        if client.expires_at is not None and client.expires_at <= timezone.now():
            return "expired"
        return "active"

    def get_fields(self, request: HttpRequest, obj: ApiClient | None = None) -> list[Any]:
        if obj is None:
            return ["name", "user", "expires_at"]
        return ["name", "user", "key_prefix", "created_at", "expires_at", "revoked_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # no key editing: revoke and create a new client

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked, never deleted

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return _superuser(request)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        client, key = access_log.create_api_client(
            access_log.Acting.admin(request.user),
            name=obj.name,
            user=obj.user,
            expires_at=obj.expires_at,
        )
        obj.pk, obj.key_prefix, obj.created_at = client.pk, client.key_prefix, client.created_at
        setattr(request, _NEW_KEY, key)  # for ``response_add``, the one page that shows it

    def response_add(
        self, request: HttpRequest, obj: ApiClient, post_url_continue: str | None = None
    ) -> HttpResponse:
        """The key, shown once: this page answers the creation and is never stored."""
        key = getattr(request, _NEW_KEY)
        context = {
            **self.admin_site.each_context(request),
            "title": f"API client {obj.name}: its key",
            "opts": self.opts,
            "client": obj,
            "key": key,
            "grants": [g.describe() for g in obj.user.role_grants.all()],
            "user_url": reverse("admin:auth_user_change", args=[obj.user.pk]),
            "list_url": reverse("admin:consortium_apiclient_changelist"),
        }
        response = render(request, "workspace/people/api_client_key.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected API clients", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        revoked = access_log.revoke_api_clients(access_log.Acting.admin(request.user), queryset)
        names = ", ".join(client.name for client in revoked) or "none (already revoked)"
        self.message_user(request, f"Revoked: {names}.", messages.SUCCESS)


_NEW_KEY = "_consortium_new_api_key"
