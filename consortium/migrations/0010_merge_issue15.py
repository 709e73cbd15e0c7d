"""Joins the three migrations of issue 15 (distributions, interest, the period calendar)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("consortium", "0009_dist_distributions"),
        ("consortium", "0009_interest_late_payment_and_equalisation"),
        ("consortium", "0009_periods_calendar"),
    ]

    operations = []
