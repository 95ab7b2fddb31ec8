from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_sessions_ended_at"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="loginattempt",
            index=models.Index(fields=["ip", "at"], name="accounts_lo_ip_4f632b_idx"),
        ),
    ]
