"""Failed jobs recorded before issue 8 kept the exception's class, message and a traceback in
`error`, which the job page and the API showed (with server paths). Replace those texts with
the message a failure records now. Not reversible in content: the reverse keeps the new text
(the tracebacks are in the server log of the time)."""

from django.db import migrations

GENERIC = "任务意外出错,没有完成。请重新运行;如果再次出错,请联系管理员"


def clear(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    Job.objects.filter(error__contains="Traceback (most recent call last)").update(error=GENERIC)


class Migration(migrations.Migration):
    dependencies = [("jobs", "0002_add_heartbeat")]

    operations = [migrations.RunPython(clear, migrations.RunPython.noop)]
