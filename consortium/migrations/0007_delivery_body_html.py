"""A delivery keeps the HTML body it was queued with, for every attempt."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("consortium", "0006_reports")]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="body_html",
            field=models.TextField(
                blank=True, help_text="The HTML body, fixed when the delivery is made."
            ),
        ),
    ]
