"""Positions gain late-payment interest and equalisation figures, with their bounds."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consortium", "0008_notices_start_at_the_head"),
    ]

    operations = [
        migrations.AddField(
            model_name="partnerpositionrow",
            name="equalisation_called_minor",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="partnerpositionrow",
            name="equalisation_interest_paid_minor",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="partnerpositionrow",
            name="equalisation_interest_received_minor",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="partnerpositionrow",
            name="equalisation_owed_minor",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="partnerpositionrow",
            name="late_interest_owed_minor",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="partnerpositionrow",
            name="late_interest_waived_minor",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name="partnerpositionrow",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("late_interest_owed_minor__gte", 0), ("late_interest_waived_minor__gte", 0)
                ),
                name="pos_late_interest_not_negative",
            ),
        ),
        migrations.AddConstraint(
            model_name="partnerpositionrow",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("equalisation_owed_minor__gte", 0),
                    ("equalisation_owed_minor__lte", models.F("equalisation_called_minor")),
                    ("equalisation_interest_paid_minor__gte", 0),
                    ("equalisation_interest_received_minor__gte", 0),
                ),
                name="pos_equalisation_within_bounds",
            ),
        ),
    ]
