from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="sessions_ended_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="上次强制下线"),
        ),
    ]
