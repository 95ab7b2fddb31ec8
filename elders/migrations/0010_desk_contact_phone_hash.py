"""Issue 11 (the hotline): emergency contacts get a keyed lookup hash of their phone, as elders
have, so a caller's number finds the elder whose relative is calling without decrypting anyone.

The data step fills the hash for the contacts already stored: each `phone_enc` is decrypted and
hashed through core.crypto (the number itself is never written anywhere else). Reversing drops
the column, so the data step has nothing to undo.
"""

from django.db import migrations, models

BATCH = 2000


def fill_hashes(apps, schema_editor):
    from core import crypto

    EmergencyContact = apps.get_model("elders", "EmergencyContact")
    pending = EmergencyContact.objects.exclude(phone_enc="").filter(phone_hash="").only("id", "phone_enc")
    changed = []
    for contact in pending.iterator(chunk_size=BATCH):
        contact.phone_hash = crypto.lookup_hash(crypto.decrypt(contact.phone_enc))
        changed.append(contact)
        if len(changed) >= BATCH:
            EmergencyContact.objects.bulk_update(changed, ["phone_hash"])
            changed = []
    if changed:
        EmergencyContact.objects.bulk_update(changed, ["phone_hash"])


class Migration(migrations.Migration):
    dependencies = [
        ("elders", "0009_home_location"),
    ]

    operations = [
        migrations.AddField(
            model_name="emergencycontact",
            name="phone_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddIndex(
            model_name="emergencycontact",
            index=models.Index(fields=["phone_hash"], name="contact_phone_hash"),
        ),
        migrations.RunPython(fill_hashes, migrations.RunPython.noop),
    ]
