"""The newsletter pages' forms: subscribe (email, consent) and preferences (subscription, books, fields)."""

from __future__ import annotations

from typing import Any

from django import forms

from dotsync.storefront.newsletter.service import USER_ATTRIBUTES

FIELD_LABELS: dict[str, str] = {"firstname": "First name", "lastname": "Last name"}


class SubscribeForm(forms.Form):
    """An email, and the store's consent text to tick when consent is on (``consent_text`` non-empty)."""

    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    def __init__(self, *args: Any, consent_text: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consent_text = consent_text
        if consent_text:
            self.fields["consent"] = forms.BooleanField(required=True, label=consent_text)


class PreferencesForm(forms.Form):
    """Subscribed or not, one checkbox per offered address book, one text box per editable data field."""

    subscribed = forms.BooleanField(required=False, label="Subscribe to our newsletter")

    def __init__(
        self,
        *args: Any,
        books: tuple[tuple[int, str], ...] = (),
        fields: tuple[str, ...] = (),
        consent_text: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.consent_text = consent_text
        if consent_text:  # to tick when subscribing here, as on the subscribe form
            self.fields["consent"] = forms.BooleanField(required=False, label=consent_text)
        self.book_ids = [book for book, _ in books]
        self.field_keys = [key for key in fields if key in USER_ATTRIBUTES]
        for book, label in books:
            self.fields[f"book_{book}"] = forms.BooleanField(required=False, label=label)
        for key in self.field_keys:
            self.fields[f"field_{key}"] = forms.CharField(
                required=False, max_length=150, label=FIELD_LABELS.get(key, key)
            )

    def clean(self) -> dict[str, Any]:
        """Subscribing here (not subscribed before) needs the consent ticked when the store asks for it."""
        cleaned = super().clean() or {}
        newly = cleaned.get("subscribed") and not self.initial.get("subscribed")
        if newly and self.consent_text and not cleaned.get("consent"):
            self.add_error("consent", "Please tick this box to subscribe.")
        return cleaned

    def subscribing(self) -> bool:
        """Whether the post subscribes a customer who was not subscribed (after validation)."""
        return bool(self.cleaned_data.get("subscribed")) and not self.initial.get("subscribed")

    def book_fields(self) -> list[forms.BoundField]:
        """The address-book checkboxes, for the template."""
        return [self[f"book_{book}"] for book in self.book_ids]

    def data_fields(self) -> list[forms.BoundField]:
        """The data-field text boxes, for the template."""
        return [self[f"field_{key}"] for key in self.field_keys]

    def wanted_books(self) -> dict[int, bool]:
        """Address book id -> ticked (after validation)."""
        return {book: bool(self.cleaned_data.get(f"book_{book}")) for book in self.book_ids}

    def field_values(self) -> dict[str, str]:
        """Data-field key -> the value typed (after validation)."""
        return {key: str(self.cleaned_data.get(f"field_{key}") or "").strip() for key in self.field_keys}
