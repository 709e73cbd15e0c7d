"""One ordinary table: a commitment stored as a row, as a CRUD service would."""

from django.db import models


class PlainCommitment(models.Model):
    """A commitment as a plain row (no events, no chain, no projections)."""

    consortium = models.CharField(max_length=50)
    commitment_id = models.CharField(max_length=100)
    organisation_id = models.CharField(max_length=100)
    instrument = models.CharField(
        max_length=30,
        choices=[(c, c) for c in ("equity", "asset_contribution", "corporate_partnership")],
    )
    amount = models.DecimalField(max_digits=20, decimal_places=2)
    currency = models.CharField(
        max_length=3, choices=[(c, c) for c in ("USD", "EUR", "GBP", "AED", "JPY")]
    )
    stage = models.CharField(
        max_length=20, choices=[(c, c) for c in ("indicated", "soft_circled", "signed")]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["consortium", "commitment_id"], name="bench_plain_commitment_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.consortium}/{self.commitment_id}"
